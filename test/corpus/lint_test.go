package corpus_test

import (
	"context"
	"fmt"
	"io"
	"path/filepath"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	v1 "coopcloud.tech/ccci-controller/api/v1"
	"coopcloud.tech/ccci-controller/internal/recipe"
	"coopcloud.tech/ccci-controller/internal/swarm"
	"coopcloud.tech/ccci-controller/internal/tiers"
)

// noSwarm is the Swarm of a lint-only run: lint deploys nothing, so any call is a failure.
type noSwarm struct{}

func (noSwarm) fail(what string) error {
	Fail("lint called the Swarm: " + what)
	return fmt.Errorf("no swarm")
}
func (n noSwarm) Deploy(context.Context, *swarm.Stack, swarm.DeployOptions) (swarm.DeployResult, error) {
	return swarm.DeployResult{}, n.fail("Deploy")
}
func (n noSwarm) WaitConverged(context.Context, string, time.Duration) error {
	return n.fail("WaitConverged")
}
func (n noSwarm) ObserveStack(context.Context, string) (swarm.StackState, error) {
	return swarm.StackState{}, n.fail("ObserveStack")
}
func (n noSwarm) Exec(context.Context, string, string, []string, ...string) (swarm.ExecResult, error) {
	return swarm.ExecResult{}, n.fail("Exec")
}
func (n noSwarm) HasFile(context.Context, string, string, string) (bool, error) {
	return false, n.fail("HasFile")
}
func (n noSwarm) CopyFrom(context.Context, string, string, string) (io.ReadCloser, error) {
	return nil, n.fail("CopyFrom")
}
func (n noSwarm) CopyTo(context.Context, string, string, string, io.Reader) error {
	return n.fail("CopyTo")
}
func (n noSwarm) Remove(context.Context, string, bool) error { return n.fail("Remove") }
func (n noSwarm) RemoveData(context.Context, string) error   { return n.fail("RemoveData") }
func (n noSwarm) RunStacks(context.Context, map[string]string) (map[string][]string, error) {
	return nil, n.fail("RunStacks")
}

func (n noSwarm) StackNetworks(context.Context, string) ([]string, error) {
	return nil, n.fail("StackNetworks")
}

func (n noSwarm) RunJob(context.Context, swarm.Job) (swarm.JobResult, error) {
	return swarm.JobResult{}, n.fail("RunJob")
}

func (n noSwarm) NewImages() *swarm.Images { return nil }

func (n noSwarm) ResolveImages(context.Context, *swarm.Images, *swarm.Stack) ([]swarm.ServiceImage, error) {
	return nil, n.fail("ResolveImages")
}

func (n noSwarm) SnapshotImages(context.Context) (*swarm.NodeImages, error) {
	return nil, n.fail("SnapshotImages")
}

func (n noSwarm) RemoveRunImages(context.Context, *swarm.NodeImages, []string) ([]swarm.RemovedImage, error) {
	return nil, n.fail("RemoveRunImages")
}

// lintRun runs the lint tier (and the tier plan) on the newest tag of a corpus recipe, as a
// new user's RecipeTest with nothing but the recipe's source would.
func lintRun(ctx context.Context, name string, env map[string]string) v1.Run {
	dir := GinkgoT().TempDir()
	src, err := recipe.Open(ctx, name, recipes[name], recipe.Options{CacheDir: filepath.Join(dir, "cache")})
	Expect(err).NotTo(HaveOccurred())
	versions, err := src.Versions(ctx)
	Expect(err).NotTo(HaveOccurred())
	newest, ok := versions.Latest()
	Expect(ok).To(BeTrue(), "%s has no version tag", name)
	rt := v1.RecipeTest{Metadata: v1.ObjectMeta{Name: name}, Spec: v1.RecipeTestSpec{
		Source: v1.Source{Git: recipes[name]},
		Tiers:  []v1.Tier{{Name: v1.TierLint}}, Env: env,
	}}
	rt.Default()
	runner := tiers.NewRunner(noSwarm{}, tiers.Options{})
	rec, err := runner.Run(ctx, tiers.Request{RunID: tiers.NewRunID(), Spec: rt.Spec, Source: src, Ref: newest.Tag, RunDir: filepath.Join(dir, "run")})
	Expect(err).NotTo(HaveOccurred())
	return rec
}

// lintCase is a recipe's lint verdict at its newest tag, derived by hand from the recipe's
// files: which images are unpinned, what its app service's version label says, which
// variables have no default and no value in .env.sample or abra.sh.
type lintCase struct {
	result   v1.Result
	problems []string
	warnings []string
}

