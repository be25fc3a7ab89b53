package v1_test

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	v1 "coopcloud.tech/ccci-controller/api/v1"
)

// FuzzParse checks that no input crashes Parse or takes long; every fixture is a seed. Run it
// with go test -run '^$' -fuzz FuzzParse ./api/v1; plain go test runs the seeds.
func FuzzParse(f *testing.F) {
	seeds, _ := filepath.Glob("testdata/*/*.yaml")
	for _, s := range seeds {
		if b, err := os.ReadFile(s); err == nil {
			f.Add(b)
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		start := time.Now()
		objs, err := v1.Parse("fuzz.yaml", data)
		if d := time.Since(start); d > 2*time.Second {
			t.Fatalf("Parse took %s", d)
		}
		for _, o := range objs {
			if errs := o.Validate(); len(errs) > 0 {
				t.Fatalf("Parse returned an invalid object %s: %v", o.GetKey(), errs)
			}
			o.DeepCopyObject().Default()
			_ = o.SpecHash()
		}
		if err == nil && len(objs) == 0 {
			t.Fatal("Parse returned neither objects nor an error")
		}
	})
}
