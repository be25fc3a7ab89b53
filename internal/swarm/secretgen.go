package swarm

import (
	"crypto/rand"
	"fmt"
	"math/big"
)

// defaultSecretLength is the length of a generated secret when no policy says otherwise; abra
// uses the same default.
const defaultSecretLength = 32

// secretAlphabet is what generated secrets are made of: letters and digits survive every
// config file format and shell quoting a recipe may put them through.
const secretAlphabet = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"

// generateSecret returns n characters drawn uniformly from secretAlphabet with crypto/rand.
func generateSecret(n int) ([]byte, error) {
	if n <= 0 {
		n = defaultSecretLength
	}
	out := make([]byte, n)
	max := big.NewInt(int64(len(secretAlphabet)))
	for i := range out {
		k, err := rand.Int(rand.Reader, max)
		if err != nil {
			return nil, fmt.Errorf("generate secret: %w", err)
		}
		out[i] = secretAlphabet[k.Int64()]
	}
	return out, nil
}
