package v1_test

import (
	"encoding/json"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"sigs.k8s.io/yaml"

	v1 "coopcloud.tech/ccci-controller/api/v1"
)

var _ = Describe("Duration", func() {
	DescribeTable("reads a YAML duration and writes back its shortest form",
		func(in string, want time.Duration, out string) {
			var v struct {
				D v1.Duration `json:"d"`
			}
			Expect(yaml.Unmarshal([]byte("d: "+in), &v)).To(Succeed())
			Expect(v.D.Duration).To(Equal(want))
			b, err := json.Marshal(v.D)
			Expect(err).NotTo(HaveOccurred())
			Expect(string(b)).To(Equal(`"` + out + `"`))
		},
		Entry("minutes", "10m", 10*time.Minute, "10m"),
		Entry("hours and minutes", "1h30m", 90*time.Minute, "1h30m"),
		Entry("whole hours", "2h", 2*time.Hour, "2h"),
		Entry("seconds", "90s", 90*time.Second, "1m30s"),
		Entry("sub-second", "1.5s", 1500*time.Millisecond, "1.5s"),
	)

	It("rejects what is not a duration", func() {
		var d v1.Duration
		Expect(json.Unmarshal([]byte(`"10 minutes"`), &d)).To(MatchError(ContainSubstring(`parse duration "10 minutes"`)))
		Expect(json.Unmarshal([]byte(`600`), &d)).To(MatchError(ContainSubstring("duration must be a string")))
	})
})
