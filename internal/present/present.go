// Package present renders the loops' state for people: the Markdown current
// details the Web UI shows for a running loop, and the words and numbers the
// operator CLI prints. Both read the same contract types (internal/contract),
// so a loop's state reads alike wherever an operator looks. The workflows use
// it, so it stays deterministic and free of the hub, pgx and the Temporal
// client: it only formats what it is given.
package present

import (
	"strconv"
	"strings"
	"time"
)

// UTC writes t as an operator reads it (2006-01-02 15:04:05, in UTC), or "-"
// when there is none.
func UTC(t *time.Time) string {
	if t == nil || t.IsZero() {
		return "-"
	}
	return t.UTC().Format(time.DateTime)
}

// OrDash is s, or "-" when it is empty.
func OrDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// Count writes n with thousands separators, as operators read it.
func Count(n int) string {
	s := strconv.Itoa(n)
	neg := n < 0
	if neg {
		s = s[1:]
	}
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	if neg {
		s = "-" + s
	}
	return s
}

// Sentence starts s with a capital letter.
func Sentence(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

// utcOrDash writes t with its zone for the details, or "-".
func utcOrDash(t *time.Time) string {
	if t == nil {
		return "-"
	}
	return t.UTC().Format(time.DateTime) + " UTC"
}
