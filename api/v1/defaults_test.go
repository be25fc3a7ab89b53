package v1_test

import (
	"encoding/json"
	"go/ast"
	"go/parser"
	"go/token"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"sigs.k8s.io/yaml"

	v1 "coopcloud.tech/ccci-controller/api/v1"
)

var _ = Describe("Default", func() {
	Context("when a RecipeTest sets only what is required", func() {
		It("fills every optional field", func() {
			r := &v1.RecipeTest{Metadata: v1.ObjectMeta{Name: "gitea"}, Spec: v1.RecipeTestSpec{Source: v1.Source{Git: "/r"}}}
			r.Default()
			Expect(r.Spec).To(Equal(v1.RecipeTestSpec{
				Recipe:  "gitea",
				Source:  v1.Source{Git: "/r", Branch: "main"},
				Tiers:   v1.DefaultTiers(),
				Timeout: v1.Minutes(30),
			}))
		})
	})

	Context("when spec.env does not set COMPOSE_FILE", func() {
		It("leaves the compose files to the recipe's .env.sample", func() {
			r := &v1.RecipeTest{Spec: v1.RecipeTestSpec{Env: map[string]string{"DOMAIN": "x"}}}
			r.Default()
			Expect(r.Spec.ComposeFiles).To(BeEmpty())
		})
	})

	Context("when spec.env sets COMPOSE_FILE", func() {
		It("takes the compose files from it, as abra does", func() {
			r := &v1.RecipeTest{Spec: v1.RecipeTestSpec{Env: map[string]string{"COMPOSE_FILE": "compose.yml:compose.lfs.yml"}}}
			r.Default()
			Expect(r.Spec.ComposeFiles).To(Equal([]string{"compose.yml", "compose.lfs.yml"}))
		})
	})

	Context("when an upgrade tier has no base", func() {
		It("upgrades from the known-good version and leaves other tiers alone", func() {
			r := &v1.RecipeTest{Spec: v1.RecipeTestSpec{Tiers: []v1.Tier{{Name: v1.TierInstall}, {Name: v1.TierUpgrade}}}}
			r.Default()
			Expect(r.Spec.Tiers).To(Equal([]v1.Tier{{Name: v1.TierInstall}, {Name: v1.TierUpgrade, From: v1.FromKnownGood}}))
		})
	})

	Context("when a WarmCanonical sets nothing", func() {
		It("fills every optional field", func() {
			w := &v1.WarmCanonical{Metadata: v1.ObjectMeta{Name: "gitea"}}
			w.Default()
			t := true
			Expect(w.Spec).To(Equal(v1.WarmCanonicalSpec{
				RecipeTest: "gitea", Version: "latest", Stack: "warm_gitea", Mode: v1.ModeLive,
				Rollback: &t, Interval: v1.Minutes(10), Timeout: v1.Minutes(15), Drift: v1.DriftReport, Images: v1.ImagesFollow,
			}))
		})
	})

	Context("when a field is set", func() {
		It("keeps it, including an explicit false rollback", func() {
			f := false
			w := &v1.WarmCanonical{Metadata: v1.ObjectMeta{Name: "gitea"}, Spec: v1.WarmCanonicalSpec{Stack: "gitea_ci", Rollback: &f, Mode: v1.ModeData}}
			w.Default()
			Expect(w.Spec.Stack).To(Equal("gitea_ci"))
			Expect(w.Spec.RollbackEnabled()).To(BeFalse())
			Expect(w.Spec.Mode).To(Equal(v1.ModeData))
		})
	})
})

// fieldDocs maps "TypeName.FieldName" to the doc comment of that field in api/v1's sources.
func fieldDocs() map[string]string {
	fset := token.NewFileSet()
	files, err := filepath.Glob("*_types.go")
	Expect(err).NotTo(HaveOccurred())
	files = append(files, "groupversion.go")
	docs := map[string]string{}
	for _, f := range files {
		file, err := parser.ParseFile(fset, f, nil, parser.ParseComments)
		Expect(err).NotTo(HaveOccurred())
		ast.Inspect(file, func(n ast.Node) bool {
			ts, ok := n.(*ast.TypeSpec)
			if !ok {
				return true
			}
			st, ok := ts.Type.(*ast.StructType)
			if !ok {
				return false
			}
			for _, f := range st.Fields.List {
				for _, name := range f.Names {
					docs[ts.Name.Name+"."+name.Name] = f.Doc.Text()
				}
			}
			return false
		})
	}
	return docs
}

