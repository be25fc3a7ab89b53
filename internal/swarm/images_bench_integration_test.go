//go:build integration

package swarm

import (
	"context"
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/docker/docker/api/types/image"

	"coopcloud.tech/ccci-controller/test/fixtures"
)

// BenchmarkResolveImages measures what resolution adds to a run: a fresh cache (as each run
// has) resolving distinct images pushed to a registry on a loopback port, one distribution
// look-up each plus one image list. The target is at most 50 ms per distinct image; ms/image
// is printed.
func BenchmarkResolveImages(b *testing.B) {
	c, _, suite := benchClient(b)
	ctx := context.Background()
	dir, err := os.MkdirTemp("", "ccci-bench-registry-")
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { os.RemoveAll(dir) })
	reg, err := fixtures.StartRegistry(ctx, dir, "", "")
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(reg.Stop)
	const distinct = 4
	var refs []string
	for i := 0; i < distinct; i++ {
		ref, err := reg.Push(ctx, "", testImage+":1", fmt.Sprintf("bench-%s-%d:1", suite[len(suite)-8:], i))
		if err != nil {
			b.Fatal(err)
		}
		refs = append(refs, ref)
	}
	b.Cleanup(func() {
		for _, ref := range refs {
			_, _ = c.Docker().ImageRemove(context.Background(), ref, imageRemoveOptions())
		}
	})
	if _, err := c.NewImages().Refs(ctx, refs); err != nil { // warm the connection
		b.Fatal(err)
	}
	var total time.Duration
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		start := time.Now()
		imgs, err := c.NewImages().Refs(ctx, refs)
		total += time.Since(start)
		if err != nil || len(imgs) != distinct {
			b.Fatalf("resolved %d of %d: %v", len(imgs), distinct, err)
		}
	}
	b.StopTimer()
	perImage := float64(total.Microseconds()) / 1000 / float64(b.N*distinct)
	b.ReportMetric(perImage, "ms/image")
	fmt.Printf("image resolution: %.1f ms per distinct image (%d images, target ≤ 50 ms)\n", perImage, distinct)
}

func imageRemoveOptions() image.RemoveOptions { return image.RemoveOptions{} }
