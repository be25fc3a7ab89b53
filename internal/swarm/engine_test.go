package swarm

import (
	"errors"
	"fmt"
	"io"
	"path/filepath"

	"github.com/containerd/errdefs"
	"github.com/docker/docker/client"
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
)

var _ = Describe("IsEngineFailure", func() {
	It("knows a daemon that does not answer, from the client's own error", func(ctx SpecContext) {
		c, err := client.NewClientWithOpts(client.WithHost("unix://"+filepath.Join(GinkgoT().TempDir(), "gone.sock")), client.WithAPIVersionNegotiation())
		Expect(err).NotTo(HaveOccurred())
		_, err = c.Info(ctx)
		Expect(err).To(HaveOccurred())
		Expect(IsEngineFailure(fmt.Errorf("observe stack s: %w", err))).To(BeTrue())
	})

	DescribeTable("judges by the error's type, never its text",
		func(err error, want bool) { Expect(IsEngineFailure(err)).To(Equal(want)) },
		Entry("nil", nil, false),
		Entry("a restarting swarm (503), wrapped", fmt.Errorf("list tasks of s_app: %w", errdefs.ErrUnavailable.WithMessage("This node is not a swarm manager.")), true),
		Entry("a cut stream", fmt.Errorf("copy /data: %w", io.ErrUnexpectedEOF), true),
		Entry("an unhealthy task", errors.New("service s_app: task failed: unhealthy container"), false),
		Entry("a hook whose stderr talks of connections", errors.New("backupbot.backup.pre-hook exited with code 1: pg_dump: connection refused"), false),
	)
})
