package tiers_test

import (
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	v1 "coopcloud.tech/ccci-controller/api/v1"
	"coopcloud.tech/ccci-controller/internal/recipe"
	"coopcloud.tech/ccci-controller/internal/tiers"
)

// brief renders a plan as "tier:action:stack[:reason]" for compact expectations.
func brief(steps []tiers.Step) []string {
	var out []string
	for _, s := range steps {
		line := string(s.Tier.Name) + ":" + string(s.Action) + ":" + string(s.Stack)
		if s.Reason != "" && s.Action != tiers.ActionRun {
			line += ":" + s.Reason
		}
		out = append(out, line)
	}
	return out
}

func tierList(names ...v1.TierName) []v1.Tier {
	var out []v1.Tier
	for _, n := range names {
		t := v1.Tier{Name: n}
		if n == v1.TierCustom {
			t.Command = []string{"true"}
		}
		out = append(out, t)
	}
	return out
}

var _ = Describe("Plan", func() {
	capable := tiers.Facts{BackupCapable: true, Base: "1.0.0+1.0"}
	lfs := v1.Tier{Name: v1.TierCustom, Command: []string{"pytest"}, When: &v1.TierCondition{FileExists: "compose.lfs.yml"}}

	DescribeTable("decides per tier",
		func(tl []v1.Tier, na []v1.TierName, f tiers.Facts, want []string) {
			Expect(brief(tiers.Plan(tl, na, f))).To(Equal(want))
		},
		Entry("the default tiers run in execution order, sharing the main stack",
			v1.DefaultTiers(), nil, capable,
			[]string{"install:Run:main", "backup:Run:main", "restore:Run:main", "upgrade:Run:up"}),
		Entry("every tier, whatever the spec order",
			tierList(v1.TierUpgrade, v1.TierLint, v1.TierRestore, v1.TierCustom, v1.TierBackup, v1.TierInstall), nil, capable,
			[]string{"lint:Run:", "install:Run:main", "custom:Run:main", "backup:Run:main", "restore:Run:main", "upgrade:Run:up"}),
		Entry("backup and restore without backupbot labels",
			tierList(v1.TierInstall, v1.TierBackup, v1.TierRestore), nil, tiers.Facts{},
			[]string{"install:Run:main", "backup:NotApplicable::no service has backupbot.backup=true", "restore:NotApplicable::no service has backupbot.backup=true"}),
		Entry("tiers named in expectedNA",
			tierList(v1.TierInstall, v1.TierUpgrade, v1.TierBackup), []v1.TierName{v1.TierUpgrade, v1.TierBackup}, capable,
			[]string{"install:Run:main", "backup:NotApplicable::listed in spec.expectedNA", "upgrade:NotApplicable::listed in spec.expectedNA"}),
		Entry("a gate whose file is absent",
			[]v1.Tier{{Name: v1.TierInstall}, lfs}, nil, tiers.Facts{Files: map[string]bool{"compose.lfs.yml": false}},
			[]string{"install:Run:main", "custom:Skipped::gate: file compose.lfs.yml absent"}),
		Entry("a gate whose file is present",
			[]v1.Tier{{Name: v1.TierInstall}, lfs}, nil, tiers.Facts{Files: map[string]bool{"compose.lfs.yml": true}},
			[]string{"install:Run:main", "custom:Run:main"}),
		Entry("an upgrade with no older version",
			tierList(v1.TierInstall, v1.TierUpgrade), nil, tiers.Facts{BaseSkip: "no older version"},
			[]string{"install:Run:main", "upgrade:Skipped::no older version"}),
		Entry("an upgrade from a tag that does not exist",
			tierList(v1.TierUpgrade), nil, tiers.Facts{BaseError: `upgrade from "9.9.9+9": not a tag`},
			[]string{"install:Run:main", `upgrade:Fail::upgrade from "9.9.9+9": not a tag`}),
		Entry("install added when a stack tier needs it",
			tierList(v1.TierBackup), nil, capable,
			[]string{"install:Run:main", "backup:Run:main"}),
		Entry("install added for an upgrade",
			tierList(v1.TierUpgrade), nil, capable,
			[]string{"install:Run:main", "upgrade:Run:up"}),
		Entry("lint alone deploys nothing",
			tierList(v1.TierLint), nil, capable,
			[]string{"lint:Run:"}),
		Entry("a custom tier without command",
			[]v1.Tier{{Name: v1.TierInstall}, {Name: v1.TierCustom}}, nil, capable,
			[]string{"install:Run:main", "custom:Fail::custom tier has no command"}),
		Entry("an unknown tier is failed, not dropped",
			[]v1.Tier{{Name: v1.TierInstall}, {Name: "smoke"}}, nil, capable,
			[]string{"install:Run:main", "smoke:Fail::unknown tier \"smoke\" (valid: [lint install custom backup restore upgrade])"}),
	)
})

