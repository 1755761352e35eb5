// Package tclient dials Temporal from the TEMPORAL_* settings, with TLS or an API key
// when given, the slog logger, and the optional payload codec.
package tclient

import (
	"context"
	"crypto/tls"
	"fmt"
	"log/slog"

	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/log"

	"github.com/ekmsync/ekmsync/internal/config"
)

// Options are what a binary adds to the connection settings.
type Options struct {
	Logger         *slog.Logger
	MetricsHandler client.MetricsHandler
	DataConverter  converter.DataConverter
}

// ClientOptions builds the SDK's client options from the TEMPORAL_* settings.
func ClientOptions(cfg config.Temporal, opts Options) (client.Options, error) {
	co := client.Options{
		HostPort:       cfg.Address,
		Namespace:      cfg.Namespace,
		MetricsHandler: opts.MetricsHandler,
		DataConverter:  opts.DataConverter,
	}
	if opts.Logger != nil {
		co.Logger = log.NewStructuredLogger(opts.Logger)
	}
	if cfg.TLSCert != "" {
		cert, err := tls.LoadX509KeyPair(cfg.TLSCert, cfg.TLSKey)
		if err != nil {
			return co, fmt.Errorf("TEMPORAL_TLS_CERT/TEMPORAL_TLS_KEY: %w", err)
		}
		co.ConnectionOptions.TLS = &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
	}
	if key := cfg.APIKey.Reveal(); key != "" {
		co.Credentials = client.NewAPIKeyStaticCredentials(key)
		if co.ConnectionOptions.TLS == nil {
			co.ConnectionOptions.TLS = &tls.Config{MinVersion: tls.VersionTLS12}
		}
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
		return nil, fmt.Errorf("connect to Temporal at %s (namespace %s): %w", cfg.Address, cfg.Namespace, err)
	}
	return c, nil
}
