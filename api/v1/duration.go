package v1

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"
)

// Duration is a time.Duration written in resource files as a Go duration string such as 90s,
// 10m or 1h30m. It marshals back to the shortest such string.
type Duration struct {
	time.Duration
}

// Minutes returns a Duration of n minutes; a convenience for defaults and tests.
func Minutes(n int) Duration { return Duration{time.Duration(n) * time.Minute} }

// ParseDuration parses a duration string such as 10m or 1h30m.
func ParseDuration(s string) (Duration, error) {
	d, err := time.ParseDuration(s)
	if err != nil {
		return Duration{}, fmt.Errorf("parse duration %q: %w", s, err)
	}
	return Duration{d}, nil
}

// String returns the duration without zero trailing units: 10m rather than 10m0s.
func (d Duration) String() string {
	s := d.Duration.String()
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
}

// MarshalJSON writes the duration as a string.
func (d Duration) MarshalJSON() ([]byte, error) { return json.Marshal(d.String()) }

// UnmarshalJSON reads a duration string.
func (d *Duration) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return fmt.Errorf("duration must be a string such as 10m: %w", err)
	}
	v, err := ParseDuration(s)
	if err != nil {
		return err
	}
	*d = v
	return nil
}
