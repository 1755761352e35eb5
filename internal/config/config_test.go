package config

import (
	"strings"
	"testing"
)

func TestLoadDefaults(t *testing.T) {
	t.Setenv("EKMSYNC_SECRET_KEY", strings.Repeat("ab", 32))
	var c Worker
	if err := Load(&c); err != nil {
		t.Fatal(err)
	}
	// The Temporal address and namespace stay empty: the profile's, else the SDK's
	// defaults, apply in internal/tclient.
	if c.Address != "" || c.Namespace != "" || c.HTTPAddr != "127.0.0.1:8080" || len(c.SecretKey) != 32 {
		t.Fatalf("defaults: %+v", c)
	}
}

func TestLoadRejectsMalformedValuesNamingTheVariable(t *testing.T) {
	cases := []struct{ key, value, want string }{
		{"EKMSYNC_LOG_LEVEL", "loud", "EKMSYNC_LOG_LEVEL: invalid value \"loud\": want one of debug, info, warn, error"},
		{"EKMSYNC_HTTP_ADDR", "8080", "EKMSYNC_HTTP_ADDR: invalid value \"8080\": want host:port"},
		{"EKMSYNC_DATABASE_URL", "mysql://x", "EKMSYNC_DATABASE_URL: invalid value: want a URL"},
		{"EKMSYNC_WORKER_STOP_TIMEOUT", "soon", "EKMSYNC_WORKER_STOP_TIMEOUT: invalid value \"soon\": want a positive duration"},
		{"EKMSYNC_SECRET_KEY", "tooshort", "EKMSYNC_SECRET_KEY: invalid value: want 32 bytes"},
		{"EKMSYNC_DATABASE_URL", "host=db password=hunter2", "EKMSYNC_DATABASE_URL: invalid value: want a URL"},
		{"EKMSYNC_LOG_FORMAT", "xml", "EKMSYNC_LOG_FORMAT: invalid value \"xml\": want text or json"},
		{"EKMSYNC_OTEL_TRACES", "jaeger", "EKMSYNC_OTEL_TRACES: invalid value \"jaeger\"; want otlp"},
		{"EKMSYNC_NOTIFY_URL", "hooks.slack.com/services/T0/B0/password", "EKMSYNC_NOTIFY_URL: invalid value; want an http or https URL"},
		{"EKMSYNC_NOTIFY_CHECK_INTERVAL", "1ms", "EKMSYNC_NOTIFY_CHECK_INTERVAL: want at least 1s"},
	}
	for _, c := range cases {
		t.Run(c.key, func(t *testing.T) {
			t.Setenv("EKMSYNC_SECRET_KEY", strings.Repeat("ab", 32))
			t.Setenv(c.key, c.value)
			var w Worker
			err := Load(&w)
			if err == nil || !strings.HasPrefix(err.Error(), c.want) {
				t.Fatalf("err = %v, want prefix %q", err, c.want)
			}
			if strings.Contains(err.Error(), "\n") {
				t.Fatalf("error is not one line: %q", err)
			}
			if (c.key == "EKMSYNC_SECRET_KEY" || strings.Contains(c.value, "password")) && strings.Contains(err.Error(), c.value) {
				t.Fatalf("error echoes the secret: %q", err)
			}
		})
	}
}

func TestWorkerRequiresSecretKey(t *testing.T) {
	t.Setenv("EKMSYNC_SECRET_KEY", "")
	var w Worker
	if err := Load(&w); err == nil || !strings.HasPrefix(err.Error(), "EKMSYNC_SECRET_KEY: required") {
		t.Fatalf("err = %v", err)
	}
	var s Starter
	if err := Load(&s); err != nil {
		t.Fatalf("the starter loads without a key (only some commands need it): %v", err)
	}
}

func TestUsageListsEveryVariableWithDefault(t *testing.T) {
	var b strings.Builder
	if err := Usage(&b, &Worker{}); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"TEMPORAL_ADDRESS", "localhost:7233", "TEMPORAL_NAMESPACE", "TEMPORAL_API_KEY",
		"TEMPORAL_TLS_CLIENT_CERT_PATH", "TEMPORAL_TLS_CLIENT_KEY_PATH", "TEMPORAL_TLS_SERVER_CA_CERT_PATH",
		"TEMPORAL_TLS_SERVER_NAME", "TEMPORAL_CONFIG_FILE", "TEMPORAL_PROFILE", "EKMSYNC_DATABASE_URL", "EKMSYNC_HTTP_ADDR", "EKMSYNC_SECRET_KEY", "EKMSYNC_LOG_LEVEL"} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("usage lacks %s:\n%s", want, b.String())
		}
	}
}

func TestSecretDoesNotPrint(t *testing.T) {
	if s := Secret("hunter2").String(); strings.Contains(s, "hunter2") {
		t.Fatal("Secret printed itself")
	}
}

// The names ekmsync read before Temporal's environment configuration stop the binary
// with the name that replaces them, instead of being ignored silently.
func TestLegacyTLSVariablesNameTheirReplacement(t *testing.T) {
	t.Setenv("TEMPORAL_TLS_CERT", "/etc/temporal/client.pem")
	var c Starter
	err := Load(&c)
	if err == nil || !strings.Contains(err.Error(), "TEMPORAL_TLS_CERT") || !strings.Contains(err.Error(), "TEMPORAL_TLS_CLIENT_CERT_PATH") {
		t.Fatalf("got %v", err)
	}
}
