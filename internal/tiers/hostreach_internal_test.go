package tiers

import (
	"os"
	"path/filepath"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"coopcloud.tech/ccci-controller/internal/swarm"
)

var _ = Describe("hostReach", func() {
	load := func(compose string) *swarm.Stack {
		dir := GinkgoT().TempDir()
		Expect(os.WriteFile(filepath.Join(dir, "compose.yml"), []byte(compose), 0o644)).To(Succeed())
		Expect(os.WriteFile(filepath.Join(dir, "motd"), []byte("hi"), 0o644)).To(Succeed())
		st, err := swarm.Load(swarm.LoadOptions{WorkingDir: dir, StackName: "ccci_x"})
		Expect(err).NotTo(HaveOccurred())
		return st
	}

	It("names service, field and value of everything that reaches the host", func() {
		st := load(`version: "3.8"
services:
  app:
    image: app:1
    volumes:
      - /:/host
      - type: bind
        source: /var/run/docker.sock
        target: /var/run/docker.sock
      - data:/data
    privileged: true
    cap_add: [SYS_ADMIN]
    devices: [/dev/sda]
    network_mode: host
    pid: host
    ipc: host
    userns_mode: host
    security_opt: [apparmor=unconfined, no-new-privileges:true]
    sysctls: {net.ipv4.ip_forward: "1"}
    networks: [proxy, other, internal]
    configs: [motd, hostcfg]
    secrets: [key]
volumes:
  data:
  hostdev:
    driver_opts: {type: none, o: bind, device: /etc}
networks:
  internal:
  proxy: {external: true}
  other: {external: true, name: someones_internal}
configs:
  motd: {file: ./motd}
  hostcfg: {file: /etc/passwd}
secrets:
  key: {file: ../../outside}
`)
		const no = ": not allowed for untrusted refs; set spec.trust: trusted to allow"
		Expect(hostReach(st, nil)).To(ConsistOf(
			`services.app.volumes "/" (a host path mounted at /host)`+no,
			`services.app.volumes "/var/run/docker.sock" (the Docker socket, which is root on the host)`+no,
			`services.app.privileged "true"`+no,
			`services.app.cap_add "SYS_ADMIN"`+no,
			`services.app.devices "/dev/sda"`+no,
			`services.app.network_mode "host"`+no,
			`services.app.pid "host"`+no,
			`services.app.ipc "host"`+no,
			`services.app.userns_mode "host"`+no,
			`services.app.security_opt "apparmor=unconfined"`+no,
			`services.app.sysctls "net.ipv4.ip_forward=1"`+no,
			`services.app.networks "someones_internal" (an external network that is not proxy nor one of spec.requires)`+no,
			`configs.hostcfg.file "/etc/passwd" (outside the checkout)`+no,
			MatchRegexp(`^secrets\.key\.file ".*/outside" \(outside the checkout\)`+no+`$`),
			`volumes.hostdev.driver_opts.device "/etc" (a host device or path)`+no,
		))

		By("allowing an external network of the run's requires")
		Expect(hostReach(st, []string{"someones_internal"})).NotTo(ContainElement(ContainSubstring("someones_internal")))
	})

	It("finds nothing in a stack of named volumes, its own networks and files of the checkout", func() {
		st := load(`version: "3.8"
services:
  app:
    image: app:1
    volumes: [data:/data]
    networks: [proxy, internal]
    configs: [motd]
volumes:
  data:
networks:
  internal:
  proxy: {external: true}
configs:
  motd: {file: motd}
`)
		Expect(hostReach(st, nil)).To(BeEmpty())
	})
})
