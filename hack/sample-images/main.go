// Command sample-images builds the local sample app images ccci-sample-app:<version> (see
// test/fixtures.BuildSampleImages); `make sample-images` runs it. Images already built from
// the same sources are kept.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"coopcloud.tech/ccci-controller/test/fixtures"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	if err := fixtures.BuildSampleImages(ctx); err != nil {
		fmt.Fprintf(os.Stderr, "sample-images: %v\n", err)
		os.Exit(1)
	}
	refs := make([]string, len(fixtures.SampleImageVersions))
	for i, v := range fixtures.SampleImageVersions {
		refs[i] = fixtures.SampleImage(v)
	}
	fmt.Println("sample images ready:", strings.Join(refs, " "))
}
