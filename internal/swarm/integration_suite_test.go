//go:build integration

package swarm

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"maps"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/docker/docker/api/types/filters"
	"github.com/docker/docker/api/types/network"
	"github.com/docker/docker/api/types/swarm"
	"github.com/docker/docker/api/types/volume"
	"github.com/docker/docker/client"
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	v1 "coopcloud.tech/ccci-controller/api/v1"
)

// testImage is the swarm package's own image, built from testdata/app.
const testImage = "ccci-swarmtest"

var (
	// suiteID labels everything this run creates (v1.LabelTestSuite).
	suiteID string
	// cli is a Client whose requests are counted.
	cli     *Client
	counter *countingTransport
)

var _ = BeforeSuite(func(ctx SpecContext) {
	suiteID = "swarm-" + randomSuffix()
	Expect(buildTestImages(ctx)).To(Succeed())
	var err error
	cli, counter, err = countingClient()
	Expect(err).NotTo(HaveOccurred())
}, NodeTimeout(5*time.Minute))

var _ = AfterSuite(func(ctx SpecContext) {
	if cli == nil {
		return
	}
	stacks, err := cli.StacksWithLabel(ctx, v1.LabelTestSuite, suiteID)
	Expect(err).NotTo(HaveOccurred())
	for _, s := range stacks {
		Expect(cli.Remove(ctx, s, true)).To(Succeed())
	}
	removeLabelled(ctx)
}, NodeTimeout(5*time.Minute))

// removeLabelled removes the suite's objects that belong to no stack (external networks and
// secrets made for the corpus).
func removeLabelled(ctx context.Context) {
	d := cli.Docker()
	f := filters.NewArgs(filters.Arg("label", v1.LabelTestSuite+"="+suiteID))
	secs, _ := d.SecretList(ctx, swarm.SecretListOptions{Filters: f})
	for _, s := range secs {
		_ = d.SecretRemove(ctx, s.ID)
	}
	cfgs, _ := d.ConfigList(ctx, swarm.ConfigListOptions{Filters: f})
	for _, c := range cfgs {
		_ = d.ConfigRemove(ctx, c.ID)
	}
	nets, _ := d.NetworkList(ctx, network.ListOptions{Filters: f})
	for _, n := range nets {
		_ = d.NetworkRemove(ctx, n.ID)
	}
	vols, _ := d.VolumeList(ctx, volume.ListOptions{Filters: f})
	for _, v := range vols.Volumes {
		_ = d.VolumeRemove(ctx, v.Name, false)
	}
}

func randomSuffix() string {
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// buildTestImages builds ccci-swarmtest:1 and :2 (same binary, different baked-in version)
// from testdata/app unless present. A scratch image needs no registry.
func buildTestImages(ctx context.Context) error {
	missing := false
	for _, tag := range []string{"1", "2"} {
		if exec.CommandContext(ctx, "docker", "image", "inspect", testImage+":"+tag).Run() != nil {
			missing = true
		}
	}
	if !missing {
		return nil
	}
	dir, err := os.MkdirTemp("", "swarmtest-image-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	build := exec.CommandContext(ctx, "go", "build", "-o", filepath.Join(dir, "app"), "./testdata/app")
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		return fmt.Errorf("build test binary: %v: %s", err, out)
	}
	df, err := os.ReadFile("testdata/app/Dockerfile")
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(dir, "Dockerfile"), df, 0o644); err != nil {
		return err
	}
	for _, tag := range []string{"1", "2"} {
		cmd := exec.CommandContext(ctx, "docker", "build", "-q", "-t", testImage+":"+tag, "--build-arg", "VERSION="+tag, dir)
		cmd.Env = append(os.Environ(), "DOCKER_BUILDKIT=0")
		if out, err := cmd.CombinedOutput(); err != nil {
			return fmt.Errorf("build test image %s: %v: %s", tag, err, out)
		}
	}
	return nil
}

// countingTransport counts Engine API requests by method, leaving out the version-negotiation
// ping, which the client sends once per connection setup and which no operation asks for.
type countingTransport struct {
	mu    sync.Mutex
	base  http.RoundTripper
	calls map[string]int
	paths []string
}

func (t *countingTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	if !strings.HasSuffix(r.URL.Path, "/_ping") {
		t.mu.Lock()
		t.calls[r.Method]++
		t.paths = append(t.paths, r.Method+" "+r.URL.Path)
		t.mu.Unlock()
	}
	return t.base.RoundTrip(r)
}

// reset zeroes the counters.
func (t *countingTransport) reset() {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.calls = map[string]int{}
	t.paths = nil
}

// total returns the number of requests since reset.
func (t *countingTransport) total() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	n := 0
	for _, c := range t.calls {
		n += c
	}
	return n
}

// writes returns the write requests (anything but GET and HEAD) since reset.
func (t *countingTransport) writes() []string {
	t.mu.Lock()
	defer t.mu.Unlock()
	var out []string
	for _, p := range t.paths {
		if !strings.HasPrefix(p, "GET ") && !strings.HasPrefix(p, "HEAD ") {
			out = append(out, p)
		}
	}
	return out
}

// countingClient returns a Client that talks to the local daemon socket through a
// countingTransport.
func countingClient() (*Client, *countingTransport, error) {
	sock := "/var/run/docker.sock"
	if h := os.Getenv("DOCKER_HOST"); strings.HasPrefix(h, "unix://") {
		sock = strings.TrimPrefix(h, "unix://")
	}
	base := &http.Transport{DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
		var d net.Dialer
		return d.DialContext(ctx, "unix", sock)
	}}
	ct := &countingTransport{base: base, calls: map[string]int{}}
	c, err := NewClient(client.WithHost("unix://"+sock), client.WithHTTPClient(&http.Client{Transport: ct}))
	return c, ct, err
}

// testStack copies testdata/stack into a temporary directory and loads it for a fresh stack
// name; env overrides the defaults (version 1).
func testStack(name string, files []string, env map[string]string) (*Stack, string) {
	dir := GinkgoT().TempDir()
	for _, f := range []string{"compose.yml", "compose.worker.yml", "motd.txt"} {
		data, err := os.ReadFile(filepath.Join("testdata/stack", f))
		Expect(err).NotTo(HaveOccurred())
		Expect(os.WriteFile(filepath.Join(dir, f), data, 0o644)).To(Succeed())
	}
	return loadTestStack(dir, name, files, env), dir
}

func loadTestStack(dir, name string, files []string, env map[string]string) *Stack {
	all := map[string]string{
		"APP_IMAGE_TAG": "1", "RECIPE_VERSION": "1.0.0+1", "UNHEALTHY": "false",
		"SECRET_DB_PASSWORD_VERSION": "v1", "MOTD_VERSION": "v1",
	}
	maps.Copy(all, env)
	s, err := Load(LoadOptions{WorkingDir: dir, ComposeFiles: files, Env: all, StackName: name})
	Expect(err).NotTo(HaveOccurred())
	return s
}

// deployOptions are the options of a test deploy: labelled with the suite id.
func deployOptions(version string) DeployOptions {
	return DeployOptions{
		Version: version, Role: v1.RoleTest, RunID: "run-" + suiteID,
		Labels:  map[string]string{v1.LabelTestSuite: suiteID},
		Secrets: map[string]SecretPolicy{"db_password": {Length: 24, Generate: true}},
	}
}

// versionIndexes returns each service's Version.Index.
func versionIndexes(st StackState) map[string]uint64 {
	out := map[string]uint64{}
	for _, s := range st.Services {
		out[s.Name] = s.VersionIndex
	}
	return out
}
