//go:build integration

package swarm

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/containerd/errdefs"
	"github.com/docker/docker/api/types/network"
	"github.com/docker/docker/api/types/swarm"
	"github.com/google/go-cmp/cmp"
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	v1 "coopcloud.tech/ccci-controller/api/v1"
	"coopcloud.tech/ccci-controller/test/fixtures"
)

// corpusDir holds public Swarm stack files and their MANIFEST.tsv: shared/corpus/stacks beside
// the repository (CI lays shared/ next to its clone), else CCCI_CORPUS when set.
var corpusDir = findCorpus()

func findCorpus() string {
	if d := os.Getenv("CCCI_CORPUS"); d != "" {
		return d
	}
	return filepath.Join(fixtures.RepoRoot(), "..", "shared", "corpus", "stacks")
}

// corpusCase is one row of MANIFEST.tsv.
type corpusCase struct {
	file, composeDir string
	env              map[string]string
	external         []string // kind:name
}

func readManifest() []corpusCase {
	// A missing corpus must not pass as "no differences": the spec below fails on it.
	f, err := os.Open(filepath.Join(corpusDir, "MANIFEST.tsv"))
	if err != nil {
		return nil
	}
	defer f.Close()
	var out []corpusCase
	sc := bufio.NewScanner(f)
	header := true
	for sc.Scan() {
		if header {
			header = false
			continue
		}
		cols := strings.Split(sc.Text(), "\t")
		if len(cols) < 8 {
			continue
		}
		c := corpusCase{file: cols[0], composeDir: cols[7], env: map[string]string{}}
		for _, kv := range strings.Split(cols[4], ";") {
			if k, v, ok := strings.Cut(kv, "="); ok {
				c.env[k] = v
			}
		}
		for _, x := range strings.Split(cols[5], ";") {
			if x != "" {
				c.external = append(c.external, x)
			}
		}
		out = append(out, c)
	}
	return out
}

var _ = Describe("Deploy compared with docker stack deploy", func() {
	Context("when the test stack is deployed both ways", func() {
		It("yields equal service specs, and adopts the hand deploy without a write", func(ctx SpecContext) {
			dir := GinkgoT().TempDir()
			for _, f := range []string{"compose.yml", "compose.worker.yml", "motd.txt"} {
				copyFile(filepath.Join("testdata/stack", f), filepath.Join(dir, f))
			}
			env := map[string]string{
				"APP_IMAGE_TAG": "1", "RECIPE_VERSION": "1.0.0+1", "UNHEALTHY": "false",
				"SECRET_DB_PASSWORD_VERSION": "v1", "MOTD_VERSION": "v1",
			}
			name := "swd_t_" + randomSuffix()
			env["STACK_NAME"] = name
			secret := name + "_db_password_v1"
			createExternal(ctx, "secret:"+secret)
			compareWithCLI(ctx, name, dir, []string{"compose.yml", "compose.worker.yml"}, env, "1.0.0+1")
		}, NodeTimeout(5*time.Minute))
	})

	corpus := readManifest()
	It("has the corpus of public stack files to compare", func() {
		Expect(corpus).NotTo(BeEmpty(), "no stack files read from %s/MANIFEST.tsv (set CCCI_CORPUS to the corpus directory)", corpusDir)
	})

	for i, c := range corpus {
		Context("when corpus file "+c.file+" is deployed both ways", func() {
			It("yields equal service specs, and adopts the hand deploy without a write", func(ctx SpecContext) {
				// Mirror the corpus layout: compose_dir may reach its files through "..".
				root := GinkgoT().TempDir()
				copyTree(filepath.Join(corpusDir, "files"), filepath.Join(root, "files"))
				dir := filepath.Join(root, c.composeDir)
				Expect(os.MkdirAll(dir, 0o755)).To(Succeed())
				copyFile(filepath.Join(corpusDir, c.file), filepath.Join(dir, c.file))
				name := fmt.Sprintf("swd_%02d_%s", i+1, randomSuffix())
				failOnForeignFixedNames(ctx, dir, c, name)
				for _, x := range c.external {
					createExternal(ctx, x)
				}
				compareWithCLI(ctx, name, dir, []string{c.file}, c.env, "")
			}, NodeTimeout(5*time.Minute))
		})
	}
})

// refusal is why both `docker stack deploy` and Deploy refuse a corpus file: a substring of
// each one's error.
type refusal struct{ cli, ours string }

// expectedRefusals are the corpus files `docker stack deploy` refuses on this engine; any other
// refusal, or another reason, fails.
var expectedRefusals = map[string]refusal{
	// docker/cli's full example: the CLI stops at a network driver plugin the 20.10 engine
	// cannot look up; Deploy reads configs first and stops at config4, which has neither a
	// file nor external (the CLI's converter reads the working directory for it as well, had
	// it got that far).
	"20-docker-cli-full-example.yml": {cli: "plugin", ours: "read config file"},
}