var documentedDefault = regexp.MustCompile("Defaults\\s+to\\s+[^`]*?`([^`]*)`")

// defaultInstance is one struct field of a defaulted object: the value Default gave it and
// whether Default set it (it was unset before).
type defaultInstance struct {
	field   string // TypeName.FieldName
	value   any    // JSON form
	changed bool
}

// walkDefaults pairs the fields of before and after (the same object before and after Default).
func walkDefaults(before, after reflect.Value, out *[]defaultInstance) {
	switch after.Kind() {
	case reflect.Pointer:
		if !after.IsNil() {
			b := before
			if b.IsNil() {
				b = reflect.New(after.Type().Elem())
			}
			walkDefaults(b.Elem(), after.Elem(), out)
		}
	case reflect.Slice:
		// Items a default list brought in were compared with the list's documented default.
		for i := 0; i < min(before.Len(), after.Len()); i++ {
			walkDefaults(before.Index(i), after.Index(i), out)
		}
	case reflect.Struct:
		if after.Type() == reflect.TypeOf(v1.Duration{}) {
			return
		}
		t := after.Type()
		for i := 0; i < t.NumField(); i++ {
			f := t.Field(i)
			if !f.IsExported() || f.Name == "Status" {
				continue
			}
			a, b := after.Field(i), before.Field(i)
			j, _ := json.Marshal(a.Interface())
			var v any
			Expect(json.Unmarshal(j, &v)).To(Succeed())
			// A struct field changes when any of its fields does; those are checked one by one.
			leaf := f.Type.Kind() != reflect.Struct || f.Type == reflect.TypeOf(v1.Duration{})
			changed := leaf && b.IsZero() && !a.IsZero()
			*out = append(*out, defaultInstance{t.Name() + "." + f.Name, v, changed})
			walkDefaults(b, a, out)
		}
	}
}

var _ = Describe("the documented defaults", func() {
	It("agree with Default() for every field", func() {
		const name = "gitea"
		fixtures := []v1.Object{
			&v1.RecipeTest{Metadata: v1.ObjectMeta{Name: name}, Spec: v1.RecipeTestSpec{Source: v1.Source{Git: "/r"}}},
			&v1.RecipeTest{Metadata: v1.ObjectMeta{Name: name}, Spec: v1.RecipeTestSpec{Source: v1.Source{Git: "/r"}, Tiers: []v1.Tier{{Name: v1.TierUpgrade}, {Name: v1.TierCustom, Command: []string{"true"}}}}},
			&v1.WarmCanonical{Metadata: v1.ObjectMeta{Name: name}},
		}
		var instances []defaultInstance
		for _, obj := range fixtures {
			after := obj.DeepCopyObject()
			after.Default()
			walkDefaults(reflect.ValueOf(obj), reflect.ValueOf(after), &instances)
		}

		docs := fieldDocs()
		documented := map[string]any{}
		for field, doc := range docs {
			doc = strings.Join(strings.Fields(doc), " ")
			if !strings.Contains(doc, "Defaults to") {
				continue
			}
			m := documentedDefault.FindStringSubmatch(doc)
			Expect(m).NotTo(BeNil(), "%s says \"Defaults to\" without a `literal` value: %q", field, doc)
			var v any
			Expect(yaml.Unmarshal([]byte(strings.ReplaceAll(m[1], "<metadata.name>", name)), &v)).To(Succeed(), field)
			documented[field] = v
		}
		Expect(documented).NotTo(BeEmpty())

		confirmed := map[string]bool{}
		for _, in := range instances {
			want, ok := documented[in.field]
			if in.changed {
				Expect(ok).To(BeTrue(), "Default() sets %s to %v but its doc comment states no default", in.field, in.value)
				Expect(in.value).To(Equal(want), "Default() sets %s to %v but its doc says %v", in.field, in.value, want)
			}
			if ok && reflect.DeepEqual(in.value, want) {
				confirmed[in.field] = true
			}
		}
		for field, want := range documented {
			Expect(confirmed).To(HaveKey(field), "%s documents the default %v but Default() never gives it", field, want)
		}
	})
})
