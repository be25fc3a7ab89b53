package recipe_test

import (
	"context"
	"fmt"
	"os"
	"strings"
	"testing"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"coopcloud.tech/ccci-controller/internal/recipe"
)

// holderEnv makes the test binary act as a second process that checks out a commit and holds
// the tree until its standard input closes: "cacheDir|url|commit".
const holderEnv = "RECIPE_TEST_HOLD_CHECKOUT"

func TestRecipe(t *testing.T) {
	if args := os.Getenv(holderEnv); args != "" {
		holdCheckout(args)
		return
	}
	RegisterFailHandler(Fail)
	RunSpecs(t, "Recipe Suite")
}

func holdCheckout(args string) {
	parts := strings.SplitN(args, "|", 3)
	cacheDir, url, commit := parts[0], parts[1], parts[2]
	ctx := context.Background()
	src, err := recipe.Open(ctx, "sample", url, recipe.Options{CacheDir: cacheDir, KeepTrees: -1})
	if err != nil {
		fmt.Println("error:", err)
		os.Exit(1)
	}
	co, err := src.Checkout(ctx, commit)
	if err != nil {
		fmt.Println("error:", err)
		os.Exit(1)
	}
	fmt.Println("holding", co.Dir)
	_, _ = os.Stdin.Read(make([]byte, 1))
	co.Release()
	fmt.Println("released")
	os.Exit(0)
}
