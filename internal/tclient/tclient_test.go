package tclient

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ekmsync/ekmsync/internal/config"
)

// writeCert writes a self-signed certificate and its key as PEM files.
func writeCert(t *testing.T, dir, name string) (certPath, keyPath string) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: name},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour), IsCA: true, BasicConstraintsValid: true}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kb, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	certPath, keyPath = filepath.Join(dir, name+".pem"), filepath.Join(dir, name+".key")
	if err := os.WriteFile(certPath, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyPath, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kb}), 0o600); err != nil {
		t.Fatal(err)
	}
	return certPath, keyPath
}

// Without a profiles file or settings, ekmsync connects where the SDK and the
// temporal CLI would: localhost:7233, namespace default, no TLS.
func TestDefaultsWithoutProfileOrSettings(t *testing.T) {
	co, err := ClientOptions(config.Temporal{ConfigFile: filepath.Join(t.TempDir(), "absent.toml")}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if co.HostPort != "localhost:7233" || co.Namespace != "default" || co.ConnectionOptions.TLS != nil || co.Credentials != nil {
		t.Fatalf("got %s/%s TLS %v credentials %v", co.HostPort, co.Namespace, co.ConnectionOptions.TLS, co.Credentials)
	}
}

// A profile of the profiles file gives the connection; each TEMPORAL_* setting
// overrides its own field only.
func TestProfileFileAndSettingsOverIt(t *testing.T) {
	dir := t.TempDir()
	cert, key := writeCert(t, dir, "client")
	ca, _ := writeCert(t, dir, "ca")
	file := filepath.Join(dir, "temporal.toml")
	profiles := `
[profile.default]
address = "localhost:1111"

[profile.prod]
address = "temporal.internal:7233"
namespace = "shops"
[profile.prod.tls]
client_cert_path = "` + cert + `"
client_key_path = "` + key + `"
server_ca_cert_path = "` + ca + `"
server_name = "frontend.temporal.internal"
`
	if err := os.WriteFile(file, []byte(profiles), 0o600); err != nil {
		t.Fatal(err)
	}
	co, err := ClientOptions(config.Temporal{ConfigFile: file, Profile: "prod"}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	tlsConf := co.ConnectionOptions.TLS
	if co.HostPort != "temporal.internal:7233" || co.Namespace != "shops" || tlsConf == nil {
		t.Fatalf("profile prod: %s/%s TLS %v", co.HostPort, co.Namespace, tlsConf)
	}
	if len(tlsConf.Certificates) != 1 || tlsConf.RootCAs == nil || tlsConf.ServerName != "frontend.temporal.internal" {
		t.Fatalf("profile prod's TLS: %d client certificates, CA pool %v, server name %q", len(tlsConf.Certificates), tlsConf.RootCAs != nil, tlsConf.ServerName)
	}

	// Settings win field by field; the profile keeps the rest.
	co, err = ClientOptions(config.Temporal{ConfigFile: file, Profile: "prod", Namespace: "other", TLSServer: "sni.example"}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if co.HostPort != "temporal.internal:7233" || co.Namespace != "other" || co.ConnectionOptions.TLS.ServerName != "sni.example" {
		t.Fatalf("overrides: %s/%s server name %q", co.HostPort, co.Namespace, co.ConnectionOptions.TLS.ServerName)
	}

	// Without TEMPORAL_PROFILE, the default profile.
	co, err = ClientOptions(config.Temporal{ConfigFile: file}, Options{})
	if err != nil || co.HostPort != "localhost:1111" {
		t.Fatalf("default profile: %s, %v", co.HostPort, err)
	}

	// A named profile that the file lacks is an error that says where to look.
	_, err = ClientOptions(config.Temporal{ConfigFile: file, Profile: "staging"}, Options{})
	if err == nil || !strings.Contains(err.Error(), "TEMPORAL_PROFILE") || !strings.Contains(err.Error(), "staging") {
		t.Fatalf("missing profile: %v", err)
	}
}

// An API key implies TLS (Temporal Cloud), unless TEMPORAL_TLS=false says otherwise;
// a client certificate without its key is refused.
func TestAPIKeyAndTLSSwitches(t *testing.T) {
	none := filepath.Join(t.TempDir(), "absent.toml")
	co, err := ClientOptions(config.Temporal{ConfigFile: none, Address: "ns.acct.tmprl.cloud:7233", APIKey: "k"}, Options{})
	if err != nil || co.Credentials == nil || co.ConnectionOptions.TLS == nil {
		t.Fatalf("API key: credentials %v TLS %v err %v", co.Credentials, co.ConnectionOptions.TLS, err)
	}
	co, err = ClientOptions(config.Temporal{ConfigFile: none, APIKey: "k", TLS: "false"}, Options{})
	if err != nil || !co.ConnectionOptions.TLSDisabled {
		t.Fatalf("TEMPORAL_TLS=false: TLS disabled %v err %v", co.ConnectionOptions.TLSDisabled, err)
	}
	cert, _ := writeCert(t, t.TempDir(), "client")
	if _, err := ClientOptions(config.Temporal{ConfigFile: none, TLSCert: cert}, Options{}); err == nil || !strings.Contains(err.Error(), "TEMPORAL_TLS") {
		t.Fatalf("certificate without key: %v", err)
	}
}

func TestIsTemporalCloud(t *testing.T) {
	for addr, want := range map[string]bool{
		"shop.a1b2c.tmprl.cloud:7233":        true,
		"eu-west-1.aws.api.temporal.io:7233": true,
		"localhost:7233":                     false,
		"temporal.internal:7233":             false,
		"tmprl.cloud.example.com:7233":       false,
	} {
		if got := IsTemporalCloud(addr); got != want {
			t.Errorf("IsTemporalCloud(%q) = %v, want %v", addr, got, want)
		}
	}
}
