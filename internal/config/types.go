package config

import (
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"strings"
	"time"
)

// Secret is a string that never prints itself, so it cannot leak through a log line
// or a formatted config.
type Secret string

// String hides the value.
func (s Secret) String() string {
	if s == "" {
		return ""
	}
	return "[redacted]"
}

// Reveal returns the secret value, for the one place that needs it.
func (s Secret) Reveal() string { return string(s) }

// SecretKey is a 32-byte AES-256 key, given as base64 or hex.
type SecretKey []byte

// Decode implements envconfig.Decoder.
func (k *SecretKey) Decode(value string) error {
	if value == "" {
		*k = nil
		return nil
	}
	b, err := ParseKey(value)
	if err != nil {
		return err
	}
	*k = b
	return nil
}

// String hides the key.
func (k SecretKey) String() string {
	if len(k) == 0 {
		return ""
	}
	return "[redacted]"
}

// ParseKey decodes a 32-byte key written as base64 (standard or URL alphabet, with or
// without padding) or as 64 hex digits.
func ParseKey(value string) ([]byte, error) {
	value = strings.TrimSpace(value)
	if len(value) == 64 {
		if b, err := hex.DecodeString(value); err == nil {
			return b, nil
		}
	}
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
		if b, err := enc.DecodeString(value); err == nil {
			if len(b) != 32 {
				return nil, fmt.Errorf("want 32 bytes, got %d", len(b))
			}
			return b, nil
		}
	}
	return nil, errors.New("want 32 bytes as base64 or 64 hex digits (generate one with: starter keygen)")
}

// LogLevel is a log/slog level name.
type LogLevel slog.Level

// Decode implements envconfig.Decoder.
func (l *LogLevel) Decode(value string) error {
	var lv slog.Level
	switch strings.ToLower(value) {
	case "debug":
		lv = slog.LevelDebug
	case "info", "":
		lv = slog.LevelInfo
	case "warn", "warning":
		lv = slog.LevelWarn
	case "error":
		lv = slog.LevelError
	default:
		return errors.New("want one of debug, info, warn, error")
	}
	*l = LogLevel(lv)
	return nil
}

// Level returns the slog level.
func (l LogLevel) Level() slog.Level { return slog.Level(l) }

// LogFormat is how the binaries write their logs: text or json.
type LogFormat string

// Decode implements envconfig.Decoder.
func (f *LogFormat) Decode(value string) error {
	switch v := strings.ToLower(strings.TrimSpace(value)); v {
	case "", "text":
		*f = "text"
	case "json":
		*f = "json"
	default:
		return errors.New("want text or json")
	}
	return nil
}

// JSON reports whether logs are JSON lines.
func (f LogFormat) JSON() bool { return f == "json" }

// Addr is a listen address, host:port.
type Addr string

// Decode implements envconfig.Decoder.
func (a *Addr) Decode(value string) error {
	if _, port, err := net.SplitHostPort(value); err != nil || port == "" {
		return errors.New("want host:port, e.g. 127.0.0.1:8080 or :8080")
	}
	*a = Addr(value)
	return nil
}

// DatabaseURL is a PostgreSQL connection URL.
type DatabaseURL string

// Decode implements envconfig.Decoder.
func (d *DatabaseURL) Decode(value string) error {
	u, err := url.Parse(value)
	if err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") || u.Host == "" {
		return errors.New("want a URL like postgres://user@host:5432/dbname?sslmode=disable")
	}
	*d = DatabaseURL(value)
	return nil
}

// Duration is a time.Duration that must be positive.
type Duration time.Duration

// Decode implements envconfig.Decoder.
func (d *Duration) Decode(value string) error {
	v, err := time.ParseDuration(value)
	if err != nil || v <= 0 {
		return errors.New("want a positive duration such as 500ms, 30s or 5m")
	}
	*d = Duration(v)
	return nil
}

// D returns the time.Duration.
func (d Duration) D() time.Duration { return time.Duration(d) }
