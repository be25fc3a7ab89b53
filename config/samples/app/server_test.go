package main

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
)

// do sends one request to a fresh server for cfg and returns status and body.
func do(cfg config, method, path, body string) (int, string) {
	rec := httptest.NewRecorder()
	newServer(cfg).ServeHTTP(rec, httptest.NewRequest(method, path, strings.NewReader(body)))
	return rec.Code, rec.Body.String()
}

var _ = Describe("the sample app server", func() {
	var cfg config

	BeforeEach(func() {
		cfg = config{Version: "1.1", DataDir: GinkgoT().TempDir(), MOTDFile: filepath.Join(GinkgoT().TempDir(), "motd")}
	})

	Describe("/healthz", func() {
		It("answers 200 when healthy", func() {
			code, _ := do(cfg, http.MethodGet, "/healthz", "")
			Expect(code).To(Equal(http.StatusOK))
		})

		Context("when SAMPLE_UNHEALTHY=true", func() {
			It("answers 503", func() {
				cfg.Unhealthy = true
				code, body := do(cfg, http.MethodGet, "/healthz", "")
				Expect(code).To(Equal(http.StatusServiceUnavailable))
				Expect(body).To(ContainSubstring("SAMPLE_UNHEALTHY"))
			})
		})
	})

	Describe("/version", func() {
		It("returns the baked-in version", func() {
			code, body := do(cfg, http.MethodGet, "/version", "")
			Expect(code).To(Equal(http.StatusOK))
			Expect(body).To(Equal("1.1\n"))
		})
	})

	Describe("/state", func() {
		Context("when nothing was stored", func() {
			It("answers 404", func() {
				code, _ := do(cfg, http.MethodGet, "/state", "")
				Expect(code).To(Equal(http.StatusNotFound))
			})
		})

		Context("when a value was PUT", func() {
			It("returns it from a new server on the same data directory", func() {
				By("storing a marker")
				code, _ := do(cfg, http.MethodPut, "/state", "marker-42")
				Expect(code).To(Equal(http.StatusNoContent))

				By("reading it back as a restarted app would")
				code, body := do(cfg, http.MethodGet, "/state", "")
				Expect(code).To(Equal(http.StatusOK))
				Expect(body).To(Equal("marker-42"))
				Expect(os.ReadFile(filepath.Join(cfg.DataDir, "state"))).To(Equal([]byte("marker-42")))
			})

			It("replaces the file without leaving temporary files behind", func() {
				do(cfg, http.MethodPut, "/state", "one")
				do(cfg, http.MethodPut, "/state", "two")
				entries, err := os.ReadDir(cfg.DataDir)
				Expect(err).NotTo(HaveOccurred())
				Expect(entries).To(HaveLen(1))
				Expect(entries[0].Name()).To(Equal("state"))
			})
		})

		Context("when the body is larger than 1 MiB", func() {
			It("refuses it and keeps the old state", func() {
				do(cfg, http.MethodPut, "/state", "old")
				code, _ := do(cfg, http.MethodPut, "/state", strings.Repeat("x", maxStateBytes+1))
				Expect(code).To(Equal(http.StatusRequestEntityTooLarge))
				_, body := do(cfg, http.MethodGet, "/state", "")
				Expect(body).To(Equal("old"))
			})
		})
	})

	Describe("/motd", func() {
		It("serves the mounted config file", func() {
			Expect(os.WriteFile(cfg.MOTDFile, []byte("hello\n"), 0o644)).To(Succeed())
			code, body := do(cfg, http.MethodGet, "/motd", "")
			Expect(code).To(Equal(http.StatusOK))
			Expect(body).To(Equal("hello\n"))
		})
	})
})

var _ = Describe("the healthcheck subcommand", func() {
	It("succeeds when /healthz answers 200", func() {
		srv := httptest.NewServer(newServer(config{}))
		DeferCleanup(srv.Close)
		Expect(healthcheck(config{}, srv.URL+"/healthz")).To(Succeed())
	})

	It("fails when /healthz answers 503", func() {
		srv := httptest.NewServer(newServer(config{Unhealthy: true}))
		DeferCleanup(srv.Close)
		Expect(healthcheck(config{}, srv.URL+"/healthz")).To(MatchError(ContainSubstring("503")))
	})

	It("fails when nothing listens", func() {
		Expect(healthcheck(config{}, "http://127.0.0.1:1/healthz")).NotTo(Succeed())
	})

	Context("when SAMPLE_UNHEALTHY=true", func() {
		It("fails even though the server would answer 200", func() {
			srv := httptest.NewServer(newServer(config{}))
			DeferCleanup(srv.Close)
			Expect(healthcheck(config{Unhealthy: true}, srv.URL+"/healthz")).To(MatchError(ContainSubstring("SAMPLE_UNHEALTHY")))
		})
	})
})

var _ = Describe("the tool subcommands", func() {
	var dataDir string

	// runApp runs the app's command line with SAMPLE_DATA_DIR pointing at a temporary dir.
	runApp := func(args ...string) (int, string, string) {
		GinkgoT().Setenv("SAMPLE_DATA_DIR", dataDir)
		var stdout, stderr bytes.Buffer
		code := run(args, &stdout, &stderr)
		return code, stdout.String(), stderr.String()
	}

	BeforeEach(func() { dataDir = GinkgoT().TempDir() })

	It("sets and gets the state the server serves", func() {
		code, _, _ := runApp("state", "set", "restored-marker")
		Expect(code).To(Equal(0))
		code, out, _ := runApp("state", "get")
		Expect(code).To(Equal(0))
		Expect(out).To(Equal("restored-marker"))
		_, body := do(config{DataDir: dataDir}, http.MethodGet, "/state", "")
		Expect(body).To(Equal("restored-marker"))
	})

	It("fails to get a state after clear", func() {
		runApp("state", "set", "x")
		code, _, _ := runApp("state", "clear")
		Expect(code).To(Equal(0))
		code, _, stderr := runApp("state", "get")
		Expect(code).To(Equal(1))
		Expect(stderr).To(ContainSubstring("no such file"))
	})

	It("touches, checks and prints files", func() {
		f := filepath.Join(dataDir, "sub", "marker")
		code, _, _ := runApp("exists", f)
		Expect(code).To(Equal(1))
		code, _, _ = runApp("touch", f)
		Expect(code).To(Equal(0))
		code, _, _ = runApp("exists", f)
		Expect(code).To(Equal(0))
		Expect(os.WriteFile(f, []byte("motd"), 0o644)).To(Succeed())
		code, out, _ := runApp("cat", f)
		Expect(code).To(Equal(0))
		Expect(out).To(Equal("motd"))
	})

	It("prints the baked-in version", func() {
		GinkgoT().Setenv("APP_VERSION", "2.0")
		code, out, _ := runApp("version")
		Expect(code).To(Equal(0))
		Expect(out).To(Equal("2.0\n"))
	})

	DescribeTable("rejects bad command lines with exit code 1",
		func(args []string, wantErr string) {
			code, _, stderr := runApp(args...)
			Expect(code).To(Equal(1))
			Expect(stderr).To(ContainSubstring(wantErr))
		},
		Entry("unknown command", []string{"frobnicate"}, `unknown command "frobnicate"`),
		Entry("state without subcommand", []string{"state"}, "missing subcommand"),
		Entry("state set without value", []string{"state", "set"}, "bad arguments"),
		Entry("touch without file", []string{"touch"}, "missing FILE"),
	)
})
