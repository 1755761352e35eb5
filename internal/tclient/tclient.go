// Package tclient dials Temporal the way Temporal's own tools do: through the SDK's
// environment configuration (go.temporal.io/sdk/contrib/envconfig), so a profiles
// file (TEMPORAL_CONFIG_FILE, TEMPORAL_PROFILE) that works for the temporal CLI works
// for ekmsync, and the TEMPORAL_* settings override it field by field (address,
// namespace, API key, TLS client certificate, CA, server name). It adds the slog
// logger, the metrics handler and the optional payload codec.
package tclient

import (
	"context"
	"fmt"
	"log/slog"
	"strings"

	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/contrib/envconfig"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/interceptor"
	"go.temporal.io/sdk/log"

	"github.com/ekmsync/ekmsync/internal/config"
)

// Options are what a binary adds to the connection settings.
type Options struct {
	Logger         *slog.Logger
	MetricsHandler client.MetricsHandler
	DataConverter  converter.DataConverter
	// Interceptors are the client's (and its workers') interceptors: tracing.
	Interceptors []interceptor.ClientInterceptor
}

// Defaults the SDK applies to an empty address or namespace; named here so that
// messages can say where ekmsync connects.
const (
	DefaultAddress   = client.DefaultHostPort
	DefaultNamespace = client.DefaultNamespace
)

// ClientOptions builds the SDK's client options: the profile of the profiles file
// (if there is one), then every non-empty TEMPORAL_* setting of cfg over it, with the
// SDK's own rules (an API key implies TLS, and so on).
func ClientOptions(cfg config.Temporal, opts Options) (client.Options, error) {
	prof, err := envconfig.LoadClientConfigProfile(envconfig.LoadClientConfigProfileOptions{
		ConfigFilePath:    cfg.ConfigFile,
		ConfigFileProfile: cfg.Profile,
		DisableEnv:        true,
		EnvLookup:         settings(cfg),
	})
	if err != nil {
		return client.Options{}, fmt.Errorf("Temporal profile (TEMPORAL_CONFIG_FILE %q, TEMPORAL_PROFILE %q): %w", cfg.ConfigFile, cfg.Profile, err)
	}
	if err := prof.ApplyEnvVars(settings(cfg)); err != nil {
		return client.Options{}, err
	}
	co, err := prof.ToClientOptions(envconfig.ToClientOptionsRequest{})
	if err != nil {
		return client.Options{}, fmt.Errorf("Temporal TLS settings (TEMPORAL_TLS_*): %w", err)
	}
	if co.HostPort == "" {
		co.HostPort = DefaultAddress
	}
	if co.Namespace == "" {
		co.Namespace = DefaultNamespace
	}
	co.MetricsHandler = opts.MetricsHandler
	co.DataConverter = opts.DataConverter
	co.Interceptors = opts.Interceptors
	if opts.Logger != nil {
		co.Logger = log.NewStructuredLogger(opts.Logger)
	}
	return co, nil
}

// Dial connects to Temporal once.
func Dial(ctx context.Context, cfg config.Temporal, opts Options) (client.Client, error) {
	co, err := ClientOptions(cfg, opts)
	if err != nil {
		return nil, err
	}
	c, err := client.DialContext(ctx, co)
	if err != nil {
		return nil, fmt.Errorf("connect to Temporal at %s (namespace %s): %w", co.HostPort, co.Namespace, err)
	}
	return c, nil
}

// IsTemporalCloud reports whether the address is Temporal Cloud's (its namespace
// endpoints end in .tmprl.cloud, its regional API endpoints in .api.temporal.io).
func IsTemporalCloud(hostPort string) bool {
	host := strings.ToLower(hostPort)
	if i := strings.LastIndex(host, ":"); i >= 0 {
		host = host[:i]
	}
	return strings.HasSuffix(host, ".tmprl.cloud") || strings.HasSuffix(host, ".api.temporal.io")
}

// settings presents cfg to the SDK as the environment it would otherwise read: only
// the non-empty settings are "set", so that the profile keeps the rest.
func settings(cfg config.Temporal) envconfig.EnvLookup {
	m := lookup{}
	for name, v := range map[string]string{
		"TEMPORAL_ADDRESS":                 cfg.Address,
		"TEMPORAL_NAMESPACE":               cfg.Namespace,
		"TEMPORAL_API_KEY":                 cfg.APIKey.Reveal(),
		"TEMPORAL_TLS":                     cfg.TLS,
		"TEMPORAL_TLS_CLIENT_CERT_PATH":    cfg.TLSCert,
		"TEMPORAL_TLS_CLIENT_KEY_PATH":     cfg.TLSKey,
		"TEMPORAL_TLS_SERVER_CA_CERT_PATH": cfg.TLSCA,
		"TEMPORAL_TLS_SERVER_NAME":         cfg.TLSServer,
	} {
		if v != "" {
			m[name] = v
		}
	}
	return m
}

// lookup is an envconfig.EnvLookup over a map instead of the process environment.
type lookup map[string]string

func (l lookup) Environ() []string {
	var out []string
	for k, v := range l {
		out = append(out, k+"="+v)
	}
	return out
}

func (l lookup) LookupEnv(k string) (string, bool) { v, ok := l[k]; return v, ok }
