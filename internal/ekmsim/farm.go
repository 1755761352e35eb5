package ekmsim

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"regexp"
	"strings"
	"sync"
	"time"
)

// Farm serves many simulated shops at once from one listener, as EKM serves many
// merchants (issue 14): each shop is a Sim of its own, with its own OAuth client,
// tokens, data and leaky bucket, under the path /shops/{name}. A channel's API
// base URL is the farm's URL plus that path (BaseURL); a token issued by one
// shop is refused by every other, and one shop's traffic never touches another's
// bucket. A shop's consent page posts to /connect/authorize without the prefix,
// so a farm's shops are authorised with Options.AutoApprove or IssueTokens.
type Farm struct {
	mu      sync.RWMutex
	shops   map[string]*Sim
	started bool // Start ran: shops added later start their jobs at once
	closed  bool
	servers []*http.Server
}

// farmShopName is what a shop may be called: a channel name's alphabet.
var farmShopName = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]{0,62}$`)

// NewFarm returns an empty farm.
func NewFarm() *Farm { return &Farm{shops: map[string]*Sim{}} }

// Add builds the shop name from opts and adds it to the farm. The shop's
// username defaults to name, and its OAuth client to name+"-client" with secret
// name+"-secret", so that no two shops share a client unless opts says so.
func (f *Farm) Add(name string, opts Options) (*Sim, error) {
	if !farmShopName.MatchString(name) {
		return nil, fmt.Errorf("ekmsim: shop name %q: use 1 to 63 of a-z, 0-9, '-' and '_', starting with a letter or digit", name)
	}
	if opts.ShopUsername == "" {
		opts.ShopUsername = name
	}
	if opts.ClientID == "" {
		opts.ClientID, opts.ClientSecret = name+"-client", name+"-secret"
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.closed {
		return nil, errors.New("ekmsim: the farm is closed")
	}
	if _, ok := f.shops[name]; ok {
		return nil, fmt.Errorf("ekmsim: the farm already has a shop %q", name)
	}
	s := New(opts)
	f.shops[name] = s
	if f.started {
		s.StartJobs()
	}
	return s, nil
}

// Shop returns the named shop, or nil.
func (f *Farm) Shop(name string) *Sim {
	f.mu.RLock()
	defer f.mu.RUnlock()
	return f.shops[name]
}

// Len returns the number of shops.
func (f *Farm) Len() int {
	f.mu.RLock()
	defer f.mu.RUnlock()
	return len(f.shops)
}

// BaseURL is the API base URL of the named shop on a farm served at farmURL.
func BaseURL(farmURL, name string) string {
	return strings.TrimRight(farmURL, "/") + "/shops/" + name
}

// Handler routes /shops/{name}/... to the shop's own Handler, the prefix
// stripped; any other path, or an unknown shop, is a 404.
func (f *Farm) Handler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rest, ok := strings.CutPrefix(r.URL.Path, "/shops/")
		name, _, _ := strings.Cut(rest, "/")
		var s *Sim
		if ok {
			s = f.Shop(name)
		}
		if s == nil {
			writeJSON(w, http.StatusNotFound, map[string]string{"error": "no such shop: the farm serves /shops/{name}/..."})
			return
		}
		http.StripPrefix("/shops/"+name, s.Handler()).ServeHTTP(w, r)
	})
}

// Start listens on addr (":0" picks a free port), serves the farm and starts
// every shop's background jobs; it returns the farm's URL. Close stops it.
func (f *Farm) Start(addr string) (string, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return "", fmt.Errorf("ekmsim: listen on %s: %w", addr, err)
	}
	srv := &http.Server{Handler: f.Handler(), ReadHeaderTimeout: 10 * time.Second,
		ErrorLog: slog.NewLogLogger(slog.DiscardHandler, slog.LevelDebug)}
	f.mu.Lock()
	if f.closed {
		f.mu.Unlock()
		_ = ln.Close()
		return "", errors.New("ekmsim: the farm is closed")
	}
	f.started = true
	f.servers = append(f.servers, srv)
	for _, s := range f.shops {
		s.StartJobs()
	}
	f.mu.Unlock()
	go func() { _ = srv.Serve(ln) }()
	return "http://" + dialable(ln.Addr()), nil
}

// Close stops the farm's servers and closes every shop.
func (f *Farm) Close() {
	f.mu.Lock()
	f.closed = true
	servers, shops := f.servers, f.shops
	f.servers, f.shops = nil, map[string]*Sim{}
	f.mu.Unlock()
	for _, srv := range servers {
		_ = srv.Close()
	}
	for _, s := range shops {
		s.Close()
	}
}
