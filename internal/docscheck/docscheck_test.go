package docscheck

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ekmsync/ekmsync/internal/devserver"
)

// Every relative link of the repository's Markdown resolves, and no Markdown or Go
// file refers to a path outside the repository.
func TestRepositoryReferencesStayInside(t *testing.T) {
	root, err := devserver.RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	problems, err := Check(root)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range problems {
		t.Error(p)
	}
}

// The check reports a link to a missing file, a link or a path that leaves the
// repository, a build machine's path, a docs/ file that a comment cites but that
// does not exist, and a document of docs/ cited by its name alone; links to the
// web, anchors, existing files and other names (out.md) pass.
func TestCheckFindsBrokenAndOutsideReferences(t *testing.T) {
	root := t.TempDir()
	write := func(rel, text string) {
		p := filepath.Join(root, filepath.FromSlash(rel))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("docs/spec.md", "# Spec\nSee [the README](../README.md#top), [EKM](https://ekm.com), [here](#spec).\n")
	write("README.md", strings.Join([]string{
		"[spec](docs/spec.md) and [spec §2](docs/spec.md#2-orders)", // fine
		"[gone](docs/gone.md)",                            // missing
		"[away](../elsewhere/spec.md)",                    // outside
		"copied from /" + "work/shared" + "/docs/spec.md", // a build machine's path (split, so no grep of the repo finds it)
		"```", "[in a fence](not/checked.md)", "```", // code, not a link
	}, "\n"))
	write("pkg/a.go", "package pkg\n\n// Rules: docs/spec.md §2; docs/missing.md; ../../../etc/x.md; spec.md §3; out.md\n")
	problems, err := Check(root)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, p := range problems {
		got = append(got, p.File+":"+p.Ref)
	}
	want := []string{"README.md:docs/gone.md", "README.md:../elsewhere/spec.md", "README.md:/" + "work/",
		"pkg/a.go:docs/missing.md", "pkg/a.go:../../../etc/x.md", "pkg/a.go:spec.md"}
	for _, w := range want {
		found := false
		for _, g := range got {
			found = found || g == w
		}
		if !found {
			t.Errorf("not reported: %s (reported: %q)", w, got)
		}
	}
	if len(got) != len(want) {
		t.Errorf("reported %q, want exactly %q", got, want)
	}
}
