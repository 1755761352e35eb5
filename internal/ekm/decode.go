package ekm

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strconv"
)

// decodeEnvelope parses a response body into EKM's envelope. An empty or
// malformed body is an error: on a 2xx it means the response was cut or garbled.
func decodeEnvelope(raw []byte) (*Envelope, error) {
	if len(bytes.TrimSpace(raw)) == 0 {
		return nil, errors.New("empty response body")
	}
	var env Envelope
	if err := json.Unmarshal(raw, &env); err != nil {
		return nil, fmt.Errorf("decoding envelope: %w", err)
	}
	return &env, nil
}

// decodeListPage splits a list envelope into its raw items. A data that is not an
// array means a garbled response and is retryable.
func decodeListPage(env *Envelope, number int) (Page[json.RawMessage], error) {
	p := Page[json.RawMessage]{Number: number, Meta: listMeta(env.Meta)}
	if len(env.Data) == 0 || string(env.Data) == "null" {
		return p, nil
	}
	if err := json.Unmarshal(env.Data, &p.Items); err != nil {
		return Page[json.RawMessage]{}, &Error{Kind: KindRetryable, Err: fmt.Errorf("list data is not an array: %w", err)}
	}
	return p, nil
}

// listMeta reads the paging meta. EKM's schema types meta values as objects while
// its responses carry numbers (docs/ekm-api.md §3), so any JSON value is accepted and
// anything not a whole number reads as 0.
func listMeta(m map[string]any) ListMeta {
	return ListMeta{PagesTotal: metaInt(m["pages_total"]), ItemsTotal: metaInt(m["items_total"]), ItemsPerPage: metaInt(m["items_per_page"])}
}

// metaInt converts one meta value to a non-negative int.
func metaInt(v any) int {
	var f float64
	switch x := v.(type) {
	case float64:
		f = x
	case string:
		parsed, err := strconv.ParseFloat(x, 64)
		if err != nil {
			return 0
		}
		f = parsed
	default:
		return 0
	}
	if math.IsNaN(f) || f < 0 || f > math.MaxInt32 {
		return 0
	}
	return int(f)
}

// decodePage decodes every raw item of p; the first failure fails the page.
func decodePage[T any](p Page[json.RawMessage], decode func(json.RawMessage) (T, error)) (Page[T], error) {
	out := Page[T]{Number: p.Number, Meta: p.Meta, Items: make([]T, 0, len(p.Items))}
	for i, raw := range p.Items {
		v, err := decode(raw)
		if err != nil {
			if e := AsError(err); e != nil {
				e.Err = fmt.Errorf("item %d of page %d: %w", i, p.Number, e.Err)
			}
			return Page[T]{}, err
		}
		out.Items = append(out.Items, v)
	}
	return out, nil
}

// typedPage decodes a raw page fetched from path, passing a fetch error through.
func typedPage[T any](raw Page[json.RawMessage], err error, decode func(json.RawMessage) (T, error), path string) (Page[T], error) {
	if err != nil {
		return Page[T]{}, err
	}
	p, err := decodePage(raw, decode)
	if err != nil {
		return Page[T]{}, located(err, "GET", path)
	}
	return p, nil
}

// object sends r and decodes the envelope's data with decode.
func object[T any](ctx context.Context, c *Client, r request, decode func(json.RawMessage) (T, error)) (T, error) {
	env, err := c.call(ctx, r)
	if err != nil {
		var zero T
		return zero, err
	}
	v, err := decode(env.Data)
	if err != nil {
		return v, located(err, r.method, r.path)
	}
	return v, nil
}

// rawData returns a record's JSON as it came, failing only when there is none.
func rawData(raw json.RawMessage) (json.RawMessage, error) {
	if len(raw) == 0 || string(raw) == "null" {
		return nil, &Error{Kind: KindRetryable, Err: errors.New("response has no data")}
	}
	return raw, nil
}

// decodeJSON decodes one record. Valid JSON that does not fit the type is
// KindInvalidData: fetching it again returns the same record.
func decodeJSON[T any](raw json.RawMessage) (T, error) {
	var v T
	if len(raw) == 0 || string(raw) == "null" {
		return v, &Error{Kind: KindRetryable, Err: errors.New("response has no data")}
	}
	if err := json.Unmarshal(raw, &v); err != nil {
		var syntax *json.SyntaxError
		kind := KindInvalidData
		if errors.As(err, &syntax) {
			kind = KindRetryable
		}
		return v, &Error{Kind: kind, Err: fmt.Errorf("decoding %T: %w", v, err)}
	}
	return v, nil
}

// located fills in the request of an *Error raised while decoding its response.
func located(err error, method, path string) error {
	if e := AsError(err); e != nil && e.Method == "" {
		e.Method, e.Path = method, path
	}
	return err
}
