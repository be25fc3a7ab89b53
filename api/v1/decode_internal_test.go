package v1

import (
	"fmt"
	"reflect"
	"strings"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"go.yaml.in/yaml/v3"
)

// The resource types nest too shallowly for an alias bomb to expand far (every level of the
// bomb must match a level of the type), so this spec drives the decoder with a deeply nested
// list type to check the node budget itself, which protects any future type.
var _ = Describe("the decoder's node budget", func() {
	It("stops a billion-laughs expansion quickly with one clear error", func() {
		var b strings.Builder
		b.WriteString("l0: &l0 [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]\n")
		for i := 1; i < 10; i++ {
			fmt.Fprintf(&b, "l%d: &l%d [%s]\n", i, i, strings.TrimSuffix(strings.Repeat(fmt.Sprintf("*l%d, ", i-1), 10), ", "))
		}
		b.WriteString("bomb: *l9\n")
		var root yaml.Node
		Expect(yaml.Unmarshal([]byte(b.String()), &root)).To(Succeed())
		bomb := root.Content[0].Content[len(root.Content[0].Content)-1]

		nested := reflect.TypeOf("")
		for range 10 {
			nested = reflect.SliceOf(nested)
		}
		d := newDecoder(0)
		d.value(bomb, nested, "bomb")
		// Fully expanded it would be 10^10 nodes; the walk stops one past the budget.
		Expect(d.nodes).To(Equal(maxNodes + 1))
		Expect(d.errs).To(HaveLen(1))
		Expect(d.errs[0].Error()).To(MatchRegexp(`^bomb(\[\d\])+: the document expands to more than 10000 YAML nodes, through aliases \(valid: a resource without deeply nested aliases\)$`))
	})
})