// compareWithCLI deploys with `docker stack deploy`, checks that Deploy adopts that stack with no
// write, removes it, deploys it with Deploy, and compares the two sets of service specs.
func compareWithCLI(ctx context.Context, name, dir string, files []string, env map[string]string, version string) {
	DeferCleanup(func(ctx SpecContext) { Expect(cli.Remove(ctx, name, true)).To(Succeed()) }, NodeTimeout(3*time.Minute))
	s, err := Load(LoadOptions{WorkingDir: dir, ComposeFiles: files, Env: env, StackName: name})
	Expect(err).NotTo(HaveOccurred())

	By("deploying with the docker CLI")
	args := []string{"stack", "deploy", "--resolve-image", "never", "--detach=true"}
	for _, f := range files {
		args = append(args, "-c", filepath.Join(dir, f))
	}
	out, cliErr := execDocker(ctx, s.Env, append(args, name)...)
	reason, expected := refusal{}, false
	if len(files) == 1 {
		reason, expected = expectedRefusals[filepath.Base(files[0])]
	}
	if cliErr != nil {
		Expect(expected).To(BeTrue(), "docker stack deploy refused %v, which is not an expected refusal: %s", files, out)
		Expect(out).To(ContainSubstring(reason.cli), "docker stack deploy refused %v for another reason than the expected one", files)
		By("the CLI refused, as expected; Deploy must refuse too")
		Expect(cli.Remove(ctx, name, true)).To(Succeed())
		opts := deployOptions(version)
		_, err := cli.Deploy(ctx, s, opts)
		Expect(err).To(HaveOccurred(), "docker stack deploy failed but Deploy did not: %s", out)
		Expect(err).To(MatchError(ContainSubstring(reason.ours)), "Deploy refused for another reason than the expected one")
		AddReportEntry("both refused", fmt.Sprintf("cli: %s\nours: %v", lastLine(out), err))
		return
	}
	Expect(expected).To(BeFalse(), "%v was expected to be refused (%q) but docker stack deploy took it", files, reason.cli)
	byCLI := stackSpecs(ctx, name)
	Expect(byCLI).NotTo(BeEmpty())

	By("deploying the same input with Deploy over the hand deploy")
	opts := deployOptions(version)
	opts.Secrets = nil
	counter.reset()
	res, err := cli.Deploy(ctx, s, opts)
	Expect(err).NotTo(HaveOccurred())
	Expect(counter.writes()).To(BeEmpty(), "Deploy wrote to a stack deployed by hand from the same files")
	Expect(res.AlreadyDeployed).To(BeTrue())

	By("removing it and deploying with Deploy alone")
	Expect(cli.Remove(ctx, name, false)).To(Succeed())
	_, err = cli.Deploy(ctx, s, opts)
	Expect(err).NotTo(HaveOccurred())
	byUs := stackSpecs(ctx, name)

	Expect(sortedKeys(byUs)).To(Equal(sortedKeys(byCLI)))
	for svc, want := range byCLI {
		diff := cmp.Diff(comparableForDiff(want, name, version), comparableForDiff(byUs[svc], name, version))
		Expect(diff).To(BeEmpty(), "service %s: spec differs from docker stack deploy (-cli +ours)", svc)
	}
}

// stackSpecs returns the stored spec of every service of the stack.
func stackSpecs(ctx context.Context, name string) map[string]swarm.ServiceSpec {
	services, err := cli.Docker().ServiceList(ctx, swarm.ServiceListOptions{Filters: stackFilter(name)})
	Expect(err).NotTo(HaveOccurred())
	nets, err := cli.Docker().NetworkList(ctx, network.ListOptions{})
	Expect(err).NotTo(HaveOccurred())
	names := map[string]string{}
	for _, n := range nets {
		names[n.ID] = n.Name
	}
	out := map[string]swarm.ServiceSpec{}
	for _, s := range services {
		// Networks are recreated between the two deploys: compare their names, not ids.
		out[s.Spec.Name] = withNetworkNames(s.Spec, names)
	}
	return out
}

