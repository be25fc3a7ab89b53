package swarm

import (
	"crypto/rand"
	"fmt"
	"math/big"
)

// defaultSecretLength is the length of a generated secret when no policy says otherwise; abra
// uses the same default.
const defaultSecretLength = 32

// Charsets of generated secrets, the values of the charset= modifier of .env.sample.
const (
	// CharsetAlnum is letters and digits, the default: they survive every config file format
	// and shell quoting a recipe may put them through.
	CharsetAlnum = "alnum"
	// CharsetHex is lower-case hexadecimal digits, for keys an app reads as hex.
	CharsetHex = "hex"
)

// Charsets lists the charsets generateSecret knows, by name.
var Charsets = map[string]string{
	CharsetAlnum: "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789",
	CharsetHex:   "0123456789abcdef",
}

// generateSecret returns n characters drawn uniformly from the charset with crypto/rand; an
// empty charset is CharsetAlnum.
func generateSecret(n int, charset string) ([]byte, error) {
	if n <= 0 {
		n = defaultSecretLength
	}
	if charset == "" {
		charset = CharsetAlnum
	}
	alphabet, ok := Charsets[charset]
	if !ok {
		return nil, fmt.Errorf("generate secret: unknown charset %q (valid: alnum, hex)", charset)
	}
	out := make([]byte, n)
	max := big.NewInt(int64(len(alphabet)))
	for i := range out {
		k, err := rand.Int(rand.Reader, max)
		if err != nil {
			return nil, fmt.Errorf("generate secret: %w", err)
		}
		out[i] = alphabet[k.Int64()]
	}
	return out, nil
}
