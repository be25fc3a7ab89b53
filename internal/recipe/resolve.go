package recipe

import (
	"context"
	"fmt"
	"strings"
)

// prRefs are the refs under which forges publish the head of pull request N: GitHub, Gitea and
// Forgejo use refs/pull/N/head, GitLab refs/merge-requests/N/head.
var prRefs = []string{"refs/pull/%d/head", "refs/merge-requests/%d/head"}

// Resolve returns the full commit id of ref: a tag, a branch, or a full or abbreviated commit
// id. When ref is not in the mirror, the mirror is fetched again (forced: a Drone build may be
// for a commit pushed seconds ago); when it is still unknown and pr > 0, the pull request's head
// is fetched (refs/pull/<pr>/head, else refs/merge-requests/<pr>/head) and ref resolved once
// more. ref "" with pr > 0 means the pull request's head. Errors name the recipe and every
// ref tried.
func (s *Source) Resolve(ctx context.Context, ref string, pr int) (string, error) {
	if strings.HasPrefix(ref, "-") || strings.ContainsAny(ref, " \t\n:") {
		return "", fmt.Errorf("recipe %s: %q is not a valid ref", s.name, ref)
	}
	if ref == "" && pr <= 0 {
		return "", fmt.Errorf("recipe %s: resolve: no ref and no pull request given", s.name)
	}
	if err := s.Fetch(ctx, false); err != nil {
		return "", err
	}
	var tried []string
	if ref != "" {
		if commit, ok, err := s.lookup(ctx, ref, &tried); ok || err != nil {
			return commit, err
		}
		if err := s.Fetch(ctx, true); err != nil {
			return "", err
		}
		if commit, ok, err := s.lookup(ctx, ref, nil); ok || err != nil {
			return commit, err
		}
	}
	if pr > 0 {
		head, fetchErrs := s.fetchPullRequest(ctx, pr)
		if head != "" {
			tried = append(tried, head)
			if ref == "" {
				return s.lookupOne(ctx, head)
			}
			if commit, ok, err := s.lookup(ctx, ref, nil); ok || err != nil {
				return commit, err
			}
		} else {
			return "", fmt.Errorf("recipe %s: ref %q not found (tried %s) and pull request %d could not be fetched from %s: %s",
				s.name, ref, strings.Join(tried, ", "), pr, s.url, strings.Join(fetchErrs, "; "))
		}
	}
	return "", fmt.Errorf("recipe %s: ref %q is not a tag, branch or commit of %s (tried %s)%s%s", s.name, ref, s.url, strings.Join(tried, ", "), s.staleHint(), pullRequestHint(pr))
}

// pullRequestHint points at the likely cause of a miss without a pull-request number: the
// commit of a pull request from a fork is on no branch of the recipe's repository.
func pullRequestHint(pr int) string {
	if pr > 0 {
		return ""
	}
	return "; for a pull request's commit, pass its number (trigger --pr N)"
}

// staleHint explains a miss by a failed fetch, when there was one.
func (s *Source) staleHint() string {
	if err := s.Stale(); err != nil {
		return "; the cached mirror may be out of date: " + err.Error()
	}
	return ""
}

// lookup resolves ref as a tag, then a branch, then as written (a commit id or a full ref
// name). tried, when not nil, collects the names tried.
func (s *Source) lookup(ctx context.Context, ref string, tried *[]string) (string, bool, error) {
	r, err := s.snapshot(ctx)
	if err != nil {
		return "", false, err
	}
	for i, name := range []string{"refs/tags/" + ref, "refs/heads/" + ref, ref} {
		if tried != nil {
			*tried = append(*tried, name)
		}
		// Tags and branches are all in the snapshot: what it does not have, git has not
		// either. A name as written may be a commit id or a ref of another kind.
		if commit, ok := r.lookup(name); ok {
			return commit, true, nil
		}
		if i < 2 {
			continue
		}
		if commitID.MatchString(name) && r.known[name] {
			return name, true, nil
		}
		out, err := git(ctx, s.gitDir, "rev-parse", "--quiet", "--verify", "--end-of-options", name+"^{commit}")
		if err == nil {
			return strings.TrimSpace(out), true, nil
		}
		if ctx.Err() != nil {
			return "", false, fmt.Errorf("recipe %s: resolve %q: %w", s.name, ref, ctx.Err())
		}
		if strings.Contains(err.Error(), "ambiguous") {
			return "", false, fmt.Errorf("recipe %s: ref %q is ambiguous, give more digits of the commit id: %w", s.name, ref, err)
		}
	}
	return "", false, nil
}

func (s *Source) lookupOne(ctx context.Context, name string) (string, error) {
	out, err := git(ctx, s.gitDir, "rev-parse", "--quiet", "--verify", "--end-of-options", name+"^{commit}")
	if err != nil {
		return "", fmt.Errorf("recipe %s: resolve %s: %w", s.name, name, err)
	}
	return strings.TrimSpace(out), nil
}

// fetchPullRequest fetches the head of pull request pr into the mirror under the forge's own
// ref name, under the mirror lock, and returns that name; on failure it returns the errors of
// every name tried.
func (s *Source) fetchPullRequest(ctx context.Context, pr int) (string, []string) {
	lock, err := lockFile(ctx, s.gitDir+"/"+lockName, lockExclusive)
	if err != nil {
		return "", []string{err.Error()}
	}
	defer lock.Close()
	var errs []string
	for _, pattern := range prRefs {
		ref := fmt.Sprintf(pattern, pr)
		_, err := s.gitRemote(ctx, s.gitDir, "fetch", "--quiet", "--no-write-fetch-head", "--", "origin", "+"+ref+":"+ref)
		s.forgetRefs()
		if err == nil {
			return ref, nil
		}
		errs = append(errs, ref+": "+err.Error())
		if ctx.Err() != nil {
			break
		}
	}
	return "", errs
}
