package e2e

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"os/exec"
	"strings"
	"testing"

	"github.com/ekmsync/ekmsync/internal/devserver"
	"github.com/ekmsync/ekmsync/internal/ekmsim"
	"github.com/ekmsync/ekmsync/internal/harness"
	"github.com/ekmsync/ekmsync/workflows"
)

// With payload encryption on, the history of an order sync run, as
// 'temporal workflow show' prints it, holds no customer e-mail address and no
// payload in plaintext; the worker's codec server decrypts them for the Web UI.
// Without it, the same history's payloads are plain JSON (the check can fail).
func TestPayloadEncryptionHidesCustomerDataFromTemporal(t *testing.T) {
	encrypted := harness.New(t, harness.Options{PayloadKey: true, Channel: "sealed",
		Sim: ekmsim.Options{Seed: 21, Products: 20, Orders: 60}})
	encrypted.MustCLI("orders", "sync", encrypted.Channel)
	history := workflowShow(t, encrypted, workflows.OrderSyncID(encrypted.Channel))
	for _, o := range encrypted.Sim.Orders() {
		if e := o.CustomerDetails.EmailAddress; e != "" && bytes.Contains(history, []byte(e)) {
			t.Fatalf("the history holds a customer e-mail address in plaintext")
		}
		if n := o.CustomerDetails.LastName; len(n) > 3 && bytes.Contains(history, []byte(`"`+n)) {
			t.Fatalf("the history holds a customer name in plaintext")
		}
	}
	plain, sealed := payloadEncodings(t, history)
	if sealed == 0 || plain != 0 {
		t.Fatalf("encrypted run: %d sealed and %d plain payloads, want all sealed", sealed, plain)
	}
	// The codec server, on its own address, turns a sealed payload back into JSON for
	// the Web UI; the public listener of the webhooks does not serve it.
	if resp, err := http.Post("http://"+string(encrypted.WorkerConfig.HTTPAddr)+"/codec/decode", "application/json", strings.NewReader(`{}`)); err == nil {
		resp.Body.Close()
		if resp.StatusCode != http.StatusNotFound && resp.StatusCode != http.StatusMethodNotAllowed {
			t.Fatalf("the webhook listener serves the codec: %s", resp.Status)
		}
	}
	decoded := codecDecode(t, encrypted, firstPayload(t, history))
	if !strings.Contains(decoded, "json/plain") {
		t.Fatalf("the codec server did not decode the payload: %s", decoded)
	}

	open := harness.New(t, harness.Options{Channel: "open", Sim: ekmsim.Options{Seed: 21, Products: 20, Orders: 60}})
	open.MustCLI("orders", "sync", open.Channel)
	plain, sealed = payloadEncodings(t, workflowShow(t, open, workflows.OrderSyncID(open.Channel)))
	if plain == 0 || sealed != 0 {
		t.Fatalf("run without the key: %d sealed and %d plain payloads, want all plain", sealed, plain)
	}
}

// workflowShow runs the Temporal CLI's 'workflow show' as an operator would.
func workflowShow(t *testing.T, h *harness.Env, id string) []byte {
	t.Helper()
	cli, err := devserver.FindCLI()
	if err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(cli, "workflow", "show", "--workflow-id", id, "--address", h.Config.Address, "--output", "json").CombinedOutput()
	if err != nil {
		t.Fatalf("temporal workflow show: %v\n%s", err, out)
	}
	return out
}

// payloadEncodings counts the payloads of a JSON history by their encoding. Search
// attributes are left out: Temporal must read them to index them, so no codec
// touches them, and ekmsync's hold only a channel name, its state and dates.
func payloadEncodings(t *testing.T, history []byte) (plain, sealed int) {
	t.Helper()
	var walk func(path string, v any)
	walk = func(path string, v any) {
		switch x := v.(type) {
		case map[string]any:
			if md, ok := x["metadata"].(map[string]any); ok {
				if enc, ok := md["encoding"].(string); ok {
					switch decodeB64(enc) {
					case "binary/encrypted":
						sealed++
					case "json/plain":
						t.Logf("plain payload at %s", path)
						plain++
					}
				}
			}
			for k, c := range x {
				if k == "searchAttributes" {
					continue
				}
				walk(path+"."+k, c)
			}
		case []any:
			for _, c := range x {
				walk(path+"[]", c)
			}
		}
	}
	var doc any
	if err := json.Unmarshal(history, &doc); err != nil {
		t.Fatalf("history is not JSON: %v", err)
	}
	walk("", doc)
	return plain, sealed
}

// firstPayload returns the first sealed payload of a history, as JSON.
func firstPayload(t *testing.T, history []byte) json.RawMessage {
	t.Helper()
	var found json.RawMessage
	var walk func(raw json.RawMessage)
	walk = func(raw json.RawMessage) {
		if found != nil {
			return
		}
		var obj map[string]json.RawMessage
		if json.Unmarshal(raw, &obj) == nil {
			var md map[string]string
			if json.Unmarshal(obj["metadata"], &md) == nil && decodeB64(md["encoding"]) == "binary/encrypted" {
				found = raw
				return
			}
			for _, v := range obj {
				walk(v)
			}
			return
		}
		var arr []json.RawMessage
		if json.Unmarshal(raw, &arr) == nil {
			for _, v := range arr {
				walk(v)
			}
		}
	}
	walk(history)
	if found == nil {
		t.Fatal("no sealed payload in the history")
	}
	return found
}

func codecDecode(t *testing.T, h *harness.Env, payload json.RawMessage) string {
	t.Helper()
	body := `{"payloads":[` + string(payload) + `]}`
	resp, err := http.Post("http://"+string(h.WorkerConfig.AdminAddr)+"/codec/decode", "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out struct {
		Payloads []struct {
			Metadata map[string]string `json:"metadata"`
		} `json:"payloads"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil || resp.StatusCode != 200 || len(out.Payloads) != 1 {
		t.Fatalf("codec server: %d %v", resp.StatusCode, err)
	}
	return decodeB64(out.Payloads[0].Metadata["encoding"])
}

func decodeB64(s string) string {
	b, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		return s
	}
	return string(b)
}