var _ = Describe("ChooseBase", func() {
	versions := recipe.NewVersions([]string{"1.0.0+1.0", "1.1.0+1.1", "1.2.0+1.2", "2.0.0+2.0"})

	DescribeTable("picks the upgrade base",
		func(from, knownGood, candidate string, want tiers.Facts) {
			Expect(tiers.ChooseBase(from, knownGood, candidate, versions)).To(Equal(want))
		},
		Entry("knownGood when it is older", v1.FromKnownGood, "1.0.0+1.0", "1.2.0+1.2", tiers.Facts{Base: "1.0.0+1.0"}),
		Entry("previous when knownGood is the candidate", v1.FromKnownGood, "1.1.0+1.1", "1.1.0+1.1", tiers.Facts{Base: "1.0.0+1.0"}),
		Entry("previous when knownGood is unknown", v1.FromKnownGood, "", "2.0.0+2.0", tiers.Facts{Base: "1.2.0+1.2"}),
		Entry("previous when knownGood is newer", "", "2.0.0+2.0", "1.1.0+1.1", tiers.Facts{Base: "1.0.0+1.0"}),
		Entry("previous", v1.FromPrevious, "1.0.0+1.0", "2.0.0+2.0", tiers.Facts{Base: "1.2.0+1.2"}),
		Entry("nothing older than the first tag", v1.FromPrevious, "", "1.0.0+1.0", tiers.Facts{BaseSkip: "no older version"}),
		Entry("an exact tag", "1.0.0+1.0", "", "2.0.0+2.0", tiers.Facts{Base: "1.0.0+1.0"}),
		Entry("an exact tag equal to the candidate", "1.1.0+1.1", "", "1.1.0+1.1", tiers.Facts{Base: "1.0.0+1.0"}),
		Entry("an exact tag that does not exist", "3.0.0+3", "", "1.1.0+1.1", tiers.Facts{BaseError: `upgrade from "3.0.0+3": not a tag of the recipe (newest: 2.0.0+2.0)`}),
		Entry("an exact tag newer than the candidate", "2.0.0+2.0", "", "1.1.0+1.1", tiers.Facts{BaseError: `upgrade from "2.0.0+2.0": not older than the candidate 1.1.0+1.1`}),
		Entry("a branch counts as newer than every tag", v1.FromKnownGood, "", "", tiers.Facts{Base: "2.0.0+2.0"}),
	)
})

var _ = Describe("Plan of a refused untrusted ref", func() {
	It("fails lint, planned or not, with every finding, and runs nothing else", func() {
		spec := []v1.Tier{{Name: v1.TierInstall}, {Name: v1.TierUpgrade}}
		steps := tiers.Plan(spec, nil, tiers.Facts{BackupCapable: true, Base: "1.0.0+1", Refused: []string{"a", "b"}})
		Expect(steps).To(HaveLen(3))
		Expect(steps[0].Tier.Name).To(Equal(v1.TierLint))
		Expect(steps[0].Action).To(Equal(tiers.ActionFail))
		Expect(steps[0].Reason).To(Equal("2 problems: a; b"))
		for _, s := range steps[1:] {
			Expect(s.Action).To(Equal(tiers.ActionSkipped), string(s.Tier.Name))
			Expect(s.Stack).To(Equal(tiers.StackNone))
		}
	})
})
