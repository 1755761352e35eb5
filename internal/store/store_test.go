package store_test

import (
	"strings"
	"testing"

	"github.com/ekmsync/ekmsync/internal/store"
)

func TestRedactHidesEveryPassword(t *testing.T) {
	for _, u := range []string{
		"postgres://app:hunter2@db:5432/hub?sslmode=disable",
		"postgres://app@db/hub?password=hunter2",
		"postgres://app@db/hub?PASSWORD=hunter2&sslmode=require",
		"host=db user=app password=hunter2 dbname=hub",
	} {
		got := store.Redact(u)
		if strings.Contains(got, "hunter2") {
			t.Errorf("Redact(%q) = %q: the password shows", u, got)
		}
	}
	if got := store.Redact("postgres://app@db:5432/hub"); got != "postgres://app@db:5432/hub" {
		t.Errorf("a URL without a password changed: %q", got)
	}
}
