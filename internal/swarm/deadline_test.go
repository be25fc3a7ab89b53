package swarm

import (
	"io"
	"net"
	"net/http"
	"path/filepath"
	"strings"
	"time"

	"github.com/docker/docker/api/types/events"
	"github.com/docker/docker/api/types/swarm"
	"github.com/docker/docker/client"
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
)

var _ = Describe("Engine API deadlines", func() {
	// hungEngine is a socket that accepts connections and never answers, as a stopped dockerd's
	// does (the kernel accepts on its behalf).
	hungEngine := func() string {
		sock := filepath.Join(GinkgoT().TempDir(), "hung.sock")
		ln, err := net.Listen("unix", sock)
		Expect(err).NotTo(HaveOccurred())
		var conns []net.Conn
		go func() {
			for {
				c, err := ln.Accept()
				if err != nil {
					return
				}
				conns = append(conns, c)
			}
		}()
		DeferCleanup(func() { ln.Close() })
		return "unix://" + sock
	}

	It("ends a read after the read deadline and a write after the write deadline, naming the engine", func(ctx SpecContext) {
		host := hungEngine()
		c, err := NewClient(client.WithHost(host), client.WithVersion("1.41"))
		Expect(err).NotTo(HaveOccurred())
		c.SetDeadlines(Deadlines{Read: 200 * time.Millisecond, Write: 600 * time.Millisecond})

		start := time.Now()
		_, err = c.docker.ServiceList(ctx, swarm.ServiceListOptions{})
		took := time.Since(start)
		Expect(err).To(MatchError(ContainSubstring("the Docker engine at " + host + " does not answer: GET /v1.41/services got no answer within 200ms")))
		Expect(IsEngineFailure(err)).To(BeTrue())
		Expect(took).To(BeNumerically("<", 5*time.Second))

		_, err = c.docker.ServiceCreate(ctx, swarm.ServiceSpec{}, swarm.ServiceCreateOptions{})
		Expect(err).To(MatchError(ContainSubstring("POST /v1.41/services/create got no answer within 600ms")))
		Expect(IsEngineFailure(err)).To(BeTrue())
	}, NodeTimeout(10*time.Second))

	It("lifts the deadline once the headers arrive, so a stream may outlive it", func(ctx SpecContext) {
		sock := filepath.Join(GinkgoT().TempDir(), "slow.sock")
		ln, err := net.Listen("unix", sock)
		Expect(err).NotTo(HaveOccurred())
		srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if !strings.HasSuffix(r.URL.Path, "/events") {
				w.WriteHeader(http.StatusNotFound)
				return
			}
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusOK)
			w.(http.Flusher).Flush()
			time.Sleep(500 * time.Millisecond) // test server: a quiet stream, longer than the deadline
			_, _ = io.WriteString(w, `{"Type":"service","Action":"update"}`+"\n")
		})}
		go func() { _ = srv.Serve(ln) }()
		DeferCleanup(func() { srv.Close() })
		c, err := NewClient(client.WithHost("unix://"+sock), client.WithVersion("1.41"))
		Expect(err).NotTo(HaveOccurred())
		c.SetDeadlines(Deadlines{Read: 100 * time.Millisecond, Write: 100 * time.Millisecond})
		msgs, errs := c.docker.Events(ctx, events.ListOptions{})
		var m events.Message
		Eventually(msgs).WithTimeout(3 * time.Second).Should(Receive(&m))
		Expect(string(m.Action)).To(Equal("update"))
		By("ending with the stream's own end, not a deadline")
		Eventually(errs).WithTimeout(3 * time.Second).Should(Receive(MatchError(io.EOF)))
	}, NodeTimeout(10*time.Second))
})
