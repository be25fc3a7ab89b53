package server_test

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"coopcloud.tech/ccci-controller/internal/server"
)

// serve runs srv on a real loopback listener, as the daemon does, until the spec ends, and
// returns its port.
func serve(srv *server.Server) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	Expect(err).NotTo(HaveOccurred())
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ctx, ln) }()
	DeferCleanup(func() {
		cancel()
		Eventually(done).WithTimeout(10 * time.Second).WithPolling(10 * time.Millisecond).Should(Receive(BeNil()))
	})
	_, port, err := net.SplitHostPort(ln.Addr().String())
	Expect(err).NotTo(HaveOccurred())
	return port
}

// clientFrom returns an HTTP client whose connections come from the loopback address local,
// so that a spec can be two clients on one machine.
func clientFrom(local string) *http.Client {
	d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(local)}}
	return &http.Client{Transport: &http.Transport{DialContext: d.DialContext, DisableKeepAlives: true}, Timeout: 10 * time.Second}
}

// slowBackend answers a trigger after a pause, as one that waits for a test run does.
type slowBackend struct{ pause time.Duration }

func (b slowBackend) Trigger(ctx context.Context, _ server.Trigger) (any, error) {
	select {
	case <-time.After(b.pause):
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	return map[string]string{"result": "Passed"}, nil
}

var _ = Describe("The listener", func() {
	const token = "s3cret-token"
	sweep := `{"action":"sweep"}`

	do := func(c *http.Client, method, url, host, bearer, body string) (int, string) {
		req, err := http.NewRequest(method, url, strings.NewReader(body))
		Expect(err).NotTo(HaveOccurred())
		if host != "" {
			req.Host = host
		}
		if bearer != "" {
			req.Header.Set("Authorization", "Bearer "+bearer)
		}
		req.Header.Set("Content-Type", "application/json")
		resp, err := c.Do(req)
		Expect(err).NotTo(HaveOccurred())
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		Expect(err).NotTo(HaveOccurred())
		return resp.StatusCode, string(b)
	}

	Context("when a request names a foreign Host (DNS rebinding)", func() {
		It("answers 421 with a one-line reason on every route, and serves loopback and public hosts", func() {
			backend := &recordingBackend{}
			port := serve(server.New(server.Options{Backend: backend, PublicURL: "https://ci.example.org/ccci"}))
			c := clientFrom("127.0.0.1")
			base := "http://127.0.0.1:" + port
			for _, route := range []struct{ method, path string }{
				{"GET", "/healthz"}, {"GET", "/readyz"}, {"POST", "/api/v1/trigger"}, {"GET", "/api/v1/objects"},
				{"POST", "/api/v1/objects/wc/app/suspend"}, {"GET", "/"}, {"GET", "/no/such/route"},
			} {
				for _, host := range []string{"attacker.example:" + port, "attacker.example", "ci.example.org.attacker.example", "127.0.0.1.nip.io:" + port} {
					code, body := do(c, route.method, base+route.path, host, "", sweep)
					Expect(code).To(Equal(http.StatusMisdirectedRequest), "%s %s with Host %s", route.method, route.path, host)
					Expect(strings.TrimSpace(body)).To(Equal("misdirected request: this server does not answer to that Host (valid: localhost, a loopback address, or ci.example.org)"))
				}
			}
			Expect(backend.got).To(BeEmpty())

			for _, host := range []string{"127.0.0.1:" + port, "localhost:" + port, "LOCALHOST", "[::1]:" + port, "127.0.0.2", "ci.example.org", "CI.example.org:443"} {
				code, _ := do(c, "GET", base+"/healthz", host, "", "")
				Expect(code).To(Equal(http.StatusOK), host)
			}
			code, _ := do(c, "POST", base+"/api/v1/trigger", "ci.example.org", "", sweep)
			Expect(code).To(Equal(http.StatusAccepted))
			Expect(backend.got).To(HaveLen(1))
		})
	})

	Context("when clients without credentials post again and again", func() {
		It("still serves the correct token, and stops only the address that keeps failing", func() {
			backend := &recordingBackend{}
			port := serve(server.New(server.Options{Backend: backend, Token: token}))
			url := "http://127.0.0.1:" + port + "/api/v1/trigger"
			attacker, operator := clientFrom("127.0.0.1"), clientFrom("127.0.0.2")

			By("20 POSTs without credentials and 5 with a wrong token: more than the trigger burst of 10")
			for range 20 {
				code, _ := do(attacker, "POST", url, "", "", sweep)
				Expect(code).To(Equal(http.StatusUnauthorized))
			}
			for range 5 {
				code, _ := do(attacker, "POST", url, "", "wrong", sweep)
				Expect(code).To(Equal(http.StatusForbidden))
			}
			By("the correct token, from the same address, is served")
			code, body := do(attacker, "POST", url, "", token, sweep)
			Expect(code).To(Equal(http.StatusAccepted), body)
			Expect(backend.got).To(HaveLen(1))

			By("an address that keeps failing gets 429 before its credentials are looked at")
			codes := map[int]int{}
			for range 40 {
				code, _ := do(attacker, "POST", url, "", "", sweep)
				codes[code]++
			}
			Expect(codes[http.StatusTooManyRequests]).To(BeNumerically(">=", 30))
			code, _ = do(attacker, "POST", url, "", token, sweep)
			Expect(code).To(Equal(http.StatusTooManyRequests))

			By("another address with the token is served all the same")
			code, body = do(operator, "POST", url, "", token, sweep)
			Expect(code).To(Equal(http.StatusAccepted), body)
			Expect(backend.got).To(HaveLen(2))
		})
	})

	Context("when a client sends its body one byte at a time", func() {
		It("cuts the connection off within the read timeout, before the body is read", func(ctx SpecContext) {
			backend := &recordingBackend{}
			port := serve(server.New(server.Options{Backend: backend, Token: token, ReadTimeout: time.Second}))
			conn, err := net.Dial("tcp", "127.0.0.1:"+port)
			Expect(err).NotTo(HaveOccurred())
			defer conn.Close()
			body := strings.Repeat(" ", 100) + sweep
			_, err = fmt.Fprintf(conn, "POST /api/v1/trigger HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nX-Signature: %s\r\nContent-Length: %d\r\n\r\n",
				server.Sign(token, []byte(body)), len(body))
			Expect(err).NotTo(HaveOccurred())
			closed := make(chan string, 1)
			go func() {
				// Whatever the server says last (a 400 or nothing) comes when it gives up.
				line, _ := bufio.NewReader(conn).ReadString('\n')
				closed <- line
			}()
			sent := 0
		send:
			for ; sent < len(body); sent++ {
				// One byte every 200 ms would take 24 s for the whole body.
				select {
				case <-closed:
					break send
				case <-time.After(200 * time.Millisecond):
				}
				if _, err := conn.Write([]byte{body[sent]}); err != nil {
					break
				}
			}
			Expect(sent).To(BeNumerically("<", 30), "the server waited for %d bytes", sent)
			Expect(backend.got).To(BeEmpty())
		}, NodeTimeout(40*time.Second))
	})

	Context("when a trigger waits for its work longer than the write timeout", func() {
		It("still answers with the result", func() {
			port := serve(server.New(server.Options{Backend: slowBackend{pause: 1500 * time.Millisecond}, WriteTimeout: 300 * time.Millisecond}))
			code, body := do(clientFrom("127.0.0.1"), "POST", "http://127.0.0.1:"+port+"/api/v1/trigger", "", "", `{"action":"sweep","wait":true}`)
			Expect(code).To(Equal(http.StatusOK))
			Expect(body).To(ContainSubstring("Passed"))
		})
	})

	It("refuses a public URL that is not an absolute http(s) URL", func() {
		for _, bad := range []string{"ci.example.org", "ftp://ci.example.org", "https://", "http://[::1"} {
			_, err := server.ParsePublicURL(bad)
			Expect(err).To(MatchError(ContainSubstring("is not an absolute URL (valid: the address clients use")), bad)
		}
		for _, bad := range []string{"https://ops:hunter2@ci.example.org", "https://ci.example.org/?a=b", "https://ci.example.org/#top", "https://ci.example.org/?"} {
			_, err := server.ParsePublicURL(bad)
			Expect(err).To(MatchError(ContainSubstring("has a user, query or fragment (valid: a base URL")), bad)
			Expect(err.Error()).NotTo(ContainSubstring("hunter2"))
		}
		u, err := server.ParsePublicURL("https://ci.example.org:8443/x")
		Expect(err).NotTo(HaveOccurred())
		Expect(u.Hostname()).To(Equal("ci.example.org"))
	})
})
