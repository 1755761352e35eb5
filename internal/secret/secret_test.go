package secret

import (
	"bytes"
	"encoding/base64"
	"errors"
	"testing"
)

func newTestKey(t *testing.T) *Key {
	t.Helper()
	raw, err := base64.StdEncoding.DecodeString(Generate())
	if err != nil {
		t.Fatal(err)
	}
	k, err := NewKey(raw)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func TestSealOpenRoundTrip(t *testing.T) {
	k := newTestKey(t)
	box := k.Seal([]byte("s3cret-value"), "channel 1 client_secret")
	if bytes.Contains(box, []byte("s3cret-value")) {
		t.Fatal("box contains the plaintext")
	}
	got, err := k.Open(box, "channel 1 client_secret")
	if err != nil || string(got) != "s3cret-value" {
		t.Fatalf("Open = %q, %v", got, err)
	}
	if !k.SealedBy(box) {
		t.Fatal("SealedBy = false for own box")
	}
}

func TestOpenRejectsOtherContextKeyAndTampering(t *testing.T) {
	k, other := newTestKey(t), newTestKey(t)
	box := k.Seal([]byte("token"), "channel 1 access_token")
	if _, err := k.Open(box, "channel 2 access_token"); err == nil {
		t.Fatal("opened under another context")
	}
	if _, err := other.Open(box, "channel 1 access_token"); !errors.Is(err, ErrWrongKey) {
		t.Fatalf("other key: err = %v, want ErrWrongKey", err)
	}
	tampered := bytes.Clone(box)
	tampered[len(tampered)-1] ^= 1
	if _, err := k.Open(tampered, "channel 1 access_token"); err == nil {
		t.Fatal("opened a tampered box")
	}
	if _, err := k.Open([]byte("short"), "x"); err == nil {
		t.Fatal("opened garbage")
	}
}

func TestSealStringEmptyIsNil(t *testing.T) {
	k := newTestKey(t)
	if box := k.SealString("", "x"); box != nil {
		t.Fatalf("SealString(\"\") = %v, want nil", box)
	}
	if s, err := k.OpenString(nil, "x"); s != "" || err != nil {
		t.Fatalf("OpenString(nil) = %q, %v", s, err)
	}
}

func TestNewKeyRejectsWrongLength(t *testing.T) {
	if _, err := NewKey(make([]byte, 16)); err == nil {
		t.Fatal("accepted a 16-byte key")
	}
}
