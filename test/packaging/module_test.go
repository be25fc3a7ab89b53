package packaging_test

import (
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
)

const exe = fakePackagePath + "/bin/ccci-controller"

var _ = Describe("NixOS module", func() {
	// A host as docs/deploy.md configures it.
	base := func() map[string]any {
		return map[string]any{"enable": true, "resourcesDir": "/srv/ccci/resources"}
	}

	Context("when enabled with its defaults", func() {
		var cfg *moduleConfig
		BeforeEach(func(ctx SpecContext) {
			cfg = evalModule(ctx, base())
			Expect(cfg).NotTo(BeNil())
		}, NodeTimeout(time.Minute))

		It("runs the daemon on the resources and state directories and the loopback listener, with runs at once from the swarm's capacity", func() {
			daemon := cfg.Systemd.Services["ccci-controller"]
			Expect(execWords(daemon.ServiceConfig)).To(Equal([]string{
				exe, "run",
				"--resources", "/srv/ccci/resources",
				"--state", "/var/lib/ccci-controller",
				"--listen", "127.0.0.1:8089",
			}))
			Expect(daemon.WantedBy).To(ContainElement("multi-user.target"))
		})

		It("reaches Docker through the docker group, keeps state in a StateDirectory and restarts on failure", func() {
			sc := cfg.Systemd.Services["ccci-controller"].ServiceConfig
			Expect(sc).To(HaveKeyWithValue("SupplementaryGroups", ContainElement("docker")))
			Expect(sc).To(HaveKeyWithValue("StateDirectory", "ccci-controller"))
			Expect(sc).To(HaveKeyWithValue("Restart", "on-failure"))
			Expect(sc).To(HaveKeyWithValue("User", "ccci-controller"))
			Expect(cfg.Users.Users).To(HaveKeyWithValue("ccci-controller", HaveField("IsSystemUser", BeTrue())))
			Expect(sc).To(HaveKeyWithValue("ProtectSystem", "strict"))
			Expect(sc).To(HaveKeyWithValue("NoNewPrivileges", true))
		})

		It("sweeps every night through the running daemon instead of a second controller", func() {
			timer := cfg.Systemd.Timers["ccci-controller-sweep"]
			Expect(timer.TimerConfig).To(HaveKeyWithValue("OnCalendar", "*-*-* 03:00:00"))
			Expect(timer.WantedBy).To(ContainElement("timers.target"))

			sweep := cfg.Systemd.Services["ccci-controller-sweep"]
			Expect(execWords(sweep.ServiceConfig)).To(Equal([]string{exe, "sweep", "--server", "http://127.0.0.1:8089"}))
			Expect(sweep.ServiceConfig).To(HaveKeyWithValue("Type", "oneshot"))
			Expect(sweep.Requires).To(ContainElement("ccci-controller.service"))
			Expect(sweep.After).To(ContainElement("ccci-controller.service"))
			By("giving the sweep neither the state directory nor Docker")
			Expect(sweep.ServiceConfig).NotTo(HaveKey("StateDirectory"))
			Expect(sweep.ServiceConfig).NotTo(HaveKey("SupplementaryGroups"))
		})

		It("requires Docker to be enabled on the host", func() {
			Expect(cfg.Assertions).To(ContainElement(HaveField("Message", ContainSubstring("virtualisation.docker.enable"))))
		})
	})

	Context("when tokenFile is set", func() {
		It("hands the token to the daemon and the sweep as a systemd credential, never on a command line", func(ctx SpecContext) {
			settings := base()
			settings["tokenFile"] = "/run/keys/ccci-token"
			cfg := evalModule(ctx, settings)
			for _, unit := range []string{"ccci-controller", "ccci-controller-sweep"} {
				sc := cfg.Systemd.Services[unit].ServiceConfig
				Expect(sc).To(HaveKeyWithValue("LoadCredential", "token:/run/keys/ccci-token"), unit)
				words := execWords(sc)
				Expect(words).To(ContainElements("--token-file", "%d/token"), unit)
				Expect(words).NotTo(ContainElement(ContainSubstring("/run/keys")), unit)
			}
		}, NodeTimeout(time.Minute))
	})

	Context("when the listener, token, run limit, image keeping, schedule and extra arguments are set", func() {
		It("passes them on", func(ctx SpecContext) {
			settings := base()
			settings["listen"] = "0.0.0.0:9000"
			settings["tokenFile"] = "/run/keys/ccci-token"
			settings["maxRuns"] = 3
			settings["keepTestImages"] = true
			settings["extraArgs"] = []string{"--sweep-interval", "10m"}
			settings["sweep"] = map[string]any{"onCalendar": "hourly", "server": "http://127.0.0.1:9000"}
			cfg := evalModule(ctx, settings)
			Expect(execWords(cfg.Systemd.Services["ccci-controller"].ServiceConfig)).To(Equal([]string{
				exe, "run",
				"--resources", "/srv/ccci/resources",
				"--state", "/var/lib/ccci-controller",
				"--listen", "0.0.0.0:9000",
				"--max-runs", "3",
				"--keep-test-images",
				"--token-file", "%d/token",
				"--sweep-interval", "10m",
			}))
			Expect(execWords(cfg.Systemd.Services["ccci-controller-sweep"].ServiceConfig)).To(
				Equal([]string{exe, "sweep", "--server", "http://127.0.0.1:9000", "--token-file", "%d/token"}))
			Expect(cfg.Systemd.Timers["ccci-controller-sweep"].TimerConfig).To(HaveKeyWithValue("OnCalendar", "hourly"))
		}, NodeTimeout(time.Minute))
	})

	Context("when it listens beyond loopback", func() {
		DescribeTable("requires a token",
			func(ctx SpecContext, listen string, token bool, holds bool) {
				settings := base()
				settings["listen"] = listen
				if token {
					settings["tokenFile"] = "/run/keys/ccci-token"
				}
				cfg := evalModule(ctx, settings)
				Expect(cfg.Assertions).To(ContainElement(And(
					HaveField("Message", ContainSubstring("is not a loopback address")),
					HaveField("Assertion", holds),
				)))
			},
			Entry("0.0.0.0 without a token fails", NodeTimeout(time.Minute), "0.0.0.0:8089", false, false),
			Entry("0.0.0.0 with a token holds", NodeTimeout(time.Minute), "0.0.0.0:8089", true, true),
			Entry("127.0.0.1 without a token holds", NodeTimeout(time.Minute), "127.0.0.1:8089", false, true),
			Entry("[::1] without a token holds", NodeTimeout(time.Minute), "[::1]:8089", false, true),
		)
	})

	Context("when stateDir is outside /var/lib", func() {
		It("makes that directory writable instead of asking systemd to create one", func(ctx SpecContext) {
			settings := base()
			settings["stateDir"] = "/srv/ccci/state"
			sc := evalModule(ctx, settings).Systemd.Services["ccci-controller"].ServiceConfig
			Expect(sc).NotTo(HaveKey("StateDirectory"))
			Expect(sc).To(HaveKeyWithValue("ReadWritePaths", ConsistOf("/srv/ccci/state")))
			Expect(execWords(sc)).To(ContainElements("--state", "/srv/ccci/state"))
		}, NodeTimeout(time.Minute))
	})

	Context("when the sweep timer is disabled", func() {
		It("keeps the daemon and defines no timer", func(ctx SpecContext) {
			settings := base()
			settings["sweep"] = map[string]any{"enable": false}
			cfg := evalModule(ctx, settings)
			Expect(cfg.Systemd.Services).To(HaveKey("ccci-controller"))
			Expect(cfg.Systemd.Services).NotTo(HaveKey("ccci-controller-sweep"))
			Expect(cfg.Systemd.Timers).NotTo(HaveKey("ccci-controller-sweep"))
		}, NodeTimeout(time.Minute))
	})

	Context("when not enabled", func() {
		It("configures nothing", func(ctx SpecContext) {
			Expect(evalModule(ctx, map[string]any{})).To(BeNil())
		}, NodeTimeout(time.Minute))
	})
})
