package recipe

import (
	"io"
	"os"
)

// Untar unpacks a tar stream into dir the way a checkout does, for the hostile-archive specs.
func Untar(r io.Reader, dir string) error {
	root, err := os.OpenRoot(dir)
	if err != nil {
		return err
	}
	defer root.Close()
	return untar(r, root)
}
