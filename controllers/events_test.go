package controllers_test

import (
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	v1 "coopcloud.tech/ccci-controller/api/v1"
	"coopcloud.tech/ccci-controller/controllers"
)

var _ = Describe("StackIndex", func() {
	warmOn := func(name, stack string) *v1.WarmCanonical {
		wc := warmCanonical(name, "latest")
		wc.Spec.Stack = stack
		return wc
	}
	idx := func() controllers.StackIndex {
		return controllers.StackIndexOf(newObjects(recipeTest("x"), recipeTest("x-proxy"),
			warmOn("x", "warm_x"), warmOn("x-proxy", "warm_x_proxy")))
	}
	DescribeTable("maps an event to exactly the object of its stack",
		func(what string, want []string) {
			Expect(idx().Objects(what)).To(Equal(want))
		},
		Entry("a container event of warm_x", "warm_x", []string{"x"}),
		Entry("a container event of warm_x_proxy wakes warm_x_proxy only", "warm_x_proxy", []string{"x-proxy"}),
		Entry("a service of warm_x", "warm_x_app", []string{"x"}),
		Entry("a service of warm_x_proxy wakes warm_x_proxy only", "warm_x_proxy_app", []string{"x-proxy"}),
		Entry("a stack of nobody", "warm_y_app", nil),
		Entry("a name that only starts like a stack", "warm_xy_app", nil),
	)
})
