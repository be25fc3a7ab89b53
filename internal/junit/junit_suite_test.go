package junit_test

import (
	"testing"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
)

func TestJUnit(t *testing.T) {
	RegisterFailHandler(Fail)
	RunSpecs(t, "JUnit Suite")
}
