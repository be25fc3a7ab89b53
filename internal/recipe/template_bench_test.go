package recipe_test

import (
	"testing"

	"coopcloud.tech/ccci-controller/internal/recipe"
)

// BenchmarkCheckTemplateBomb is what validate spends refusing the exploding templates of
// issue 22: nested ranges of a million, a value that doubles itself and a huge printf width.
// The aim is well under ten milliseconds per op (about 3 ms on 2 cores): the bounds stop them,
// not the one-second deadline.
func BenchmarkCheckTemplateBomb(b *testing.B) {
	bombs := []string{
		"{{range 1000000}}{{range 1000000}}{{range 1000000}}x{{end}}{{end}}{{end}}",
		"{{$x := .Stack}}{{range 30}}{{$x = print $x $x}}{{end}}{{$x}}",
		"{{printf \"%0999999999d\" 1}}",
	}
	for b.Loop() {
		for _, v := range bombs {
			if recipe.CheckTemplate("V", v, nil) == nil {
				b.Fatalf("template %q passed", v)
			}
		}
	}
}