var lintCases = map[string]lintCase{
	// labels coop-cloud.${STACK_NAME}.app=true, not .version
	"abramon": {v1.ResultFailed, []string{`services.app.deploy.labels has no coop-cloud.${STACK_NAME}.version; want "0.1.0+0.1.0"`}, nil},
	// "coop-cloud.${STACK_NAME}.version=" is empty; Host(`${DOMAIN}`${EXTRA_DOMAINS}) and SOURCES_YML_URL have no default
	"agora": {v1.ResultFailed, []string{`services.app.deploy.labels coop-cloud.${STACK_NAME}.version is "", want the tag under test "0.1.0+testing"`},
		[]string{"compose.yml: ${EXTRA_DOMAINS} interpolates to empty", "compose.yml: ${SOURCES_YML_URL} interpolates to empty"}},
	// the label says 0.0.1, the tag 0.0.1+0.6.0; BORE_SECRET=${SECRET} with nothing setting SECRET
	"bore": {v1.ResultFailed, []string{`services.app.deploy.labels coop-cloud.${STACK_NAME}.version is "0.0.1", want the tag under test "0.0.1+0.6.0"`},
		[]string{"compose.yml: ${SECRET} interpolates to empty"}},
	// the pre-2021 coop-cloud.${STACK_NAME}.app.version label
	"custom-php": {v1.ResultFailed, []string{`services.app.deploy.labels has no coop-cloud.${STACK_NAME}.version; want "0.1.0+7.4"`},
		[]string{"compose.yml: ${EXTRA_DOMAINS} interpolates to empty"}},
	"foodsharing-cms": {v1.ResultPassed, nil, nil},
	// gaseousserver:latest and a bare mariadb
	"gaseous": {v1.ResultFailed, []string{
		`services.app.image "gaseousgames/gaseousserver:latest" uses latest`,
		`services.db.image "mariadb" has no tag`,
	}, []string{"compose.yml: ${EXTRA_DOMAINS} interpolates to empty"}},
	"go-ssb-room": {v1.ResultFailed, []string{`services.app.deploy.labels has no coop-cloud.${STACK_NAME}.version; want "1.0.0+2.0.3"`}, nil},
	// ${LLAMENOS_TAG:-latest}, strfry:latest, the version label sits on web, not app; the
	// backup labels mix both styles and use a label the spec does not have
	"llamenos": {v1.ResultFailed, []string{
		`services.app.image "ghcr.io/rhonda-rodododo/llamenos:latest" uses latest`,
		`services.relay.image "dockurr/strfry:latest" uses latest`,
		`services.app.deploy.labels has no coop-cloud.${STACK_NAME}.version; want "0.1.0+0.1.0"`,
	}, []string{
		"services.db.deploy.labels backupbot.backup.command is not a label of the backup spec",
		"backup labels mix the backup spec",
	}},
	// ${IMAGE:-nodex-next:latest}; .env.sample lives in deploy/; ROUTER_RULE and LETS_ENCRYPT_ENV
	// are left to deploy.sh
	"nodex-next": {v1.ResultFailed, []string{`services.app.image "nodex-next:latest" uses latest`}, []string{
		"no .env.sample at the recipe root",
		"compose.yml: ${LETS_ENCRYPT_ENV} interpolates to empty",
		"compose.yml: ${ROUTER_RULE} interpolates to empty",
	}},
	"traefik": {v1.ResultFailed, []string{`services.app.deploy.labels has no coop-cloud.${STACK_NAME}.version; want "1.0.0+v2.4.8"`}, nil},
	"wordpress": {v1.ResultFailed, []string{`services.app.deploy.labels has no coop-cloud.${STACK_NAME}.version; want "0.3.1+5.7.2"`},
		[]string{"compose.yml: ${EXTRA_DOMAINS} interpolates to empty", "compose.yml: ${WORDPRESS_CONFIG_EXTRA} interpolates to empty"}},
}

// lintTier returns the lint tier of a run.
func lintTier(rec v1.Run) v1.TierResult {
	Expect(rec.Tiers).To(HaveLen(1))
	Expect(rec.Tiers[0].Name).To(Equal(v1.TierLint))
	return rec.Tiers[0]
}

// counted is "1 problem" or "2 problems", as lint writes them.
func counted(n int, noun string) string {
	if n != 1 {
		noun += "s"
	}
	return fmt.Sprintf("%d %s", n, noun)
}

var _ = Describe("Lint of the public recipes", func() {
	It("gives each recipe its hand-derived verdict, problems and warnings", func(ctx SpecContext) {
		Expect(lintCases).To(HaveLen(len(recipeNames)))
		for _, name := range recipeNames {
			want := lintCases[name]
			t := lintTier(lintRun(ctx, name, nil))
			Expect(t.Result).To(Equal(want.result), "%s: %s", name, t.Reason)
			if len(want.problems) > 0 {
				Expect(t.Reason).To(HavePrefix(counted(len(want.problems), "problem")+": "), name)
			}
			for _, p := range append(want.problems, want.warnings...) {
				Expect(t.Reason).To(ContainSubstring(p), name)
			}
			if len(want.warnings) > 0 {
				Expect(t.Reason).To(ContainSubstring("; "+counted(len(want.warnings), "warning")+": "), name)
			} else {
				Expect(t.Reason).NotTo(ContainSubstring("warning"), name)
			}
		}
	}, NodeTimeout(2*time.Minute))

	It("names the variables to set for an overlay whose secret versions .env.sample leaves commented out", func(ctx SpecContext) {
		// llamenos' .env.sample: "#   SECRET_ARI_PASSWORD_VERSION=v1" under "Asterisk PBX".
		t := lintTier(lintRun(ctx, "llamenos", map[string]string{"COMPOSE_FILE": "$COMPOSE_FILE:compose.asterisk.yml"}))
		Expect(t.Result).To(Equal(v1.ResultFailed))
		Expect(t.Reason).To(ContainSubstring(`secrets.ari_password: name "${STACK_NAME}_ari_password_${SECRET_ARI_PASSWORD_VERSION}" uses SECRET_ARI_PASSWORD_VERSION, which neither .env.sample nor spec.env sets`))
		Expect(t.Reason).To(ContainSubstring(`secrets.bridge_secret: name "${STACK_NAME}_bridge_secret_${SECRET_BRIDGE_SECRET_VERSION}" uses SECRET_BRIDGE_SECRET_VERSION`))
	}, NodeTimeout(time.Minute))
})
