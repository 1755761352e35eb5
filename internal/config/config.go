// Package config reads each binary's settings from the environment with envconfig.
// Temporal's connection settings keep the SDK's own names (TEMPORAL_*); ours are
// prefixed EKMSYNC_. Every value is validated at start-up, and a bad one is reported
// in a single line naming the variable and what it accepts.
package config

import (
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/kelseyhightower/envconfig"
)

// Temporal holds the Temporal connection settings: the variables of the SDK's own
// environment configuration (go.temporal.io/sdk/contrib/envconfig, the same the
// temporal CLI reads), applied by internal/tclient over the profile that
// TEMPORAL_CONFIG_FILE and TEMPORAL_PROFILE select. Empty means "the profile's value,
// else the SDK's default", so these carry no defaults of their own.
type Temporal struct {
	ConfigFile string `envconfig:"TEMPORAL_CONFIG_FILE" desc:"TOML profiles file of Temporal's environment configuration; empty: $XDG_CONFIG_HOME/temporalio/temporal.toml if it exists"`
	Profile    string `envconfig:"TEMPORAL_PROFILE" desc:"profile of that file to use; empty: default"`
	Address    string `envconfig:"TEMPORAL_ADDRESS" desc:"Temporal frontend host:port; empty: the profile's, else localhost:7233"`
	Namespace  string `envconfig:"TEMPORAL_NAMESPACE" desc:"Temporal namespace; empty: the profile's, else default (ekmsync wants one of its own)"`
	APIKey     Secret `envconfig:"TEMPORAL_API_KEY" desc:"API key (Temporal Cloud); implies TLS"`
	TLS        string `envconfig:"TEMPORAL_TLS" desc:"true or false to force TLS on or off; empty: on with a certificate or an API key"`
	TLSCert    string `envconfig:"TEMPORAL_TLS_CLIENT_CERT_PATH" desc:"path of a PEM client certificate for mTLS"`
	TLSKey     string `envconfig:"TEMPORAL_TLS_CLIENT_KEY_PATH" desc:"path of the PEM private key of TEMPORAL_TLS_CLIENT_CERT_PATH"`
	TLSCA      string `envconfig:"TEMPORAL_TLS_SERVER_CA_CERT_PATH" desc:"path of a PEM CA certificate to verify the server with, instead of the system's"`
	TLSServer  string `envconfig:"TEMPORAL_TLS_SERVER_NAME" desc:"TLS server name (SNI) to expect, when it differs from the address's host"`
}

// legacyTemporal are variables ekmsync read before it used the SDK's environment
// configuration, with the names that replace them.
var legacyTemporal = [][2]string{
	{"TEMPORAL_TLS_CERT", "TEMPORAL_TLS_CLIENT_CERT_PATH"},
	{"TEMPORAL_TLS_KEY", "TEMPORAL_TLS_CLIENT_KEY_PATH"},
}

// Common holds the settings that the worker and the starter share.
type Common struct {
	Temporal
	DatabaseURL DatabaseURL `envconfig:"EKMSYNC_DATABASE_URL" default:"postgres://postgres@127.0.0.1:5432/ekmsync?sslmode=disable" desc:"PostgreSQL connection URL of the hub database"`
	SecretKey   SecretKey   `envconfig:"EKMSYNC_SECRET_KEY" desc:"AES-256 key that encrypts client secrets and tokens at rest: 32 bytes, base64 or hex (make dev writes one to .dev/secret.key)"`
	LogLevel    LogLevel    `envconfig:"EKMSYNC_LOG_LEVEL" default:"info" desc:"log level: debug, info, warn or error"`
	LogFormat   LogFormat   `envconfig:"EKMSYNC_LOG_FORMAT" default:"text" desc:"log format: text, or json (one JSON object a line, for log collectors)"`
	PayloadKey  SecretKey   `envconfig:"EKMSYNC_PAYLOAD_KEY" desc:"optional AES-256 key (base64 or hex) that encrypts Temporal payloads; empty: payloads in plaintext"`
	TaskQueue   string      `envconfig:"EKMSYNC_TASK_QUEUE" default:"ekmsync" desc:"Temporal task queue of every ekmsync workflow and activity"`
}

