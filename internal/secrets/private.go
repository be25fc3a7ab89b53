package secrets

import (
	"fmt"
	"io"
	"os"
	"strings"
)

// maxCredential bounds a token or identity file; real ones are well under a KiB.
const maxCredential = 64 << 10

// ReadPrivate reads a credential file of the controller's own (an age identity, a token),
// refusing one that group or others may read, as ssh refuses such a private key: whoever can
// read it can decrypt the secrets or drive the daemon. The mode is checked on the opened file,
// so a file swapped after the check is not read.
func ReadPrivate(file string) ([]byte, error) {
	f, err := os.Open(file)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", file, err)
	}
	defer f.Close()
	info, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", file, err)
	}
	if perm := info.Mode().Perm(); perm&0o077 != 0 {
		return nil, fmt.Errorf("%s has mode %04o, readable by group or others (valid: a file only its owner can read: chmod 600 %s)", file, perm, file)
	}
	data, err := io.ReadAll(io.LimitReader(f, maxCredential+1))
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", file, err)
	}
	if len(data) > maxCredential {
		return nil, fmt.Errorf("%s is over %d KiB (valid: a credential file of a few lines)", file, maxCredential>>10)
	}
	return data, nil
}

// ReadToken reads a bearer token file through ReadPrivate. An empty or whitespace-only file is
// an error: taken as "no token", it would turn authentication off without a word.
func ReadToken(file string) (string, error) {
	data, err := ReadPrivate(file)
	if err != nil {
		return "", err
	}
	token := strings.TrimSpace(string(data))
	if token == "" {
		return "", fmt.Errorf("%s is empty or only whitespace (valid: a file holding the token, e.g. made with openssl rand -hex 32 > %s)", file, file)
	}
	return token, nil
}
