package ekmsim

import (
	"errors"
	"html/template"
	"net/http"
	"net/url"
	"strings"
)

// authorizeRequest is a validated /connect/authorize request.
type authorizeRequest struct {
	clientID, redirectURI, state string
	scopes                       []string
}

// parseAuthorize validates the parameters of /connect/authorize. A bad client
// or redirect_uri cannot be redirected back to and returns an error for a
// page; other problems return an OAuth error code to redirect with.
func (a *authority) parseAuthorize(v url.Values) (authorizeRequest, oauthError, error) {
	req := authorizeRequest{
		clientID: v.Get("client_id"), redirectURI: v.Get("redirect_uri"), state: v.Get("state"),
		scopes: strings.Fields(v.Get("scope")),
	}
	if req.clientID != a.clientID {
		return req, "", errors.New("unknown client_id")
	}
	u, err := url.Parse(req.redirectURI)
	if !anyRedirectURI || err != nil || !u.IsAbs() || (u.Scheme != "http" && u.Scheme != "https") || u.Fragment != "" {
		return req, "", errors.New("redirect_uri must be an absolute http(s) URL")
	}
	if v.Get("response_type") != "code" {
		return req, "unsupported_response_type", nil
	}
	if !validScopes(req.scopes) {
		return req, errInvalidScope, nil
	}
	return req, "", nil
}

// consentPage asks the merchant to approve the app; Approve and Deny post the
// same parameters back to /connect/authorize.
var consentPage = template.Must(template.New("consent").Parse(`<!doctype html>
<html><head><meta charset="utf-8"><title>EKM simulator: approve access</title></head>
<body>
<h1>Allow {{.ClientID}} to access {{.Shop}}?</h1>
<p>Requested permissions:</p>
<ul>{{range .Scopes}}<li>{{.}}</li>{{end}}</ul>
<form method="post" action="/connect/authorize">
{{range $k, $vs := .Params}}{{range $vs}}<input type="hidden" name="{{$k}}" value="{{.}}">
{{end}}{{end}}<button type="submit" name="decision" value="approve">Approve</button>
<button type="submit" name="decision" value="deny">Deny</button>
</form>
</body></html>
`))

// handleAuthorize serves GET and POST /connect/authorize.
func (s *Sim) handleAuthorize(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		http.Error(w, "ekmsim: bad request: "+err.Error(), http.StatusBadRequest)
		return
	}
	req, code, err := s.auth.parseAuthorize(r.Form)
	if err != nil {
		http.Error(w, "ekmsim: "+err.Error(), http.StatusBadRequest)
		return
	}
	if code != "" {
		redirectWith(w, r, req.redirectURI, url.Values{"error": {string(code)}, "state": {req.state}})
		return
	}
	switch {
	case r.Method == http.MethodPost && r.PostForm.Get("decision") == "deny":
		redirectWith(w, r, req.redirectURI, url.Values{"error": {"access_denied"}, "state": {req.state}})
	case r.Method == http.MethodPost && r.PostForm.Get("decision") == "approve", s.opts.AutoApprove:
		c := s.auth.issueCode(req.clientID, req.redirectURI, req.scopes)
		redirectWith(w, r, req.redirectURI, url.Values{
			"code": {c}, "scope": {strings.Join(req.scopes, " ")}, "state": {req.state},
		})
	default:
		params := url.Values{}
		for _, k := range []string{"client_id", "redirect_uri", "response_type", "scope", "state", "nonce", "prompt"} {
			if v := r.Form.Get(k); v != "" {
				params.Set(k, v)
			}
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		err := consentPage.Execute(w, map[string]any{
			"ClientID": req.clientID, "Shop": s.opts.ShopUsername, "Scopes": req.scopes, "Params": params,
		})
		if err != nil {
			s.log.Error("rendering consent page", "err", err)
		}
	}
}

// redirectWith sends a 302 to base with params added to its query.
func redirectWith(w http.ResponseWriter, r *http.Request, base string, params url.Values) {
	u, _ := url.Parse(base) // validated by parseAuthorize
	q := u.Query()
	for k, vs := range params {
		if vs[0] != "" {
			q[k] = vs
		}
	}
	u.RawQuery = q.Encode()
	http.Redirect(w, r, u.String(), http.StatusFound)
}

// handleToken serves POST /connect/token: the authorization_code and
// refresh_token grants, client authenticated by form fields or HTTP Basic.
func (s *Sim) handleToken(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		writeTokenError(w, errInvalidRequest)
		return
	}
	clientID, secret, ok := r.BasicAuth()
	if !ok {
		clientID, secret = r.PostForm.Get("client_id"), r.PostForm.Get("client_secret")
	}
	if !s.auth.clientOK(clientID, secret) {
		writeTokenError(w, errInvalidClient)
		return
	}
	var (
		resp any
		err  error
	)
	switch r.PostForm.Get("grant_type") {
	case "authorization_code":
		resp, err = s.auth.exchangeCode(clientID, r.PostForm.Get("code"), r.PostForm.Get("redirect_uri"))
	case "refresh_token":
		resp, err = s.auth.refresh(clientID, r.PostForm.Get("refresh_token"), strings.Fields(r.PostForm.Get("scope")))
	default:
		err = errUnsupportedGrantType
	}
	if err != nil {
		var oe oauthError
		if !errors.As(err, &oe) {
			oe = errInvalidRequest
		}
		writeTokenError(w, oe)
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Pragma", "no-cache")
	writeJSON(w, http.StatusOK, resp)
}

// writeTokenError writes {"error": code} with the ASSUMED status (tokenErrorStatus).
func writeTokenError(w http.ResponseWriter, code oauthError) {
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, tokenErrorStatus, map[string]string{"error": string(code)})
}
