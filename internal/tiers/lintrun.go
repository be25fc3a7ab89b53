package tiers

import (
	"context"
	"fmt"
	"strings"

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
	for _, p := range problems {
		l.Printf("problem: %s", p)
	}
	if len(problems) > 0 {
		return "", fmt.Errorf("%d problems: %s", len(problems), strings.Join(problems, "; "))
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
