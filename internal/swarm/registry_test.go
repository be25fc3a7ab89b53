package swarm

import (
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
)

var _ = Describe("RegistryKindOf", func() {
	// The texts are the Engine's answers from the distribution endpoint and from pulls.
	DescribeTable("types the Engine's answer",
		func(text string, want RegistryKind) {
			Expect(RegistryKindOf(text)).To(Equal(want))
		},
		Entry("connection refused", `Get "http://127.0.0.1:5799/v2/": dial tcp 127.0.0.1:5799: connect: connection refused`, RegistryUnreachable),
		Entry("no such host", `Get "https://registry-1.docker.io/v2/": dial tcp: lookup registry-1.docker.io: no such host`, RegistryUnreachable),
		Entry("manifest unknown", "manifest unknown: manifest unknown", RegistryNotFound),
		Entry("rate limited", "toomanyrequests: You have reached your pull rate limit", RegistryRateLimited),
		Entry("429 without a body", "received unexpected HTTP status: 429 Too Many Requests", RegistryRateLimited),
		Entry("server error", "received unexpected HTTP status: 503 Service Unavailable", RegistryServerError),
		Entry("no credentials", `Head "http://127.0.0.1:5725/v2/priv/manifests/1": no basic auth credentials`, RegistryAuthFailed),
		Entry("wrong credentials", "unauthorized: authentication required", RegistryAuthFailed),
		Entry("timeout", `Get "https://r.example/v2/": net/http: request canceled (Client.Timeout exceeded while awaiting headers)`, RegistryTimeout),
		Entry("a digest that happens to hold 404", "dial tcp: connect: connection refused for sha256:404404", RegistryUnreachable),
	)
})

var _ = Describe("pullErrorOf", func() {
	It("names the registry of a pinned image that a node could not pull", func() {
		pe := pullErrorOf("s_app", "No such image: 10.123.0.1:5000/mnapp:1@sha256:1a2d20592444530e244973355e15adcb9cf354505ecc99dfc1bcb1de8ab1da90")
		Expect(pe).NotTo(BeNil())
		Expect(pe.Registry).To(Equal("10.123.0.1:5000"))
		Expect(IsRegistryFailure(pe)).To(BeTrue())
	})
	It("leaves an image deployed by tag to the recipe", func() {
		pe := pullErrorOf("s_app", "No such image: ccci-swarmtest:does-not-exist")
		Expect(pe).NotTo(BeNil())
		Expect(IsRegistryFailure(pe)).To(BeFalse())
		Expect(pe.Error()).To(Equal("service s_app: No such image: ccci-swarmtest:does-not-exist"))
	})
	It("ignores other task errors", func() {
		Expect(pullErrorOf("s_app", "task: non-zero exit (1)")).To(BeNil())
	})
})
