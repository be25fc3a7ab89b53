package abra_test

import (
	"testing"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
)

func TestAbra(t *testing.T) {
	RegisterFailHandler(Fail)
	RunSpecs(t, "Abra Suite")
}