// comparableForDiff removes what legitimately differs between two deploys of the same input:
// our labels (documented in doc.go), the version label we add when the compose lacks it, the
// ids of configs and secrets recreated between the two deploys.
func comparableForDiff(spec swarm.ServiceSpec, stack, version string) any {
	ours := []string{v1.LabelManagedBy, v1.LabelRole, v1.LabelRun, v1.LabelSpecHash, v1.LabelTestSuite, v1.LabelOwner}
	spec.Labels = withLabels(spec.Labels, nil)
	for _, k := range ours {
		delete(spec.Labels, k)
	}
	if version != "" && spec.Labels[v1.VersionLabel(stack)] == version {
		delete(spec.Labels, v1.VersionLabel(stack))
	}
	if cs := spec.TaskTemplate.ContainerSpec; cs != nil {
		c := *cs
		c.Secrets, c.Configs = nil, nil
		for _, s := range cs.Secrets {
			r := *s
			r.SecretID = ""
			c.Secrets = append(c.Secrets, &r)
		}
		for _, s := range cs.Configs {
			r := *s
			r.ConfigID = ""
			c.Configs = append(c.Configs, &r)
		}
		// A test run's volumes carry our labels too, so that garbage collection finds them.
		c.Mounts = slices.Clone(cs.Mounts)
		for i, m := range c.Mounts {
			if m.VolumeOptions != nil {
				vo := *m.VolumeOptions
				vo.Labels = withLabels(vo.Labels, nil)
				for _, k := range ours {
					delete(vo.Labels, k)
				}
				c.Mounts[i].VolumeOptions = &vo
			}
		}
		spec.TaskTemplate.ContainerSpec = &c
	}
	data, err := json.Marshal(spec)
	Expect(err).NotTo(HaveOccurred())
	var generic any
	Expect(json.Unmarshal(data, &generic)).To(Succeed())
	return generic
}

// createExternal creates an external object of the manifest (kind:name) unless it exists,
// labelled with the suite so AfterSuite removes it.
func createExternal(ctx context.Context, x string) {
	kind, name, _ := strings.Cut(x, ":")
	d := cli.Docker()
	labels := map[string]string{v1.LabelTestSuite: suiteID}
	var err error
	switch kind {
	case "network":
		if _, ierr := d.NetworkInspect(ctx, name, network.InspectOptions{}); ierr == nil {
			return
		}
		_, err = d.NetworkCreate(ctx, name, network.CreateOptions{Driver: "overlay", Attachable: true, Labels: labels})
	case "secret":
		_, err = d.SecretCreate(ctx, swarm.SecretSpec{Annotations: swarm.Annotations{Name: name, Labels: labels}, Data: []byte("corpus")})
	case "config":
		_, err = d.ConfigCreate(ctx, swarm.ConfigSpec{Annotations: swarm.Annotations{Name: name, Labels: labels}, Data: []byte("corpus")})
	}
	if errdefs.IsConflict(err) || err != nil && strings.Contains(err.Error(), "already exists") {
		return
	}
	Expect(err).NotTo(HaveOccurred())
}

// failOnForeignFixedNames fails, never skips, a corpus file that would create a network with a
// fixed name (not stack-scoped) that already exists and is not ours: a second overlay of the
// same name would make that name ambiguous for whoever else uses it, so the daemon must be
// cleared of it first (CI's is always clean).
func failOnForeignFixedNames(ctx context.Context, dir string, c corpusCase, stack string) {
	s, err := Load(LoadOptions{WorkingDir: dir, ComposeFiles: []string{c.file}, Env: c.env, StackName: stack})
	Expect(err).NotTo(HaveOccurred())
	for key, n := range s.Config.Networks {
		if n.External.External || n.Name == "" {
			continue
		}
		if nw, err := cli.Docker().NetworkInspect(ctx, n.Name, network.InspectOptions{}); err == nil && nw.Labels[v1.LabelTestSuite] != suiteID {
			Fail(fmt.Sprintf("network %s (%s) already exists on this daemon and is not this suite's; remove it (docker network rm %s) and run again", key, n.Name, n.Name))
		}
	}
}

func copyFile(src, dst string) {
	data, err := os.ReadFile(src)
	Expect(err).NotTo(HaveOccurred())
	Expect(os.WriteFile(dst, data, 0o644)).To(Succeed())
}

func copyTree(src, dst string) {
	Expect(filepath.Walk(src, func(p string, info os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		if info.IsDir() {
			return os.MkdirAll(filepath.Join(dst, rel), 0o755)
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(dst, rel), data, info.Mode().Perm()|0o600)
	})).To(Succeed())
}

// execDocker runs the docker CLI with exactly env (plus PATH and DOCKER_HOST) as its environment.
func execDocker(ctx context.Context, env map[string]string, args ...string) (string, error) {
	return execDockerIn(ctx, GinkgoT().TempDir(), env, args...)
}

// execDockerEnv is execDocker for benchmarks, outside Ginkgo.
func execDockerEnv(ctx context.Context, env map[string]string, args ...string) (string, error) {
	dir, err := os.MkdirTemp("", "swarm-docker-config-")
	if err != nil {
		return "", err
	}
	defer os.RemoveAll(dir)
	return execDockerIn(ctx, dir, env, args...)
}

func execDockerIn(ctx context.Context, configDir string, env map[string]string, args ...string) (string, error) {
	cmd := exec.CommandContext(ctx, "docker", args...)
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "DOCKER_CONFIG=" + configDir}
	if h := os.Getenv("DOCKER_HOST"); h != "" {
		cmd.Env = append(cmd.Env, "DOCKER_HOST="+h)
	}
	for k, v := range env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	out, err := cmd.CombinedOutput()
	return string(out), err
}

func lastLine(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	return lines[len(lines)-1]
}
