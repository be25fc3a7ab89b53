package tiers_test

import (
	"testing"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
)

func TestTiers(t *testing.T) {
	RegisterFailHandler(Fail)
	RunSpecs(t, "Tiers Suite")
}
