package secrets

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"filippo.io/age"
	"filippo.io/age/armor"

	v1 "coopcloud.tech/ccci-controller/api/v1"
)

// maxValue bounds a secret value (Swarm's own limit is 500 KiB).
const maxValue = 500 << 10

// Resolver reads secret values with the controller's age identities.
type Resolver struct {
	identities []age.Identity
	// IdentityFile is where the identities came from, for errors.
	identityFile string
}

// Load reads the age identities of file (age-keygen's format: AGE-SECRET-KEY-1... lines,
// comments allowed); an empty file name gives a Resolver that reads file values only.
func Load(file string) (*Resolver, error) {
	r := &Resolver{identityFile: file}
	if file == "" {
		return r, nil
	}
	data, err := ReadPrivate(file)
	if err != nil {
		return nil, fmt.Errorf("age identity file: %w", err)
	}
	ids, err := age.ParseIdentities(bytes.NewReader(data))
	if err != nil {
		// The parser's errors quote no key material, but say nothing more than this either.
		return nil, fmt.Errorf("age identity file %s: not age identities (valid: the output of age-keygen)", file)
	}
	r.identities = ids
	return r, nil
}

// Value returns the bytes of v; field names it in errors (spec.secrets.smtp_password).
func (r *Resolver) Value(field string, v v1.SecretValue) ([]byte, error) {
	switch {
	case v.File != "":
		data, err := readLimited(v.File)
		if err != nil {
			return nil, fmt.Errorf("%s.file: %w", field, err)
		}
		Remember(field, string(data))
		return data, nil
	case v.Age != "":
		if r == nil || len(r.identities) == 0 {
			return nil, fmt.Errorf("%s.age: no age identity to decrypt it with (valid: --age-identity FILE or CCCI_AGE_IDENTITY)", field)
		}
		dec, err := age.Decrypt(armor.NewReader(strings.NewReader(v.Age)), r.identities...)
		if err != nil {
			var noMatch *age.NoIdentityMatchError
			if errors.As(err, &noMatch) {
				return nil, fmt.Errorf("%s.age: not encrypted to any identity of %s (valid: a value encrypted with age -r to its public key)", field, r.identityFile)
			}
			return nil, fmt.Errorf("%s.age: cannot be decrypted: not an armored age file, or damaged (valid: the output of age -a)", field)
		}
		data, err := io.ReadAll(io.LimitReader(dec, maxValue+1))
		if err != nil {
			return nil, fmt.Errorf("%s.age: cannot be decrypted: the ciphertext is damaged", field)
		}
		if len(data) > maxValue {
			return nil, fmt.Errorf("%s.age: the value is over %d KiB, Swarm's limit", field, maxValue>>10)
		}
		Remember(field, string(data))
		return data, nil
	}
	return nil, fmt.Errorf("%s: neither file nor age is set", field)
}

// Reveal decrypts an env value for recipe.AppOptions.Reveal: an {age: ...} value is decrypted
// with the identities, a plain one is left alone. Errors name field (`WarmCanonical "mail"
// spec.env.TOKEN.age`), never the content. A trailing newline, as `echo value | age -a`
// leaves, is not part of the value.
func (r *Resolver) Reveal(field, value string) (string, bool, error) {
	ct, ok := v1.Ciphertext(value)
	if !ok {
		return value, false, nil
	}
	b, err := r.Value(field, v1.SecretValue{Age: ct})
	if err != nil {
		return "", true, err
	}
	plain := strings.TrimSuffix(string(b), "\n")
	Remember(field, plain)
	return plain, true, nil
}

func readLimited(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxValue+1))
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	if len(data) > maxValue {
		return nil, fmt.Errorf("%s is over %d KiB, Swarm's limit for a secret", path, maxValue>>10)
	}
	// A file written by an editor or echo ends in a newline that is not part of the value.
	return bytes.TrimSuffix(data, []byte("\n")), nil
}
