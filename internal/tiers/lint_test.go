package tiers

import (
	v1 "coopcloud.tech/ccci-controller/api/v1"
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
)

var _ = Describe("lintImages", func() {
	DescribeTable("reports unpinned images",
		func(image string, want string) {
			problems := lintImages([]service{{Name: "app", Image: image}})
			if want == "" {
				Expect(problems).To(BeEmpty())
			} else {
				Expect(problems).To(ConsistOf(ContainSubstring(want)))
			}
		},
		Entry("a tag", "nginx:1.25", ""),
		Entry("a registry with a port and a tag", "registry:5000/team/app:2.0", ""),
		Entry("a digest", "nginx@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef", ""),
		Entry("no tag", "nginx", `services.app.image "nginx" has no tag`),
		Entry("no tag behind a registry port", "registry:5000/app", "has no tag"),
		Entry("latest", "nginx:latest", "uses latest"),
	)
})

var _ = Describe("lintReferences", func() {
	defs := map[string][]string{"secret": {"db_password"}, "config": {"motd"}, "network": {"internal"}, "volume": {"data"}}

	DescribeTable("reports references to undefined objects",
		func(refs map[string][]string, want []string) {
			Expect(lintReferences([]service{{Name: "app", Refs: refs}}, defs)).To(Equal(want))
		},
		Entry("everything defined", map[string][]string{"secret": {"db_password"}, "config": {"motd"}, "network": {"default", "internal"}, "volume": {"data"}}, nil),
		Entry("an undefined secret", map[string][]string{"secret": {"api_key"}}, []string{`services.app uses secret "api_key", which is not defined under secrets`}),
		Entry("an undefined network and volume", map[string][]string{"network": {"proxy"}, "volume": {"cache"}},
			[]string{`services.app uses network "proxy", which is not defined under networks`, `services.app uses volume "cache", which is not defined under volumes`}),
	)
})

var _ = Describe("lintVersionLabel", func() {
	const stack = "ccci_s_1"
	app := func(label string) []service {
		return []service{{Name: "app", Labels: map[string]string{"coop-cloud.ccci_s_1.version": label}}}
	}

	DescribeTable("compares the app's version label with the version under test",
		func(services []service, tag, ref, newest, wantProblem, wantNote string) {
			p, note := lintVersionLabel(stack, services, tag, ref, newest)
			if wantProblem == "" {
				Expect(p).To(BeEmpty())
			} else {
				Expect(p).To(ContainSubstring(wantProblem))
			}
			Expect(note).To(ContainSubstring(wantNote))
		},
		Entry("the tag under test", app("1.1.0+1.1"), "1.1.0+1.1", "1.1.0+1.1", "2.0.0+2.0", "", "equals the tag under test"),
		Entry("another tag", app("1.0.0+1.0"), "1.1.0+1.1", "1.1.0+1.1", "2.0.0+2.0", `is "1.0.0+1.0", want the tag under test "1.1.0+1.1"`, ""),
		Entry("no label", []service{{Name: "app", Labels: map[string]string{}}}, "1.1.0+1.1", "1.1.0+1.1", "", "has no coop-cloud.${STACK_NAME}.version", ""),
		Entry("no app service", []service{{Name: "web"}}, "1.1.0+1.1", "1.1.0+1.1", "", `no service "app"`, ""),
		Entry("a branch at the newest tag", app("2.0.0+2.0"), "", "main", "2.0.0+2.0", "", `ref "main" is not a tag: compared the version label "2.0.0+2.0" with the newest tag "2.0.0+2.0"`),
		Entry("a branch preparing a release", app("2.1.0+2.1"), "", "feature", "2.0.0+2.0", "", "is not a tag"),
		Entry("a branch behind the newest tag", app("1.0.0+1.0"), "", "old", "2.0.0+2.0", `is older than the newest tag "2.0.0+2.0"`, "is not a tag"),
		Entry("a branch with a label that is no version", app("dev"), "", "main", "2.0.0+2.0", "is not a version", "is not a tag"),
	)
})