// Worker is the configuration of the worker binary.
type Worker struct {
	Common
	HTTPAddr         Addr     `envconfig:"EKMSYNC_HTTP_ADDR" default:"127.0.0.1:8080" desc:"public listen address of the EKM webhook receiver (/webhooks/ekm/<channel>/<token>) and a bare /healthz"`
	AdminAddr        Addr     `envconfig:"EKMSYNC_ADMIN_ADDR" default:"127.0.0.1:8081" desc:"private listen address of /metrics, /healthz with reasons, and the codec server (/codec, only with EKMSYNC_PAYLOAD_KEY); keep it private"`
	CodecToken       Secret   `envconfig:"EKMSYNC_CODEC_TOKEN" desc:"optional bearer token the codec server requires (Authorization: Bearer <token>); empty: none"`
	StopTimeout      Duration `envconfig:"EKMSYNC_WORKER_STOP_TIMEOUT" default:"30s" desc:"on SIGINT/SIGTERM activities are told to stop at once; this bounds how long they may take to return"`
	ConnectRetryMax  Duration `envconfig:"EKMSYNC_CONNECT_RETRY_MAX" default:"30s" desc:"longest pause between attempts to reach Temporal or PostgreSQL at start"`
	NotifyDebounce   Duration `envconfig:"EKMSYNC_NOTIFY_DEBOUNCE" default:"200ms" desc:"how long hub-change notifications are gathered before the loops are woken"`
	DeploymentName   string   `envconfig:"EKMSYNC_DEPLOYMENT_NAME" desc:"Temporal Worker Deployment the worker joins, with its version as build ID (Worker Versioning); empty: an unversioned worker"`
	CodecCORSOrigins string   `envconfig:"EKMSYNC_CODEC_CORS_ORIGINS" default:"http://localhost:8233" desc:"comma-separated Web UI origins allowed to call the codec server"`
	OTelTraces       string   `envconfig:"EKMSYNC_OTEL_TRACES" desc:"otlp: send OpenTelemetry traces of workflows and activities to the OTLP endpoint of the standard OTEL_EXPORTER_OTLP_* variables; empty: no tracing"`
	NotifyURL        Secret   `envconfig:"EKMSYNC_NOTIFY_URL" desc:"optional URL (a Slack incoming webhook, or anything that takes its JSON) told when a channel needs a person; empty: no notifications"`
	NotifyEvery      Duration `envconfig:"EKMSYNC_NOTIFY_CHECK_INTERVAL" default:"1m" desc:"how often the hub is checked for what needs a person, when EKMSYNC_NOTIFY_URL is set"`
	ListingSlots     int      `envconfig:"EKMSYNC_LISTING_SLOTS" default:"200" desc:"listing-download activities this worker runs at once, on their own task queue (<EKMSYNC_TASK_QUEUE>-listings): order sync and push activities never wait for them"`
	WebhookFetches   int      `envconfig:"EKMSYNC_WEBHOOK_FETCHES" default:"32" desc:"fetches of webhooked orders the receiver runs itself at once, one per channel (the webhooks that arrive during it share the next), each waited for at most 2 s; beyond these, or when a fetch fails, the order-sync loop fetches the order; 0: the loop fetches every one"`
}

// Starter is the configuration of the operator CLI.
type Starter struct {
	Common
	CallbackAddr   Addr   `envconfig:"EKMSYNC_CALLBACK_ADDR" default:"127.0.0.1:8765" desc:"local address where 'channel add' and 'channel reauthorise' receive EKM's OAuth callback"`
	WebhookBaseURL string `envconfig:"EKMSYNC_WEBHOOK_BASE_URL" desc:"public base URL of the worker's webhook receiver (e.g. https://sync.example.com); empty: no EKM webhooks are subscribed"`
}

// Load fills cfg (a pointer to Worker or Starter) from the environment and validates
// it. The error is one line that names the variable and what it accepts.
func Load(cfg any) error {
	if err := envconfig.Process("", cfg); err != nil {
		return describe(err)
	}
	if v, ok := cfg.(interface{ validate() error }); ok {
		return v.validate()
	}
	return nil
}

func (c *Worker) validate() error {
	if len(c.SecretKey) == 0 {
		return errors.New("EKMSYNC_SECRET_KEY: required, but not set; want 32 bytes as base64 or 64 hex digits (generate one with: starter keygen)")
	}
	switch c.OTelTraces {
	case "", "otlp":
	default:
		return fmt.Errorf("EKMSYNC_OTEL_TRACES: invalid value %q; want otlp, or empty for no tracing", c.OTelTraces)
	}
	if u := c.NotifyURL.Reveal(); u != "" {
		if p, err := url.Parse(u); err != nil || (p.Scheme != "https" && p.Scheme != "http") || p.Host == "" {
			return errors.New("EKMSYNC_NOTIFY_URL: invalid value; want an http or https URL, e.g. a Slack incoming webhook's")
		}
	}
	if c.NotifyEvery.D() < time.Second {
		return errors.New("EKMSYNC_NOTIFY_CHECK_INTERVAL: want at least 1s")
	}
	if c.ListingSlots < 1 || c.ListingSlots > 10_000 {
		return fmt.Errorf("EKMSYNC_LISTING_SLOTS: invalid value %d; want 1 to 10000", c.ListingSlots)
	}
	if c.WebhookFetches < 0 || c.WebhookFetches > 1000 {
		return fmt.Errorf("EKMSYNC_WEBHOOK_FETCHES: invalid value %d; want 0 (the order-sync loop fetches every webhooked order) to 1000", c.WebhookFetches)
	}
	return c.Common.validate()
}
func (c *Starter) validate() error { return c.Common.validate() }

