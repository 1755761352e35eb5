package config

import (
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"
)

// The README's configuration table must list exactly the variables the binaries
// read, with the binaries that read each and the same defaults.
func TestReadmeConfigurationTableMatchesTheCode(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("..", "..", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	const begin, end = "<!-- config-table:begin -->", "<!-- config-table:end -->"
	text := string(b)
	i, j := strings.Index(text, begin), strings.Index(text, end)
	if i < 0 || j < i {
		t.Fatalf("README.md lacks the %s ... %s markers", begin, end)
	}
	documented := map[string]string{}
	usedBy := map[string]string{}
	for _, line := range strings.Split(text[i+len(begin):j], "\n") {
		cells := strings.Split(strings.Trim(strings.TrimSpace(line), "|"), "|")
		if len(cells) < 3 || !strings.HasPrefix(strings.TrimSpace(cells[0]), "`") {
			continue
		}
		name := strings.Trim(strings.TrimSpace(cells[0]), "`")
		documented[name] = strings.Trim(strings.TrimSpace(cells[2]), "`")
		usedBy[name] = strings.TrimSpace(cells[1])
	}
	want := map[string]string{}
	readers := map[string][]string{}
	for _, b := range []struct {
		name string
		cfg  any
	}{{"worker", &Worker{}}, {"starter", &Starter{}}} {
		vars, err := Variables(b.cfg)
		if err != nil {
			t.Fatal(err)
		}
		for _, v := range vars {
			want[v.Name] = v.Default
			readers[v.Name] = append(readers[v.Name], b.name)
		}
	}
	var problems []string
	for name, def := range want {
		got, ok := documented[name]
		switch {
		case !ok:
			problems = append(problems, name+" is missing from the README")
		case got != def && !(def == "" && (got == "" || got == "-")):
			problems = append(problems, name+": README default "+got+", code default "+def)
		}
		if ok {
			for _, bin := range []string{"worker", "starter"} {
				if strings.Contains(usedBy[name], bin) != slices.Contains(readers[name], bin) {
					problems = append(problems, name+": README says it is used by "+usedBy[name]+"; read by "+strings.Join(readers[name], ", "))
					break
				}
			}
		}
	}
	for name := range documented {
		if _, ok := want[name]; !ok {
			problems = append(problems, name+" is in the README but no binary reads it")
		}
	}
	sort.Strings(problems)
	if len(problems) > 0 {
		t.Fatalf("README configuration table is out of date:\n%s", strings.Join(problems, "\n"))
	}
}
