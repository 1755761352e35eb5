package cli

import (
	"bytes"
	stdjson "encoding/json"
	"fmt"
	"io"
	"time"

	"github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"
	jsonv1 "github.com/go-json-experiment/json/v1"
)

// The --json output is encoding/json's, with one change: a time.Duration is a Go
// duration string ("5m0s"), not nanoseconds. Results embed types that are also
// Temporal payloads (channel.Settings, the workflows' statuses), whose encoding
// must not change, so the change is made here, for every duration that reaches the
// output, by encoding/json/v2's prototype (go-json-experiment/json, the same code
// as Go's encoding/json/v2 behind GOEXPERIMENT=jsonv2) in its v1-compatible mode.
var (
	marshalOptions = json.JoinOptions(jsonv1.DefaultOptionsV1(),
		json.WithMarshalers(json.MarshalToFunc(func(enc *jsontext.Encoder, d time.Duration) error {
			return enc.WriteToken(jsontext.String(d.String()))
		})))
	unmarshalOptions = json.JoinOptions(jsonv1.DefaultOptionsV1(),
		json.WithUnmarshalers(json.UnmarshalFromFunc(func(dec *jsontext.Decoder, d *time.Duration) error {
			tok, err := dec.ReadToken()
			if err != nil {
				return err
			}
			if tok.Kind() != '"' {
				return fmt.Errorf("a duration is a string such as \"5m0s\", not %s", tok.Kind())
			}
			*d, err = time.ParseDuration(tok.String())
			return err
		})))
)

// writeJSON writes v as indented JSON, durations as Go duration strings.
func writeJSON(w io.Writer, v any) {
	b, err := json.Marshal(v, marshalOptions)
	if err != nil {
		b, _ = json.Marshal(map[string]string{"error": "encode the result: " + err.Error()})
	}
	indented(w, b)
}

// writeJSONError writes a failed command's JSON: {"error": text}, followed by the
// fields of what the command had got before it failed (res, if any), so that a
// script sees both why and how far.
func writeJSONError(w io.Writer, text string, res result) {
	head, _ := json.Marshal(map[string]string{"error": text})
	if res == nil {
		indented(w, head)
		return
	}
	body, err := json.Marshal(res, marshalOptions)
	switch {
	case err != nil:
		indented(w, head)
	case bytes.HasPrefix(body, []byte("{}")):
		indented(w, head)
	case body[0] == '{':
		indented(w, append(append(head[:len(head)-1], ','), body[1:]...))
	default:
		indented(w, append(append(head[:len(head)-1], []byte(`,"result":`)...), append(body, '}')...))
	}
}

func indented(w io.Writer, compact []byte) {
	var buf bytes.Buffer
	if err := stdjson.Indent(&buf, compact, "", "  "); err != nil {
		buf.Reset()
		buf.Write(compact)
	}
	buf.WriteByte('\n')
	_, _ = w.Write(buf.Bytes())
}

// UnmarshalJSON decodes a command's --json output into v: encoding/json's
// decoding, with durations read from their Go duration strings. Tests and
// scripts written in Go use it.
func UnmarshalJSON(data []byte, v any) error {
	return json.Unmarshal(data, v, unmarshalOptions)
}

// orEmpty returns s, or an empty slice when s is nil, so that a list in the JSON
// output is [] and never null.
func orEmpty[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}
