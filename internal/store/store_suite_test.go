package store

import (
	"os"
	"testing"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
)

// helperEnv selects a helper mode when the test binary re-executes itself as a second process
// (a writer to kill, a lock contender); see helpers_test.go.
const helperEnv = "CCCI_STORE_HELPER"

func TestStore(t *testing.T) {
	if mode := os.Getenv(helperEnv); mode != "" {
		os.Exit(runHelper(mode))
	}
	RegisterFailHandler(Fail)
	RunSpecs(t, "Store Suite")
}
