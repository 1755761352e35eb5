package webhook

import (
	"strings"
	"testing"
)

func TestTokensAreRandomAndOnlyTheirHashMatches(t *testing.T) {
	a, ha := NewToken()
	b, hb := NewToken()
	if a == b || len(a) != 43 || strings.ContainsAny(a, "/+=") {
		t.Fatalf("tokens %q and %q: want distinct, 43 URL-safe characters", a, b)
	}
	if !Matches(a, ha) || Matches(a, hb) || Matches("", ha) || Matches(a, nil) || Matches(a, ha[:31]) {
		t.Fatal("a token matched another hash, or an empty token or hash matched")
	}
}

func TestURLAndItsRedactedForm(t *testing.T) {
	u := URL("https://sync.example.com/", "demo", "tok")
	if u != "https://sync.example.com/webhooks/ekm/demo/tok" {
		t.Fatalf("URL = %s", u)
	}
	if r := Redacted("https://sync.example.com", "demo"); r != "https://sync.example.com/webhooks/ekm/demo/<token>" {
		t.Fatalf("Redacted = %s", r)
	}
}

// The subscriptions that point at a channel's receiver, with or without a token,
// are recognised, and no other channel's (a name that is a prefix of another).
func TestChannelBaseRecognisesOnlyTheChannelsReceiver(t *testing.T) {
	for endpoint, want := range map[string]string{
		"https://h.example/webhooks/ekm/demo":          "https://h.example",
		"https://h.example/base/webhooks/ekm/demo/tok": "https://h.example/base",
		"https://h.example/webhooks/ekm/demo2":         "",
		"https://h.example/webhooks/ekm/demo2/tok":     "",
		"https://h.example/webhooks/ekm/de":            "",
		"https://h.example/webhooks/ekm/demo/tok/more": "",
		"https://h.example/other":                      "",
	} {
		got, ok := channelBase(endpoint, "demo")
		if got != want || ok != (want != "") {
			t.Errorf("channelBase(%s) = %q %v, want %q", endpoint, got, ok, want)
		}
	}
}
