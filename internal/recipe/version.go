package recipe

import (
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"
)

// Version is a recipe release: a git tag of the form MAJOR.MINOR.PATCH+UPSTREAM, such as
// 3.5.3+1.24.2 or 1.0.0+v1.6.870-0. MAJOR.MINOR.PATCH is the recipe's own semantic version;
// UPSTREAM is the packaged software's version, free-form.
type Version struct {
	Major, Minor, Patch int
	// Upstream is the part after "+", never empty.
	Upstream string
	// Tag is the git tag exactly as written.
	Tag string
}

// String returns the tag.
func (v Version) String() string { return v.Tag }

// ParseVersion parses a tag of the form MAJOR.MINOR.PATCH+UPSTREAM. Numbers are decimal
// without leading zeros (as in semver); UPSTREAM must be non-empty and contain no whitespace.
// Any other tag (v1.2, latest, 1.2.3 without upstream) is an error, which callers listing
// tags treat as "not a release".
func ParseVersion(tag string) (Version, error) {
	semver, upstream, ok := strings.Cut(tag, "+")
	if !ok || upstream == "" {
		return Version{}, fmt.Errorf("parse version %q: want MAJOR.MINOR.PATCH+UPSTREAM", tag)
	}
	if strings.ContainsAny(upstream, " \t\r\n") {
		return Version{}, fmt.Errorf("parse version %q: upstream part contains whitespace", tag)
	}
	parts := strings.Split(semver, ".")
	if len(parts) != 3 {
		return Version{}, fmt.Errorf("parse version %q: want MAJOR.MINOR.PATCH before \"+\"", tag)
	}
	var nums [3]int
	for i, p := range parts {
		n, err := parseNumber(p)
		if err != nil {
			return Version{}, fmt.Errorf("parse version %q: %w", tag, err)
		}
		nums[i] = n
	}
	return Version{Major: nums[0], Minor: nums[1], Patch: nums[2], Upstream: upstream, Tag: tag}, nil
}

func parseNumber(s string) (int, error) {
	if s == "" {
		return 0, errors.New("empty number")
	}
	for _, r := range s {
		if r < '0' || r > '9' {
			return 0, fmt.Errorf("%q is not a number", s)
		}
	}
	if len(s) > 1 && s[0] == '0' {
		return 0, fmt.Errorf("%q has a leading zero", s)
	}
	n, err := strconv.Atoi(s)
	if err != nil {
		return 0, fmt.Errorf("%q: %w", s, err)
	}
	return n, nil
}

// Compare orders versions: by MAJOR, MINOR, PATCH numerically, then by UPSTREAM in natural
// order (digit runs compared as numbers, so 1.10 > 1.9), then by tag text so that the order is
// total. It returns -1, 0 or +1.
func Compare(a, b Version) int {
	for _, d := range [3]int{a.Major - b.Major, a.Minor - b.Minor, a.Patch - b.Patch} {
		if d != 0 {
			return sign(d)
		}
	}
	if c := compareNatural(a.Upstream, b.Upstream); c != 0 {
		return c
	}
	return strings.Compare(a.Tag, b.Tag)
}

// IsMajorBump reports whether going from one version to another raises the recipe's MAJOR
// number, which in Co-op Cloud means the upgrade may need a manual migration.
func IsMajorBump(from, to Version) bool { return to.Major > from.Major }

func sign(d int) int {
	switch {
	case d < 0:
		return -1
	case d > 0:
		return 1
	}
	return 0
}

// compareNatural compares strings chunk by chunk: runs of digits as numbers, other runs as
// text.
func compareNatural(a, b string) int {
	for a != "" && b != "" {
		ca, ra := nextChunk(a)
		cb, rb := nextChunk(b)
		if isDigit(ca[0]) && isDigit(cb[0]) {
			ta, tb := strings.TrimLeft(ca, "0"), strings.TrimLeft(cb, "0")
			if len(ta) != len(tb) {
				return sign(len(ta) - len(tb))
			}
			if c := strings.Compare(ta, tb); c != 0 {
				return c
			}
		} else if c := strings.Compare(ca, cb); c != 0 {
			return c
		}
		a, b = ra, rb
	}
	return sign(len(a) - len(b))
}

func nextChunk(s string) (chunk, rest string) {
	digit := isDigit(s[0])
	i := 1
	for i < len(s) && isDigit(s[i]) == digit {
		i++
	}
	return s[:i], s[i:]
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

// Versions is a list of versions in ascending order (oldest first), as returned by
// Source.Versions and NewVersions.
type Versions []Version

// NewVersions parses tags, drops those that are not versions and returns the rest in
// ascending order.
func NewVersions(tags []string) Versions {
	vs := make(Versions, 0, len(tags))
	for _, t := range tags {
		if v, err := ParseVersion(t); err == nil {
			vs = append(vs, v)
		}
	}
	sort.Slice(vs, func(i, j int) bool { return Compare(vs[i], vs[j]) < 0 })
	return vs
}

// Latest returns the newest version; false when there is none.
func (vs Versions) Latest() (Version, bool) {
	if len(vs) == 0 {
		return Version{}, false
	}
	return vs[len(vs)-1], true
}

// Previous returns the newest version strictly older than v (v need not be in the list);
// false when there is none.
func (vs Versions) Previous(v Version) (Version, bool) {
	for i := len(vs) - 1; i >= 0; i-- {
		if Compare(vs[i], v) < 0 {
			return vs[i], true
		}
	}
	return Version{}, false
}

// Newest returns the tags of the n newest versions, newest first.
func (vs Versions) Newest(n int) []string {
	var tags []string
	for i := len(vs) - 1; i >= 0 && len(tags) < n; i-- {
		tags = append(tags, vs[i].Tag)
	}
	return tags
}

// Find returns the version whose tag is exactly tag. When there is none the error is a
// *VersionNotFoundError listing the newest five tags.
func (vs Versions) Find(tag string) (Version, error) {
	for i := len(vs) - 1; i >= 0; i-- {
		if vs[i].Tag == tag {
			return vs[i], nil
		}
	}
	return Version{}, &VersionNotFoundError{Tag: tag, Newest: vs.Newest(5)}
}

// ErrVersionNotFound is matched (errors.Is) by every *VersionNotFoundError.
var ErrVersionNotFound = errors.New("version not found")

// VersionNotFoundError says that a tag is not a version of a recipe, and which versions are.
type VersionNotFoundError struct {
	// Recipe names the recipe when known; Source methods fill it in.
	Recipe string
	// Tag is the tag that was asked for.
	Tag string
	// Newest lists the newest tags, newest first; empty when the recipe has no versions.
	Newest []string
}

// Error reads like `"3.6" is not a version tag of recipe gitea (newest: 3.6.0+1.24.2, ...)`.
func (e *VersionNotFoundError) Error() string {
	of := ""
	if e.Recipe != "" {
		of = " of recipe " + e.Recipe
	}
	if len(e.Newest) == 0 {
		return fmt.Sprintf("%q is not a version tag%s (it has no MAJOR.MINOR.PATCH+UPSTREAM tags)", e.Tag, of)
	}
	return fmt.Sprintf("%q is not a version tag%s (newest: %s)", e.Tag, of, strings.Join(e.Newest, ", "))
}

// Is makes errors.Is(err, ErrVersionNotFound) true.
func (e *VersionNotFoundError) Is(target error) bool { return target == ErrVersionNotFound }
