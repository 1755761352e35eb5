// Package codec encrypts Temporal payloads with AES-256-GCM (optional, off by
// default: EKMSYNC_PAYLOAD_KEY turns it on), so that Temporal's history holds no
// customer name, address or e-mail in plaintext. Its HTTP handler is a codec server:
// the Temporal Web UI calls it to show decrypted payloads to operators who can
// reach the worker.
package codec

import (
	"crypto/subtle"
	"fmt"
	"net/http"
	"slices"
	"strings"

	commonpb "go.temporal.io/api/common/v1"
	"go.temporal.io/sdk/converter"

	"github.com/ekmsync/ekmsync/internal/secret"
)

// Metadata of an encrypted payload.
const (
	encodingKey       = "encoding"
	encodingEncrypted = "binary/encrypted"
	keyIDKey          = "encryption-key-id"
	sealContext       = "ekmsync temporal payload"
)

// Codec is a converter.PayloadCodec that seals each payload whole (metadata and
// data) under one key.
type Codec struct {
	key *secret.Key
}

// New returns the codec for key.
func New(key *secret.Key) *Codec { return &Codec{key: key} }

// Encode seals every payload.
func (c *Codec) Encode(payloads []*commonpb.Payload) ([]*commonpb.Payload, error) {
	out := make([]*commonpb.Payload, len(payloads))
	for i, p := range payloads {
		plain, err := p.Marshal()
		if err != nil {
			return nil, fmt.Errorf("codec: marshal payload: %w", err)
		}
		out[i] = &commonpb.Payload{
			Metadata: map[string][]byte{encodingKey: []byte(encodingEncrypted), keyIDKey: []byte(c.key.ID())},
			Data:     c.key.Seal(plain, sealContext),
		}
	}
	return out, nil
}

// Decode opens sealed payloads and passes others through unchanged, so that
// histories written before encryption was turned on stay readable.
func (c *Codec) Decode(payloads []*commonpb.Payload) ([]*commonpb.Payload, error) {
	out := make([]*commonpb.Payload, len(payloads))
	for i, p := range payloads {
		if string(p.GetMetadata()[encodingKey]) != encodingEncrypted {
			out[i] = p
			continue
		}
		plain, err := c.key.Open(p.GetData(), sealContext)
		if err != nil {
			return nil, fmt.Errorf("codec: payload sealed under key %s cannot be opened with key %s: %w",
				p.GetMetadata()[keyIDKey], c.key.ID(), err)
		}
		var decoded commonpb.Payload
		if err := decoded.Unmarshal(plain); err != nil {
			return nil, fmt.Errorf("codec: unmarshal payload: %w", err)
		}
		out[i] = &decoded
	}
	return out, nil
}

// DataConverter returns the default data converter wrapped in the codec.
func DataConverter(key *secret.Key) converter.DataConverter {
	return converter.NewCodecDataConverter(converter.GetDefaultDataConverter(), New(key))
}

// MaxBody bounds a codec request's body: the Web UI sends the payloads of one
// history page, far below it.
const MaxBody = 8 << 20

// Handler serves the codec server's /encode and /decode for the Web UI, answering
// CORS preflights for the allowed origins (the UI calls it from the browser).
// With a token, every request but a preflight must carry "Authorization: Bearer
// <token>" (the Web UI's codec setting can pass the user's); a body over MaxBody
// is refused with 413.
func Handler(key *secret.Key, allowedOrigins []string, token string) http.Handler {
	inner := converter.NewPayloadCodecHTTPHandler(New(key))
	want := []byte("Bearer " + token)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if origin := r.Header.Get("Origin"); origin != "" && slices.Contains(allowedOrigins, origin) {
			w.Header().Set("Access-Control-Allow-Origin", origin)
			w.Header().Set("Access-Control-Allow-Headers", "Content-Type, X-Namespace, Authorization")
			w.Header().Set("Access-Control-Allow-Methods", "POST, OPTIONS")
		}
		if r.Method == http.MethodOptions {
			w.WriteHeader(http.StatusNoContent)
			return
		}
		if token != "" && subtle.ConstantTimeCompare([]byte(r.Header.Get("Authorization")), want) != 1 {
			w.Header().Set("WWW-Authenticate", "Bearer")
			http.Error(w, "a bearer token is required (EKMSYNC_CODEC_TOKEN)", http.StatusUnauthorized)
			return
		}
		if r.ContentLength > MaxBody {
			http.Error(w, fmt.Sprintf("body over the codec server's limit of %d bytes", MaxBody), http.StatusRequestEntityTooLarge)
			return
		}
		r.Body = http.MaxBytesReader(w, r.Body, MaxBody)
		inner.ServeHTTP(w, r)
	})
}

// Origins splits a comma-separated list of origins.
func Origins(list string) []string {
	var out []string
	for _, o := range strings.Split(list, ",") {
		if o = strings.TrimRight(strings.TrimSpace(o), "/"); o != "" {
			out = append(out, o)
		}
	}
	return out
}
