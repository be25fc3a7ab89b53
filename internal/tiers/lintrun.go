package tiers

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"coopcloud.tech/ccci-controller/internal/backup"
	"coopcloud.tech/ccci-controller/internal/swarm"
)

// runLint checks the candidate without deploying it: every compose file loads (one more file at a
// time, so a failure names the file that broke it) and refers only to secrets, configs, networks
// and volumes it defines, as converting for Swarm requires; images are pinned, the app's
// version label is the version under test, and no config or secret changed content under an
// unchanged name since the base version.
func (x *execution) runLint(ctx context.Context, l *tierLog) (string, error) {
	stack := x.stacks[StackMain] // for interpolation only; nothing is deployed
	files := x.cand.contents.ComposeFiles
	var st *swarm.Stack
	for i := range files {
		part := *x.cand
		contents := *x.cand.contents
		contents.ComposeFiles = files[:i+1]
		part.contents = &contents
		s, err := x.load(&part, stack)
		if err != nil {
			return "", fmt.Errorf("compose file %s: %w", files[i], err)
		}
		st = s
	}
	l.Printf("compose files %v load and convert", files)
	services := servicesOf(st)
	problems := lintImages(services)
	problems = append(problems, lintReferences(services, defined(st))...)
	problems = append(problems, lintKeyVariables(st)...)
	problems = append(problems, lintSecretVersions(st)...)
	problems = append(problems, lintMarker(x.req.Spec.Marker, services)...)
	plan := backup.For(st)
	problems = append(problems, plan.Problems...)
	warnings := append([]string(nil), plan.Warnings...)
	warnings = append(warnings, lintEmptyVariables(st)...)
	if !x.cand.contents.HasEnvSample {
		warnings = append(warnings, "no .env.sample at the recipe root: abra copies an app's settings from it, so `abra app new` would give an empty env")
	}
	warnings = append(warnings, lintNameLengths(st)...)
	warnings = append(warnings, lintLocalImages(x.rec.Images)...)

	newest := ""
	if v, ok := x.versions.Latest(); ok {
		newest = v.Tag
	}
	p, note := lintVersionLabel(stack, services, x.cand.tag, x.req.Ref, newest)
	if p != "" {
		problems = append(problems, p)
	}
	if note != "" {
		l.Printf("%s", note)
	}

	if x.base == nil {
		l.Printf("no base version: config and secret immutability not checked")
	} else {
		immutable, err := x.lintImmutable(st, stack)
		if err != nil {
			return "", err
		}
		problems = append(problems, immutable...)
	}
	for _, w := range warnings {
		l.Printf("warning: %s", w)
	}
	for _, p := range problems {
		l.Printf("problem: %s", p)
	}
	if len(problems) > 0 {
		msg := listed("problem", problems)
		if len(warnings) > 0 {
			msg += "; " + listed("warning", warnings)
		}
		return "", errors.New(msg)
	}
	if len(warnings) > 0 {
		note = strings.TrimPrefix(note+"; "+listed("warning", warnings), "; ")
	}
	return note, nil
}

func (x *execution) lintImmutable(cand *swarm.Stack, stack string) ([]string, error) {
	base, err := x.load(x.base, stack)
	if err != nil {
		return nil, fmt.Errorf("base version %s: %w", x.base.tag, err)
	}
	objects := func(st *swarm.Stack, t *tree) ([]objectFile, error) {
		raw, err := rawNames(t.dir(), t.contents.ComposeFiles)
		if err != nil {
			return nil, err
		}
		return objectFilesOf(st, raw)
	}
	co, err := objects(cand, x.cand)
	if err != nil {
		return nil, err
	}
	bo, err := objects(base, x.base)
	if err != nil {
		return nil, fmt.Errorf("base version %s: %w", x.base.tag, err)
	}
	return lintImmutable(co, bo, x.base.tag), nil
}

// listed is "1 problem: a" or "2 problems: a; b".
func listed(noun string, items []string) string {
	if len(items) != 1 {
		noun += "s"
	}
	return fmt.Sprintf("%d %s: %s", len(items), noun, strings.Join(items, "; "))
}
