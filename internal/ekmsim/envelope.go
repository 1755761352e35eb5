package ekmsim

import (
	"bytes"
	"encoding/json"
	"net/http"
	"strconv"

	"github.com/ekmsync/ekmsync/internal/ekm"
)

// EKM wraps every JSON answer in the same envelope (TempestResponse*):
// meta, links, validation_result, errors and data. These helpers write it.

// encodeJSON marshals v without HTML escaping (so "&pound;" stays readable).
func encodeJSON(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimRight(buf.Bytes(), "\n"), nil
}

// writeJSON writes v as the JSON body of a response with the given status.
func writeJSON(w http.ResponseWriter, status int, v any) {
	body, err := encodeJSON(v)
	if err != nil {
		http.Error(w, "ekmsim: encoding response: "+err.Error(), http.StatusInternalServerError)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "application/json; charset=utf-8")
	h.Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

// writeEnvelope writes an envelope whose data is v.
func writeEnvelope(w http.ResponseWriter, status int, meta map[string]any, links []ekm.Link, v any) {
	data, err := encodeJSON(v)
	if err != nil {
		http.Error(w, "ekmsim: encoding data: "+err.Error(), http.StatusInternalServerError)
		return
	}
	if links == nil {
		links = []ekm.Link{}
	}
	writeJSON(w, status, ekm.Envelope{Meta: meta, Links: links, Data: data})
}

// writeData writes a single-object envelope: meta {} and no links.
func writeData(w http.ResponseWriter, status int, v any) {
	writeEnvelope(w, status, map[string]any{}, nil, v)
}

// writeValidation writes an error envelope with one validation error and
// null data. members may be nil, as EKM sends for "Invalid search expression".
func writeValidation(w http.ResponseWriter, status int, members []string, message string) {
	writeJSON(w, status, ekm.Envelope{
		Meta:             map[string]any{},
		Links:            []ekm.Link{},
		ValidationResult: []ekm.ValidationError{{MemberNames: members, ErrorMessage: message}},
	})
}

// apiError is a validation failure a handler returns to be written as an
// envelope; it lets helpers fail without writing to the response themselves.
type apiError struct {
	status  int
	members []string
	message string
}

// Error implements error.
func (e *apiError) Error() string { return e.message }

// badRequest builds a 400 apiError.
func badRequest(members []string, message string) *apiError {
	return &apiError{status: http.StatusBadRequest, members: members, message: message}
}

// write sends the error as an envelope.
func (e *apiError) write(w http.ResponseWriter) {
	writeValidation(w, e.status, e.members, e.message)
}
