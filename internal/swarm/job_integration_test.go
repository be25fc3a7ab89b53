//go:build integration

package swarm

import (
	"archive/tar"
	"bytes"
	"context"
	"io"
	"time"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/filters"
	"github.com/docker/docker/api/types/mount"
	"github.com/docker/docker/api/types/swarm"
	"github.com/docker/docker/api/types/volume"
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	v1 "coopcloud.tech/ccci-controller/api/v1"
)

var _ = Describe("RunJob", func() {
	// job returns a job of the test image running command, with /files holding hello.txt.
	job := func(log io.Writer, command ...string) Job {
		var files bytes.Buffer
		tw := tar.NewWriter(&files)
		Expect(tw.WriteHeader(&tar.Header{Typeflag: tar.TypeReg, Name: "hello.txt", Mode: 0o644, Size: 5})).To(Succeed())
		_, err := tw.Write([]byte("hello"))
		Expect(err).NotTo(HaveOccurred())
		Expect(tw.Close()).To(Succeed())
		return Job{
			Stack: "job_" + randomSuffix(), Name: "custom", Image: testImage + ":1", Command: command,
			Env: map[string]string{"GREETING": "hi"}, Files: &files, FilesDir: "/files", OutputDir: "/out",
			Log: log, Role: v1.RoleTest, RunID: randomSuffix(), Labels: map[string]string{v1.LabelTestSuite: suiteID},
		}
	}
	// expectGone asks Docker for anything left of the job's run.
	expectGone := func(ctx context.Context, runID string) {
		d := cli.Docker()
		f := filters.NewArgs(filters.Arg("label", v1.LabelRun+"="+runID))
		services, err := d.ServiceList(ctx, swarm.ServiceListOptions{Filters: f})
		Expect(err).NotTo(HaveOccurred())
		Expect(services).To(BeEmpty())
		ctrs, err := d.ContainerList(ctx, container.ListOptions{All: true, Filters: f})
		Expect(err).NotTo(HaveOccurred())
		Expect(ctrs).To(BeEmpty())
		vols, err := d.VolumeList(ctx, volume.ListOptions{Filters: f})
		Expect(err).NotTo(HaveOccurred())
		Expect(vols.Volumes).To(BeEmpty())
	}

	DescribeTable("runs the command once and reports how it ended, leaving nothing behind",
		func(ctx SpecContext, command []string, state string, code int, logged string) {
			var log bytes.Buffer
			j := job(&log, command...)
			res, err := cli.RunJob(ctx, j)
			Expect(err).NotTo(HaveOccurred())
			Expect(res).To(And(HaveField("State", state), HaveField("ExitCode", code)))
			Expect(res.Node).NotTo(BeEmpty())
			Expect(log.String()).To(ContainSubstring(logged))
			expectGone(ctx, j.RunID)
		},
		Entry("a file of the files", []string{"/app", "cat", "/files/hello.txt"}, "complete", 0, "hello", NodeTimeout(2*time.Minute)),
		Entry("its environment", []string{"/app", "env", "GREETING"}, "complete", 0, "hi", NodeTimeout(2*time.Minute)),
		Entry("a write to the files, which are read-only", []string{"/app", "write", "/files/hello.txt", "x"}, "failed", 1, "read-only file system", NodeTimeout(2*time.Minute)),
		Entry("an exit code", []string{"/app", "exit", "7"}, "failed", 7, "exiting with 7", NodeTimeout(2*time.Minute)),
	)

	It("hands back what the command wrote into the output directory", func(ctx SpecContext) {
		j := job(nil, "/app", "write", "/out/result.txt", "green")
		got := map[string]string{}
		j.Output = func(r io.Reader) error {
			tr := tar.NewReader(r)
			for h, err := tr.Next(); err == nil; h, err = tr.Next() {
				b, _ := io.ReadAll(tr)
				got[h.Name] = string(b)
			}
			return nil
		}
		res, err := cli.RunJob(ctx, j)
		Expect(err).NotTo(HaveOccurred())
		Expect(res.State).To(Equal("complete"))
		Expect(got).To(HaveKeyWithValue("out/result.txt", "green"))
		expectGone(ctx, j.RunID)
	}, NodeTimeout(2*time.Minute))

	It("stops a command that outlives its context and removes it", func(ctx SpecContext) {
		j := job(nil, "/app", "serve")
		jobCtx, cancel := context.WithTimeout(ctx, 5*time.Second)
		defer cancel()
		_, err := cli.RunJob(jobCtx, j)
		Expect(err).To(MatchError(context.DeadlineExceeded))
		expectGone(ctx, j.RunID)
	}, NodeTimeout(2*time.Minute))

	It("leaves nothing a stack removal misses when a crash stopped it between staging and its task", func(ctx SpecContext) {
		j := job(nil, "/app", "serve")
		st := staging{engine: cli.Docker(), name: j.Stack + "_" + j.Name, files: j.Stack + "_files", output: j.Stack + "_output",
			labels: withLabels(bookkeepingLabels(DeployOptions{Role: j.Role, RunID: j.RunID, Labels: j.Labels}), map[string]string{v1.LabelStackNamespace: j.Stack})}
		By("staging as RunJob does, up to the staging container's removal")
		_, err := cli.Docker().VolumeCreate(ctx, volume.CreateOptions{Name: st.files, Labels: st.labels})
		Expect(err).NotTo(HaveOccurred())
		_, err = cli.Docker().ContainerCreate(ctx, &container.Config{Image: j.Image, Labels: withLabels(st.labels, map[string]string{v1.LabelJobStager: "true"})},
			&container.HostConfig{Mounts: []mount.Mount{{Type: mount.TypeVolume, Source: st.files, Target: j.FilesDir}}}, nil, nil, st.stager())
		Expect(err).NotTo(HaveOccurred())
		By("removing the stack, as the run's teardown and start-up garbage collection do")
		Expect(cli.Remove(ctx, j.Stack, true)).To(Succeed())
		expectGone(ctx, j.RunID)
	}, NodeTimeout(2*time.Minute))

	It("names a placement no node satisfies without creating anything", func(ctx SpecContext) {
		j := job(nil, "/app", "serve")
		j.Placement = Placement{Constraints: []string{"node.labels.ccci-nosuch==true"}}
		_, err := cli.RunJob(ctx, j)
		var ce *ConstraintError
		Expect(err).To(BeAssignableToTypeOf(ce))
		expectGone(ctx, j.RunID)
	}, NodeTimeout(time.Minute))
})