func (c *Common) validate() error {
	for _, l := range legacyTemporal {
		if os.Getenv(l[0]) != "" {
			return fmt.Errorf("%s: no longer read; rename it %s (Temporal's environment configuration)", l[0], l[1])
		}
	}
	if (c.TLSCert == "") != (c.TLSKey == "") {
		return errors.New("TEMPORAL_TLS_CLIENT_CERT_PATH and TEMPORAL_TLS_CLIENT_KEY_PATH: set both or neither")
	}
	switch strings.ToLower(c.TLS) {
	case "", "true", "false", "1", "0":
	default:
		return fmt.Errorf("TEMPORAL_TLS: invalid value %q; want true or false", c.TLS)
	}
	return nil
}

// describe turns envconfig's errors into one line: "VAR: problem; accepts ...".
func describe(err error) error {
	var pe *envconfig.ParseError
	if errors.As(err, &pe) {
		if strings.HasSuffix(pe.TypeName, "Secret") || strings.HasSuffix(pe.TypeName, "SecretKey") || strings.HasSuffix(pe.TypeName, "DatabaseURL") {
			// Never echo a secret, not even a malformed one: a database URL may hold a password.
			return fmt.Errorf("%s: invalid value: %v", pe.KeyName, pe.Err)
		}
		return fmt.Errorf("%s: invalid value %q: %v", pe.KeyName, pe.Value, unwrapStrconv(pe.Err))
	}
	msg := err.Error()
	if strings.HasPrefix(msg, "required key ") {
		key := strings.TrimSuffix(strings.TrimPrefix(msg, "required key "), " missing value")
		return fmt.Errorf("%s: required, but not set", key)
	}
	return err
}

// unwrapStrconv keeps the message short for the built-in types (bool, int).
func unwrapStrconv(err error) error {
	if u := errors.Unwrap(err); u != nil && strings.Contains(err.Error(), "strconv.") {
		return fmt.Errorf("not a valid value of its type (%v)", u)
	}
	return err
}

// Usage writes the table of variables that cfg (a pointer to a config struct) reads,
// with their defaults and descriptions: the body of each binary's --help.
func Usage(w io.Writer, cfg any) error {
	vars, err := Variables(cfg)
	if err != nil {
		return err
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "VARIABLE\tDEFAULT\tDESCRIPTION")
	for _, v := range vars {
		def := v.Default
		if def == "" {
			def = "-"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\n", v.Name, def, v.Description)
	}
	return tw.Flush()
}

// Variable describes one environment variable of a config struct.
type Variable struct {
	Name        string
	Default     string
	Description string
}

// VariableNames is the set of the environment variables that cfg reads, for
// checking what a deployment file passes a binary.
func VariableNames(cfg any) (map[string]bool, error) {
	vars, err := Variables(cfg)
	if err != nil {
		return nil, err
	}
	names := make(map[string]bool, len(vars))
	for _, v := range vars {
		names[v.Name] = true
	}
	return names, nil
}

// Variables lists the environment variables that cfg reads, in declaration order.
func Variables(cfg any) ([]Variable, error) {
	// envconfig keeps its field walk private; its usage template is the public way in.
	var buf strings.Builder
	const format = "{{range .}}{{usage_key .}}\x1f{{usage_default .}}\x1f{{usage_description .}}\x1e{{end}}"
	if err := envconfig.Usagef("", cfg, &buf, format); err != nil {
		return nil, err
	}
	var out []Variable
	for _, rec := range strings.Split(strings.TrimSuffix(buf.String(), "\x1e"), "\x1e") {
		f := strings.Split(rec, "\x1f")
		if len(f) == 3 {
			out = append(out, Variable{Name: f[0], Default: f[1], Description: f[2]})
		}
	}
	return out, nil
}