var _ = Describe("lintImmutable", func() {
	motd := func(name, content string) objectFile {
		return objectFile{Kind: "config", Key: "motd", Name: name, Template: "${STACK_NAME}_motd_${MOTD_VERSION}", File: "motd.txt", Content: []byte(content)}
	}

	It("names the variable to bump when the content changed under the same name", func() {
		problems := lintImmutable([]objectFile{motd("s_motd_v1", "new")}, []objectFile{motd("s_motd_v1", "old")}, "1.0.0+1.0")
		Expect(problems).To(ConsistOf(`configs.motd: motd.txt changed since 1.0.0+1.0 but its name "s_motd_v1" did not; bump MOTD_VERSION`))
	})

	It("accepts a changed content under a new name", func() {
		Expect(lintImmutable([]objectFile{motd("s_motd_v2", "new")}, []objectFile{motd("s_motd_v1", "old")}, "1.0.0+1.0")).To(BeEmpty())
	})

	It("accepts an unchanged content", func() {
		Expect(lintImmutable([]objectFile{motd("s_motd_v1", "same")}, []objectFile{motd("s_motd_v1", "same")}, "1.0.0+1.0")).To(BeEmpty())
	})

	It("accepts an object the base did not have", func() {
		Expect(lintImmutable([]objectFile{motd("s_motd_v1", "new")}, nil, "1.0.0+1.0")).To(BeEmpty())
	})

	It("suggests a versioned name when the name has no variable", func() {
		c := objectFile{Kind: "secret", Key: "key", Name: "s_key", Template: "${STACK_NAME}_key", File: "key.txt", Content: []byte("b")}
		b := c
		b.Content = []byte("a")
		Expect(lintImmutable([]objectFile{c}, []objectFile{b}, "1.0.0+1.0")).To(ConsistOf(ContainSubstring("give secrets.key a versioned name such as ${STACK_NAME}_key_${KEY_VERSION}")))
	})
})

var _ = Describe("hookArgv", func() {
	DescribeTable("runs a hook through the container's shell, with pipefail under bash",
		func(hook, shell string, want []string) {
			Expect(hookArgv(hook, shell)).To(Equal(want))
		},
		Entry("bash: pipefail, so a failed pg_dump fails the pipeline", "pg_dump db | gzip > /tmp/db.gz", shellBash,
			[]string{"/bin/bash", "-o", "pipefail", "-c", "pg_dump db | gzip > /tmp/db.gz"}),
		Entry("sh only", "mysqldump -p$PASS", shellSh, []string{"/bin/sh", "-c", "mysqldump -p$PASS"}),
		Entry("no shell: words, as a scratch image needs", "/app state flush", "", []string{"/app", "state", "flush"}),
		Entry("no shell: quotes group words", `/app state set "a b"`, "", []string{"/app", "state", "set", "a b"}),
	)

	It("refuses a hook that needs a shell in a container without one", func() {
		_, err := hookArgv("pg_dump db | gzip > /tmp/db.gz", "")
		Expect(err).To(MatchError(ContainSubstring("needs a shell, and the container has neither /bin/bash nor /bin/sh")))
	})
})

var _ = Describe("tail", func() {
	It("keeps the last lines of a hook's stderr", func() {
		Expect(tail("a\nb\nc\nd\ne\nf\ng\n")).To(Equal("c | d | e | f | g"))
		Expect(tail("  ")).To(Equal("(no output on stderr)"))
	})
})

var _ = Describe("lintMarker", func() {
	It("names a marker service the recipe does not have, and the valid ones", func() {
		services := []service{{Name: "app"}, {Name: "db"}}
		Expect(lintMarker(&v1.Marker{Service: "db"}, services)).To(BeEmpty())
		Expect(lintMarker(nil, services)).To(BeEmpty())
		Expect(lintMarker(&v1.Marker{Service: "postgres"}, services)).To(Equal([]string{`spec.marker.service "postgres" is not a service of the recipe (valid: app, db)`}))
	})
})
