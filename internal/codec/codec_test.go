package codec

import (
	"bytes"
	"encoding/base64"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	commonpb "go.temporal.io/api/common/v1"
	"go.temporal.io/sdk/converter"

	"github.com/ekmsync/ekmsync/internal/secret"
)

func testKey(t *testing.T) *secret.Key {
	raw, _ := base64.StdEncoding.DecodeString(secret.Generate())
	k, err := secret.NewKey(raw)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func TestDataConverterHidesPlaintextAndRoundTrips(t *testing.T) {
	dc := DataConverter(testKey(t))
	type order struct{ Email, Name string }
	in := order{Email: "jane.doe@example.co.uk", Name: "Jane Doe"}
	p, err := dc.ToPayload(in)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(p.GetData(), []byte("jane.doe")) || string(p.GetMetadata()["encoding"]) != encodingEncrypted {
		t.Fatalf("payload not encrypted: %q", p)
	}
	var out order
	if err := dc.FromPayload(p, &out); err != nil || out != in {
		t.Fatalf("round trip = %+v, %v", out, err)
	}
	// The same value without the codec is plaintext: the test above could fail.
	plain, _ := converter.GetDefaultDataConverter().ToPayload(in)
	if !bytes.Contains(plain.GetData(), []byte("jane.doe")) {
		t.Fatal("premise: the default converter writes plaintext")
	}
}

func TestDecodePassesThroughUnencryptedAndRejectsOtherKeys(t *testing.T) {
	k := testKey(t)
	c := New(k)
	plain := &commonpb.Payload{Metadata: map[string][]byte{"encoding": []byte("json/plain")}, Data: []byte(`"x"`)}
	out, err := c.Decode([]*commonpb.Payload{plain})
	if err != nil || out[0] != plain {
		t.Fatalf("pass-through: %v %v", out, err)
	}
	sealed, _ := c.Encode([]*commonpb.Payload{plain})
	if _, err := New(testKey(t)).Decode(sealed); err == nil || !strings.Contains(err.Error(), "cannot be opened") {
		t.Fatalf("other key: %v", err)
	}
}

func TestHandlerDecodesForAllowedOrigin(t *testing.T) {
	k := testKey(t)
	sealed, _ := New(k).Encode([]*commonpb.Payload{{Metadata: map[string][]byte{"encoding": []byte("json/plain")}, Data: []byte(`"hello"`)}})
	jsonBody := `{"payloads":[{"metadata":{"encoding":"` + base64.StdEncoding.EncodeToString([]byte(encodingEncrypted)) +
		`","encryption-key-id":"` + base64.StdEncoding.EncodeToString([]byte(k.ID())) + `"},"data":"` +
		base64.StdEncoding.EncodeToString(sealed[0].Data) + `"}]}`
	h := Handler(k, []string{"http://localhost:8233"}, "")
	req := httptest.NewRequest(http.MethodPost, "/codec/decode", strings.NewReader(jsonBody))
	req.Header.Set("Origin", "http://localhost:8233")
	req.Header.Set("Content-Type", "application/json")
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if rec.Code != 200 || !strings.Contains(rec.Body.String(), base64.StdEncoding.EncodeToString([]byte(`"hello"`))) {
		t.Fatalf("decode: %d %s", rec.Code, rec.Body)
	}
	if rec.Header().Get("Access-Control-Allow-Origin") != "http://localhost:8233" {
		t.Fatal("no CORS header for the UI's origin")
	}
	pre := httptest.NewRequest(http.MethodOptions, "/codec/decode", nil)
	pre.Header.Set("Origin", "http://evil.example")
	rec = httptest.NewRecorder()
	h.ServeHTTP(rec, pre)
	if rec.Header().Get("Access-Control-Allow-Origin") != "" {
		t.Fatal("CORS allowed an unknown origin")
	}
}

// With a token the codec server decodes nothing for a request without it (or
// with another), still answers the browser's preflight, and refuses a body over
// its limit with 413 naming it.
func TestHandlerRequiresItsBearerTokenAndBoundsTheBody(t *testing.T) {
	k := testKey(t)
	h := Handler(k, []string{"http://localhost:8233"}, "s3cret")
	for _, auth := range []string{"", "Bearer wrong", "s3cret", "Bearer s3cret "} {
		req := httptest.NewRequest(http.MethodPost, "/codec/decode", strings.NewReader(`{"payloads":[]}`))
		if auth != "" {
			req.Header.Set("Authorization", auth)
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code != http.StatusUnauthorized {
			t.Fatalf("Authorization %q: %d, want 401", auth, rec.Code)
		}
	}
	pre := httptest.NewRequest(http.MethodOptions, "/codec/decode", nil)
	pre.Header.Set("Origin", "http://localhost:8233")
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, pre)
	if rec.Code != http.StatusNoContent || rec.Header().Get("Access-Control-Allow-Origin") == "" {
		t.Fatalf("preflight: %d", rec.Code)
	}
	req := httptest.NewRequest(http.MethodPost, "/codec/decode", strings.NewReader(`{"payloads":[]}`))
	req.Header.Set("Authorization", "Bearer s3cret")
	req.Header.Set("Content-Type", "application/json")
	rec = httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if rec.Code != http.StatusOK {
		t.Fatalf("with the token: %d %s", rec.Code, rec.Body)
	}
	big := httptest.NewRequest(http.MethodPost, "/codec/decode", bytes.NewReader(make([]byte, MaxBody+1)))
	big.Header.Set("Authorization", "Bearer s3cret")
	rec = httptest.NewRecorder()
	h.ServeHTTP(rec, big)
	if rec.Code != http.StatusRequestEntityTooLarge || !strings.Contains(rec.Body.String(), "8388608 bytes") {
		t.Fatalf("oversized body: %d %s", rec.Code, rec.Body)
	}
}
