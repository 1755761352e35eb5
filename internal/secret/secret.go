// Package secret seals small values (client secrets, OAuth tokens) with AES-256-GCM
// for storage at rest. A sealed box carries the id of the key that sealed it, so that
// a wrong key is reported as such, and key rotation can tell old boxes from new.
package secret

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
)

// version is the first byte of every box; it allows a future change of format.
const version byte = 1

// keyIDLen is the length of the key fingerprint stored in each box.
const keyIDLen = 4

// ErrWrongKey means a box was sealed under another key than the one given.
var ErrWrongKey = errors.New("secret: sealed under a different key (was EKMSYNC_SECRET_KEY changed without 'starter rotate-key'?)")

// Key is an AES-256-GCM key.
type Key struct {
	aead cipher.AEAD
	id   [keyIDLen]byte
}

// NewKey returns a Key for 32 raw bytes.
func NewKey(raw []byte) (*Key, error) {
	if len(raw) != 32 {
		return nil, fmt.Errorf("secret: key must be 32 bytes, got %d", len(raw))
	}
	block, err := aes.NewCipher(raw)
	if err != nil {
		return nil, fmt.Errorf("secret: %w", err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, fmt.Errorf("secret: %w", err)
	}
	k := &Key{aead: aead}
	sum := sha256.Sum256(append([]byte("ekmsync-key-id:"), raw...))
	copy(k.id[:], sum[:])
	return k, nil
}

// Generate returns a new random key, base64-encoded, for EKMSYNC_SECRET_KEY.
func Generate() string {
	raw := make([]byte, 32)
	if _, err := rand.Read(raw); err != nil {
		panic(err) // crypto/rand never fails on supported platforms
	}
	return base64.StdEncoding.EncodeToString(raw)
}

// ID returns the key's fingerprint in hex: safe to print, it does not reveal the key.
func (k *Key) ID() string { return hex.EncodeToString(k.id[:]) }

// Seal encrypts plaintext. The context (for example "channel 3 refresh_token") is
// authenticated but not stored: a box only opens under the same context, so boxes
// cannot be swapped between rows or columns.
func (k *Key) Seal(plaintext []byte, context string) []byte {
	nonce := make([]byte, k.aead.NonceSize())
	if _, err := rand.Read(nonce); err != nil {
		panic(err)
	}
	out := make([]byte, 0, 1+keyIDLen+len(nonce)+len(plaintext)+k.aead.Overhead())
	out = append(out, version)
	out = append(out, k.id[:]...)
	out = append(out, nonce...)
	return k.aead.Seal(out, nonce, plaintext, []byte(context))
}

// SealString is Seal for a string; the empty string seals to nil (nothing stored).
func (k *Key) SealString(plaintext, context string) []byte {
	if plaintext == "" {
		return nil
	}
	return k.Seal([]byte(plaintext), context)
}

// Open decrypts a box made by Seal with the same context.
func (k *Key) Open(box []byte, context string) ([]byte, error) {
	header := 1 + keyIDLen + k.aead.NonceSize()
	if len(box) < header+k.aead.Overhead() || box[0] != version {
		return nil, errors.New("secret: not a sealed value")
	}
	if string(box[1:1+keyIDLen]) != string(k.id[:]) {
		return nil, ErrWrongKey
	}
	plain, err := k.aead.Open(nil, box[1+keyIDLen:header], box[header:], []byte(context))
	if err != nil {
		return nil, errors.New("secret: box does not open (tampered, or sealed for another row)")
	}
	return plain, nil
}

// OpenString is Open for a string; a nil box opens to "".
func (k *Key) OpenString(box []byte, context string) (string, error) {
	if box == nil {
		return "", nil
	}
	b, err := k.Open(box, context)
	return string(b), err
}

// SealedBy reports whether box was sealed under k (without opening it).
func (k *Key) SealedBy(box []byte) bool {
	return len(box) > 1+keyIDLen && box[0] == version && string(box[1:1+keyIDLen]) == string(k.id[:])
}
