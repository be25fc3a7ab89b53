//go:build integration

package integration

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	v1 "coopcloud.tech/ccci-controller/api/v1"
	"coopcloud.tech/ccci-controller/test/fixtures"
)

// abraApp is one app deployed by hand the way abra deploys it: its env file in the server's
// directory, its secret created beforehand, its stack named by abra's rule.
type abraApp struct {
	domain, stack, tag string
	// envLines are the env file's lines besides DOMAIN and the sample's settings.
	envLines []string
}

// An operator moving a Co-op Cloud host to the controller adopts what abra runs: the import
// must name the stacks abra named, and the resources it prints must converge with no write.
var _ = Describe("import abra", Ordered, func() {
	var (
		w        *world
		apps     []abraApp
		servers  string
		recipeTm string
	)

	BeforeAll(func(ctx SpecContext) {
		w = newWorld()
		id := randomID()
		apps = []abraApp{
			// Running 1.1.0+1.1 though the file pins an older version: the engine wins.
			{domain: "one-" + id + ".example.org", tag: tag11, envLines: []string{"RECIPE=sample:1.0.0+1.0"}},
			// No pin: the running stack's label gives the version.
			{domain: "two-" + id + ".example.org", tag: tag11, envLines: []string{"RECIPE=sample"}},
			// The older TYPE= and a STACK_NAME set by hand in the file.
			{domain: "three-" + id + ".example.org", tag: tag10, envLines: []string{"TYPE=sample:1.0.0+1.0", "STACK_NAME=abra_three_" + id}},
		}
		apps[0].stack = strings.ReplaceAll(apps[0].domain, ".", "_")
		apps[1].stack = strings.ReplaceAll(apps[1].domain, ".", "_")
		apps[2].stack = "abra_three_" + id

		By("writing the recipe where --recipe-source finds it, and the server's env files")
		recipes := filepath.Join(w.dir, "recipes")
		_, err := fixtures.SampleRecipe(filepath.Join(recipes, "sample"))
		Expect(err).NotTo(HaveOccurred())
		recipeTm = recipes + "/{{ .Recipe }}"
		servers = filepath.Join(w.dir, "servers", "example.org")
		Expect(os.MkdirAll(servers, 0o755)).To(Succeed())
		for _, a := range apps {
			env := append(append([]string{}, a.envLines...), "DOMAIN="+a.domain, "SAMPLE_UNHEALTHY=false",
				"SECRET_DB_PASSWORD_VERSION=v1", "MOTD_VERSION=v1", "COMPOSE_FILE=compose.yml")
			Expect(os.WriteFile(filepath.Join(servers, a.domain+".env"), []byte(strings.Join(env, "\n")+"\n"), 0o600)).To(Succeed())
		}
		// abra's secret store is not an env file: the import must not trip over it.
		Expect(os.WriteFile(filepath.Join(servers, "notes.txt"), []byte("not an app\n"), 0o600)).To(Succeed())

		for _, a := range apps {
			deployLikeAbra(ctx, w, servers, a)
		}
	}, NodeTimeout(4*time.Minute))

	It("prints resources that validate and adopt every app with no Swarm write", func(ctx SpecContext) {
		By("importing the server's env files")
		out, errOut, code := w.ccciPlain(ctx, "import", "abra", servers, "--recipe-source", recipeTm)
		Expect(code).To(Equal(0), errOut)
		Expect(out).To(ContainSubstring("kind: RecipeTest"))
		Expect(strings.Count(out, "kind: RecipeTest")).To(Equal(1), "one RecipeTest per distinct recipe")
		Expect(strings.Count(out, "kind: WarmCanonical")).To(Equal(3))
		Expect(out).To(ContainSubstring("git: " + filepath.Join(w.dir, "recipes", "sample")))
		Expect(out).NotTo(MatchRegexp(`(?m)^\s+(RECIPE|TYPE|STACK_NAME):`), "abra's bookkeeping keys are not env")
		Expect(out).To(ContainSubstring("SECRET_DB_PASSWORD_VERSION: v1"))
		for _, a := range apps {
			Expect(out).To(ContainSubstring("stack: " + a.stack))
			Expect(out).To(ContainSubstring("name: " + strings.ReplaceAll(a.domain, ".", "-")))
		}
		objs, err := v1.Parse("import", []byte(out))
		Expect(err).NotTo(HaveOccurred())
		versions := map[string]string{}
		for _, o := range objs {
			if wc, ok := o.(*v1.WarmCanonical); ok {
				versions[wc.Spec.Stack] = wc.Spec.Version
			}
		}
		Expect(versions).To(Equal(map[string]string{apps[0].stack: tag11, apps[1].stack: tag11, apps[2].stack: tag10}),
			"the versions the stacks run, read from their labels")

		By("validating the output as a resource file")
		file := filepath.Join(w.resources, "adopted.yaml")
		Expect(os.WriteFile(file, []byte(out), 0o644)).To(Succeed())
		_, errOut, code = w.ccciPlain(ctx, "validate", file)
		Expect(code).To(Equal(0), errOut)

		By("sweeping: every app CONVERGED, and Docker reports no write to their stacks")
		before := map[string]map[string]uint64{}
		for _, a := range apps {
			before[a.stack] = stackIndexes(ctx, a.stack)
		}
		start := time.Now()
		out, _, code = w.ccci(ctx, "sweep")
		Expect(code).To(Equal(0), out)
		for _, a := range apps {
			Expect(out).To(MatchRegexp(`(?m)^`+strings.ReplaceAll(a.domain, ".", "-")+`\s+\S+\s+\S+\s+CONVERGED\b`), a.domain)
		}
		for _, a := range apps {
			Expect(swarmWrites(ctx, start, a.stack)).To(BeEmpty(), "no write to %s", a.stack)
			Expect(stackIndexes(ctx, a.stack)).To(Equal(before[a.stack]))
		}
		Expect(w.runs()).To(BeEmpty())
	}, NodeTimeout(3*time.Minute))

	It("lists the files it cannot map, with the reason, and prints the others", func(ctx SpecContext) {
		Expect(os.WriteFile(filepath.Join(servers, "norecipe.example.org.env"), []byte("DOMAIN=norecipe.example.org\nSECRET_X_VERSION=v9\n"), 0o600)).To(Succeed())
		out, errOut, code := w.ccciPlain(ctx, "import", "abra", servers, "--recipe-source", recipeTm)
		Expect(code).To(Equal(1))
		Expect(strings.Count(out, "kind: WarmCanonical")).To(Equal(3))
		Expect(errOut).To(ContainSubstring(filepath.Join(servers, "norecipe.example.org.env") + ": no RECIPE= or TYPE="))
		Expect(errOut).NotTo(ContainSubstring("v9"), "no value of the file is quoted")
	}, NodeTimeout(time.Minute))
})

