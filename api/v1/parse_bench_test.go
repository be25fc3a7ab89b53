package v1_test

import (
	"os"
	"strings"
	"testing"

	v1 "coopcloud.tech/ccci-controller/api/v1"
)

// BenchmarkParse measures a typical file: DESIGN.md's two examples.
func BenchmarkParse(b *testing.B) {
	data, err := os.ReadFile("testdata/valid/design-examples.yaml")
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := v1.Parse("f.yaml", data); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkParseHostile measures the worst files seen: 1 MiB of tiny invalid documents and an
// alias bomb. Each must stay well under a second.
func BenchmarkParseHostile(b *testing.B) {
	bomb, err := os.ReadFile("testdata/invalid/alias-bomb.yaml")
	if err != nil {
		b.Fatal(err)
	}
	for name, data := range map[string][]byte{
		"manyDocuments": []byte(strings.Repeat("---\na: b\n", v1.MaxFileSize/9)),
		"aliasBomb":     bomb,
	} {
		b.Run(name, func(b *testing.B) {
			b.SetBytes(int64(len(data)))
			b.ReportAllocs()
			for b.Loop() {
				if _, err := v1.Parse("f.yaml", data); err == nil {
					b.Fatal("hostile file parsed without error")
				}
			}
		})
	}
}
