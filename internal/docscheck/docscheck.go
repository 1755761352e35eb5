// Package docscheck keeps the repository's documentation self-contained: every
// relative link in a Markdown file resolves to a file of the repository, and no
// Markdown or Go file refers to a path outside it (a clone of the repository is
// all a user has). Its test runs the check over the repository.
package docscheck

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
)

// Problem is one reference that does not hold.
type Problem struct {
	File string // relative to the repository root
	Line int
	Ref  string
	Why  string
}

func (p Problem) String() string { return fmt.Sprintf("%s:%d: %s: %s", p.File, p.Line, p.Ref, p.Why) }

var (
	// mdLink is an inline Markdown link or image: [text](target "title").
	mdLink = regexp.MustCompile(`\]\(([^)\s]+)(?:\s+"[^"]*")?\)`)
	// upPath is a relative path that climbs: ../x/y.
	upPath = regexp.MustCompile(`(?:^|[\s(\x60"'\[])((?:\.\./)+[\w.\-/]+)`)
	// docsPath is a mention of a file under docs/, as code comments cite them.
	docsPath = regexp.MustCompile(`(?:^|[^\w./-])(docs/[\w.\-]+\.(?:md|json))\b`)
	// bareName is a file name without a directory, such as a comment's
	// "channel-semantics.md §2".
	bareName = regexp.MustCompile(`(?:^|[^\w./-])([\w-]+\.md)\b`)
	// outside are locations that only exist on the machine the project was built
	// on, never in a clone. Built from parts so that this file does not match.
	outside = regexp.MustCompile(`(?:^|[^\w.])(/` + `work/|shared/` + `(?:docs|reference)/)`)
)

// skipDirs are not part of the sources: build output, local state, VCS data.
var skipDirs = []string{".git", ".bin", ".dev", ".test", "node_modules"}

// self is this package, whose test holds broken references on purpose.
const self = "internal/docscheck"

// Check checks every Markdown and Go file under root, the repository's root.
func Check(root string) ([]Problem, error) {
	var problems []Problem
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			rel, _ := filepath.Rel(root, path)
			if path != root && (slices.Contains(skipDirs, d.Name()) || filepath.ToSlash(rel) == self) {
				return filepath.SkipDir
			}
			return nil
		}
		ext := filepath.Ext(path)
		if ext != ".md" && ext != ".go" {
			return nil
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, path)
		problems = append(problems, checkFile(root, filepath.ToSlash(rel), string(b))...)
		return nil
	})
	return problems, err
}

// checkFile checks one file's text; rel is its path from the root.
func checkFile(root, rel, text string) []Problem {
	var problems []Problem
	dir := filepath.Dir(filepath.Join(root, rel))
	markdown := strings.HasSuffix(rel, ".md")
	inFence := false
	for i, line := range strings.Split(text, "\n") {
		reported := map[string]bool{} // one problem per reference
		add := func(ref, why string) {
			if !reported[ref] {
				reported[ref] = true
				problems = append(problems, Problem{File: rel, Line: i + 1, Ref: ref, Why: why})
			}
		}
		if markdown && strings.HasPrefix(strings.TrimSpace(line), "```") {
			inFence = !inFence
		}
		if markdown && !inFence {
			for _, m := range mdLink.FindAllStringSubmatch(line, -1) {
				target := m[1]
				if strings.Contains(target, "://") || strings.HasPrefix(target, "mailto:") || strings.HasPrefix(target, "#") {
					continue
				}
				path, _, _ := strings.Cut(target, "#")
				p := filepath.Join(dir, filepath.FromSlash(path))
				switch {
				case strings.HasPrefix(path, "/") || !inside(root, p):
					add(path, "a link outside the repository")
				case !exists(p):
					add(path, "a link to a file that does not exist")
				}
			}
		}
		for _, m := range upPath.FindAllStringSubmatch(line, -1) {
			if p := filepath.Join(dir, m[1]); !inside(root, p) {
				add(m[1], "a path outside the repository")
			}
		}
		for _, m := range docsPath.FindAllStringSubmatch(line, -1) {
			if !exists(filepath.Join(root, m[1])) && !exists(filepath.Join(dir, m[1])) {
				add(m[1], "no such file in the repository")
			}
		}
		if !strings.HasPrefix(rel, "docs/") {
			// A document of docs/ cited by its name alone, outside docs/, does not
			// say where it is: cite it as docs/<name>.
			for _, m := range bareName.FindAllStringSubmatch(line, -1) {
				if exists(filepath.Join(root, "docs", m[1])) && !exists(filepath.Join(dir, m[1])) {
					add(m[1], "cite it as docs/"+m[1])
				}
			}
		}
		if len(reported) == 0 {
			for _, m := range outside.FindAllStringSubmatch(line, -1) {
				add(m[1], "a path outside the repository: users clone the repository alone")
			}
		}
	}
	return problems
}

// inside reports whether path is root or under it.
func inside(root, path string) bool {
	r, err := filepath.Rel(root, path)
	return err == nil && r != ".." && !strings.HasPrefix(r, ".."+string(filepath.Separator))
}

func exists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}