// deployLikeAbra deploys app as abra does: its secret first (abra app secret generate), then
// docker stack deploy of the recipe at the app's version with the env file's variables and
// STACK_NAME, which the recipe's labels name the stack with.
func deployLikeAbra(ctx SpecContext, w *world, servers string, a abraApp) {
	GinkgoHelper()
	tree := filepath.Join(w.dir, "tree-"+a.stack)
	gitIn(ctx, "", "clone", "-q", "--branch", a.tag, filepath.Join(w.dir, "recipes", "sample"), tree)
	secret := a.stack + "_db_password_v1"
	sh := exec.CommandContext(ctx, "sh", "-c", `set -a && . "$ENV_FILE" && set +a &&
printf s3cretpassword | docker secret create --label "$SUITE" "$SECRET" - >/dev/null &&
docker stack deploy -c compose.yml "$STACK_NAME" >/dev/null`)
	sh.Dir = tree
	sh.Env = append(os.Environ(), "ENV_FILE="+filepath.Join(servers, a.domain+".env"), "STACK_NAME="+a.stack,
		"SECRET="+secret, "SUITE="+v1.LabelTestSuite+"="+suiteID)
	out, err := sh.CombinedOutput()
	Expect(err).NotTo(HaveOccurred(), string(out))
	DeferCleanup(func(ctx SpecContext) {
		c, err := ccciswarmClient()
		Expect(err).NotTo(HaveOccurred())
		Expect(c.Remove(ctx, a.stack, true)).To(Succeed())
		// Swarm refuses to remove a secret a task still uses: wait for the stack to go.
		Eventually(func() error { return docker.SecretRemove(ctx, secret) }).WithContext(ctx).
			WithTimeout(30 * time.Second).WithPolling(500 * time.Millisecond).Should(Succeed())
	}, NodeTimeout(time.Minute))
	Eventually(func() bool {
		return stackVersion(ctx, a.stack) == a.tag && stackConverged(ctx, a.stack)
	}).WithContext(ctx).WithTimeout(time.Minute).WithPolling(time.Second).Should(BeTrue(), "stack %s at %s", a.stack, a.tag)
}

// stackIndexes returns the Version.Index of every service of stack.
func stackIndexes(ctx context.Context, stack string) map[string]uint64 {
	return (&world{stack: stack}).serviceIndexes(ctx)
}
