package v1

import (
	"encoding/json"
	"fmt"
	"strings"
)

// Env is a spec.env: environment variable names to values. A value is a plain string, or
// {age: <age -a output>}: a value encrypted to the controller's age identity. An encrypted
// value stays encrypted in the spec, the status, every record and the API; it is decrypted in
// memory only, when an app's env is built for a deploy (internal/recipe's AppOptions.Reveal).
//
// In memory an encrypted value is held as its ciphertext behind a NUL mark (see Encrypted),
// so that code which only compares or copies envs (spec hashes, the known-good record, the
// edited-env check) needs nothing new. NUL cannot be part of a plain value: no environment
// variable can hold one, and validation refuses it.
type Env map[string]string

// encryptedMark starts the in-memory form of an {age: ...} value.
const encryptedMark = "\x00age\x00"

// Encrypted returns the in-memory form of the env value {age: ciphertext}.
func Encrypted(ciphertext string) string { return encryptedMark + ciphertext }

// Ciphertext returns the age ciphertext of an {age: ...} env value, and false for a plain one.
func Ciphertext(value string) (string, bool) {
	return strings.CutPrefix(value, encryptedMark)
}

// MarshalJSON writes plain values as strings and encrypted ones as {"age": ciphertext}.
func (e Env) MarshalJSON() ([]byte, error) {
	if e == nil {
		return []byte("null"), nil
	}
	out := make(map[string]any, len(e))
	for k, v := range e {
		if ct, ok := Ciphertext(v); ok {
			out[k] = map[string]string{"age": ct}
			continue
		}
		out[k] = v
	}
	return json.Marshal(out)
}

// UnmarshalJSON reads what MarshalJSON writes.
func (e *Env) UnmarshalJSON(b []byte) error {
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(b, &raw); err != nil {
		return err
	}
	if raw == nil {
		*e = nil
		return nil
	}
	out := make(Env, len(raw))
	for k, r := range raw {
		var s string
		if err := json.Unmarshal(r, &s); err == nil {
			out[k] = s
			continue
		}
		var enc struct {
			Age string `json:"age"`
		}
		if err := json.Unmarshal(r, &enc); err != nil || enc.Age == "" {
			return fmt.Errorf("env %s: not a string or {age: ciphertext}", k)
		}
		out[k] = Encrypted(enc.Age)
	}
	*e = out
	return nil
}
