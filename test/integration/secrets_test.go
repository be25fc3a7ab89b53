//go:build integration

package integration

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"filippo.io/age"
	"filippo.io/age/armor"
	"github.com/docker/docker/api/types/swarm"
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
)

// readSecretInApp reads a secret from inside the warm app's running container, with docker
// exec: what the app itself sees.
func (w *world) readSecretInApp(ctx context.Context, name string) string {
	out, err := exec.CommandContext(ctx, "docker", "ps", "-q", "--filter", "label=com.docker.swarm.service.name="+w.stack+"_app").Output()
	Expect(err).NotTo(HaveOccurred())
	id := strings.TrimSpace(strings.Split(string(out), "\n")[0])
	Expect(id).NotTo(BeEmpty(), "no running container of %s_app", w.stack)
	got, err := exec.CommandContext(ctx, "docker", "exec", id, "/app", "cat", "/run/secrets/"+name).CombinedOutput()
	Expect(err).NotTo(HaveOccurred(), string(got))
	return string(got)
}

// leaks lists the files of the state directory that hold plaintext.
func (w *world) leaks(plaintext string) []string {
	var found []string
	_ = filepath.Walk(w.state, func(p string, info os.FileInfo, err error) error {
		if err == nil && info.Mode().IsRegular() {
			if data, err := os.ReadFile(p); err == nil && bytes.Contains(data, []byte(plaintext)) {
				found = append(found, p)
			}
		}
		return nil
	})
	return found
}

// ageArmor encrypts plaintext to id, as `age -a -r` does.
func ageArmor(id *age.X25519Identity, plaintext string) string {
	var buf bytes.Buffer
	aw := armor.NewWriter(&buf)
	enc, err := age.Encrypt(aw, id.Recipient())
	Expect(err).NotTo(HaveOccurred())
	_, _ = enc.Write([]byte(plaintext))
	Expect(enc.Close()).To(Succeed())
	Expect(aw.Close()).To(Succeed())
	return buf.String()
}

// secretNames lists the names of the Swarm secrets whose name starts with prefix, read
// through the Docker client.
func secretNames(ctx context.Context, prefix string) []string {
	secs, err := docker.SecretList(ctx, swarm.SecretListOptions{})
	Expect(err).NotTo(HaveOccurred())
	var names []string
	for _, s := range secs {
		if strings.HasPrefix(s.Spec.Name, prefix) {
			names = append(names, s.Spec.Name)
		}
	}
	return names
}

// serviceEnv is the env of the warm stack's app service as Swarm holds it.
func (w *world) serviceEnv(ctx context.Context) []string {
	s, _, err := docker.ServiceInspectWithRaw(ctx, w.stack+"_app", swarm.ServiceInspectOptions{})
	Expect(err).NotTo(HaveOccurred())
	return s.Spec.TaskTemplate.ContainerSpec.Env
}

func indent(s, prefix string) string {
	return prefix + strings.ReplaceAll(strings.TrimRight(s, "\n"), "\n", "\n"+prefix)
}

