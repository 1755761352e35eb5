package channel

import (
	"fmt"
	"net"
	"net/url"
	"strings"
)

// EKMAPIHost is EKM's own API host. EKM serves its REST API and both OAuth
// endpoints (/connect/authorize, /connect/token) on it, over HTTPS only; the
// partners site is where apps are registered and never receives a credential.
const EKMAPIHost = "api.ekm.net"

// APIMode says where a channel's credentials may be sent. It is sealed with the
// credentials (store.Binding), so that a row changed by SQL cannot widen it.
type APIMode string

// The API modes.
const (
	// APIModeEKM: only to EKM's own host, https://api.ekm.net.
	APIModeEKM APIMode = "ekm"
	// APIModeSimulator: to the host the operator chose through the CLI, a loopback
	// address or a simulator named with --simulator (tests, make dev, docker compose).
	APIModeSimulator APIMode = "simulator"
)

// IsEKMAPI reports whether u is EKM's own API: https, host api.ekm.net, default
// port, no user info.
func IsEKMAPI(u string) bool {
	p, err := url.Parse(u)
	if err != nil || p.User != nil || p.Scheme != "https" {
		return false
	}
	return strings.EqualFold(p.Hostname(), EKMAPIHost) && (p.Port() == "" || p.Port() == "443")
}

// IsLoopbackURL reports whether u is an http(s) URL on this machine's loopback
// interface (localhost, 127.0.0.0/8, ::1): a simulator the operator runs locally.
func IsLoopbackURL(u string) bool {
	p, err := url.Parse(u)
	if err != nil || p.User != nil || (p.Scheme != "http" && p.Scheme != "https") {
		return false
	}
	host := p.Hostname()
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// APIHostError is ModeFor's refusal of an API URL: an operator's mistake, with what to do.
type APIHostError struct{ msg string }

func (e *APIHostError) Error() string { return e.msg }

// ModeFor returns the mode under which the CLI may bind a channel's credentials to
// the API URL u: EKM's own host binds as APIModeEKM; a loopback URL, or any other
// http(s) URL when the operator said --simulator (allowSimulator), as
// APIModeSimulator. Anything else is refused with what to do.
func ModeFor(u string, allowSimulator bool) (APIMode, error) {
	switch {
	case IsEKMAPI(u):
		return APIModeEKM, nil
	case IsLoopbackURL(u):
		return APIModeSimulator, nil
	}
	p, err := url.Parse(u)
	if err != nil || (p.Scheme != "http" && p.Scheme != "https") || p.Host == "" || p.User != nil {
		return "", &APIHostError{fmt.Sprintf("api-base-url %q is not an absolute http(s) URL without user info", u)}
	}
	if allowSimulator {
		return APIModeSimulator, nil
	}
	return "", &APIHostError{fmt.Sprintf("api-base-url %q is not EKM's API (https://%s): credentials are sent only there; for a simulator, add --simulator", u, EKMAPIHost)}
}

// AllowedAPI checks, before credentials are sent, that u is allowed under mode:
// EKM's own host in APIModeEKM, any http(s) URL in APIModeSimulator.
func AllowedAPI(u string, mode APIMode) error {
	switch mode {
	case APIModeEKM:
		if IsEKMAPI(u) {
			return nil
		}
		return fmt.Errorf("%q is not EKM's API (https://%s)", u, EKMAPIHost)
	case APIModeSimulator:
		_, err := ModeFor(u, true)
		return err
	}
	return fmt.Errorf("unknown API mode %q", mode)
}