var _ = Describe("operator-provided secrets", func() {
	It("inserts an age-encrypted value and a file value, which the app reads, and leaks neither", func(ctx SpecContext) {
		id, err := age.GenerateX25519Identity()
		Expect(err).NotTo(HaveOccurred())
		plaintext := "pw-" + randomID() + "-never-logged"
		armored := ageArmor(id, plaintext)

		w := newWorld()
		w.writeRecipeTest()
		key := filepath.Join(w.dir, "age-key.txt")
		Expect(os.WriteFile(key, []byte(id.String()+"\n"), 0o600)).To(Succeed())

		By("an age value")
		w.write("wc.yaml", fmt.Sprintf("apiVersion: ccci.commoninternet.net/v1\nkind: WarmCanonical\nmetadata:\n  name: %s\nspec:\n  version: %q\n  stack: %s\n  timeout: 1m\n  secrets:\n    db_password:\n      age: |\n%s\n", w.name, tag11, w.stack, indent(armored, "        ")))
		out, errOut, code := w.ccci(ctx, "sweep", "--age-identity", key)
		Expect(code).To(Equal(0))
		Expect(out).To(ContainSubstring("PROMOTED"))
		Expect(w.readSecretInApp(ctx, "db_password")).To(Equal(plaintext))
		Expect(out + errOut).NotTo(ContainSubstring(plaintext))
		Expect(w.leaks(plaintext)).To(BeEmpty())

		By("a file value, on another warm app")
		w2 := newWorld()
		w2.writeRecipeTest()
		file := filepath.Join(w2.dir, "db_password")
		Expect(os.WriteFile(file, []byte(plaintext+"-file\n"), 0o600)).To(Succeed())
		w2.writeWarmCanonical(tag11, "secrets: {db_password: {file: "+file+"}}")
		out, errOut, code = w2.ccci(ctx, "sweep")
		Expect(code).To(Equal(0))
		Expect(w2.readSecretInApp(ctx, "db_password")).To(Equal(plaintext + "-file"))
		Expect(out + errOut).NotTo(ContainSubstring(plaintext))
		Expect(w2.leaks(plaintext)).To(BeEmpty())

		By("an undecryptable value: a clear error naming the field, never the content")
		w3 := newWorld()
		w3.writeRecipeTest()
		other, err := age.GenerateX25519Identity()
		Expect(err).NotTo(HaveOccurred())
		otherKey := filepath.Join(w3.dir, "other.txt")
		Expect(os.WriteFile(otherKey, []byte(other.String()+"\n"), 0o600)).To(Succeed())
		w3.write("wc.yaml", fmt.Sprintf("apiVersion: ccci.commoninternet.net/v1\nkind: WarmCanonical\nmetadata:\n  name: %s\nspec:\n  version: %q\n  stack: %s\n  timeout: 1m\n  secrets:\n    db_password:\n      age: |\n%s\n", w3.name, tag11, w3.stack, indent(armored, "        ")))
		out, errOut, code = w3.ccci(ctx, "sweep", "--age-identity", otherKey)
		Expect(code).NotTo(Equal(0))
		Expect(out + errOut).To(ContainSubstring("spec.secrets.db_password.age: not encrypted to any identity of " + otherKey))
		Expect(out + errOut).NotTo(ContainSubstring(plaintext))
		Expect(w3.leaks(plaintext)).To(BeEmpty())
		Expect(w3.deployedVersion(ctx)).To(BeEmpty())
	}, NodeTimeout(6*time.Minute))

	It("decrypts an {age} value of spec.env in memory only, and rotates a secret by version, pruning the old one after convergence", func(ctx SpecContext) {
		id, err := age.GenerateX25519Identity()
		Expect(err).NotTo(HaveOccurred())
		domain := "dom-" + randomID() + ".example.org"
		first, second := "pw1-"+randomID()+"-never-logged", "pw2-"+randomID()+"-never-logged"
		w := newWorld()
		w.writeRecipeTest()
		key := filepath.Join(w.dir, "age-key.txt")
		Expect(os.WriteFile(key, []byte(id.String()+"\n"), 0o600)).To(Succeed())
		file := filepath.Join(w.dir, "db_password")
		warm := func(version, file string) {
			w.write("wc.yaml", fmt.Sprintf("apiVersion: ccci.commoninternet.net/v1\nkind: WarmCanonical\nmetadata:\n  name: %s\nspec:\n  version: %q\n  stack: %s\n  timeout: 1m\n  env:\n    SECRET_DB_PASSWORD_VERSION: %s\n    DOMAIN:\n      age: |\n%s\n  secrets:\n    db_password: {file: %s}\n",
				w.name, tag11, w.stack, version, indent(ageArmor(id, domain+"\n"), "        "), file))
		}
		var logs strings.Builder
		sweep := func() string {
			out, errOut, code := w.ccci(ctx, "sweep", "--age-identity", key)
			logs.WriteString(out + errOut)
			Expect(code).To(Equal(0), out+errOut)
			return out
		}

		By("promoting with DOMAIN encrypted and db_password v1 from a file")
		Expect(os.WriteFile(file, []byte(first+"\n"), 0o600)).To(Succeed())
		warm("v1", file)
		Expect(sweep()).To(ContainSubstring("PROMOTED"))
		Expect(w.serviceEnv(ctx)).To(ContainElement("DOMAIN="+domain), "the decrypted value, without age's trailing newline, is what Swarm runs")
		Expect(w.readSecretInApp(ctx, "db_password")).To(Equal(first))
		Expect(secretNames(ctx, w.stack+"_db_password_")).To(ConsistOf(w.stack + "_db_password_v1"))

		By("bumping SECRET_DB_PASSWORD_VERSION to v2 with a new value")
		file2 := filepath.Join(w.dir, "db_password.v2")
		Expect(os.WriteFile(file2, []byte(second+"\n"), 0o600)).To(Succeed())
		warm("v2", file2)
		Expect(sweep()).To(ContainSubstring("APPLIED"))
		Expect(w.readSecretInApp(ctx, "db_password")).To(Equal(second))
		Expect(secretNames(ctx, w.stack+"_db_password_")).To(ConsistOf(w.stack+"_db_password_v2"), "v1 is pruned once v2 converged")
		Expect(w.serviceEnv(ctx)).To(ContainElement("DOMAIN=" + domain))

		By("the next pass writing nothing and pruning nothing")
		before := w.serviceIndexes(ctx)
		Expect(sweep()).To(ContainSubstring("CONVERGED"))
		Expect(w.serviceIndexes(ctx)).To(Equal(before))
		Expect(secretNames(ctx, w.stack+"_db_password_")).To(ConsistOf(w.stack + "_db_password_v2"))

		By("no plaintext in the state directory, the output or the API view")
		out, _, code := w.ccci(ctx, "get", "wc", w.name, "-o", "json")
		Expect(code).To(Equal(0))
		Expect(out).To(ContainSubstring(`"age"`), "the spec shows the ciphertext")
		logs.WriteString(out)
		for _, p := range []string{domain, first, second} {
			Expect(logs.String()).NotTo(ContainSubstring(p))
			Expect(w.leaks(p)).To(BeEmpty())
		}

		By("without the identity: a clear error naming the field, and nothing deployed")
		w2 := newWorld()
		w2.writeRecipeTest()
		w2.write("wc.yaml", fmt.Sprintf("apiVersion: ccci.commoninternet.net/v1\nkind: WarmCanonical\nmetadata:\n  name: %s\nspec:\n  version: %q\n  stack: %s\n  timeout: 1m\n  env:\n    DOMAIN:\n      age: |\n%s\n",
			w2.name, tag11, w2.stack, indent(ageArmor(id, domain), "        ")))
		out, errOut, code := w2.ccci(ctx, "sweep")
		Expect(code).NotTo(Equal(0))
		Expect(out + errOut).To(ContainSubstring(fmt.Sprintf(`WarmCanonical %q spec.env.DOMAIN.age: no age identity`, w2.name)))
		Expect(out + errOut).NotTo(ContainSubstring(domain))
		Expect(w2.deployedVersion(ctx)).To(BeEmpty())
	}, NodeTimeout(6*time.Minute))
})
