package api

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/url"
	"os"
	"reflect"
	"sort"
	"strings"
	"testing"
	"time"

	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/service/ses"
	"github.com/aws/aws-sdk-go-v2/service/sesv2"
	"github.com/aws/smithy-go/middleware"
)

// Issue 11, item 9: docs/api.md's "Every SES operation" tables list each
// operation of SES's service models once, and what they say is true: an
// operation marked served is answered by sesame, one marked
// "receiving" is not (so the table is updated when it is).
//
// The models are aws-sdk-go-v2's sesv2 and ses clients (their operations
// are the clients' methods; 116 and 71 in the pinned versions) and, where
// Debian's python3-botocore is installed, its service-2.json files, whose
// operations must all be among the SDK's (Debian's sesv2 model is older).

// Where Debian's botocore keeps SES's service models.
var botocoreModels = map[string]string{
	"v2": "/usr/lib/python3/dist-packages/botocore/data/sesv2/2019-09-27/service-2.json",
	"v1": "/usr/lib/python3/dist-packages/botocore/data/ses/2010-12-01/service-2.json",
}

// opRow is one row of the operations table.
type opRow struct{ status, note string }

// servedStatuses are the statuses of operations sesame answers.
var servedStatuses = []string{"supported", "answers the truth: "}

// unservedStatuses are the statuses of operations it does not answer yet:
// none since receiving landed; a status for a future gap goes here.
var unservedStatuses []string

func isServed(status string) bool {
	for _, p := range servedStatuses {
		if status == p || (strings.HasSuffix(p, ": ") && strings.HasPrefix(status, p) && len(status) > len(p)) {
			return true
		}
	}
	return false
}

func isUnserved(status string) bool {
	for _, s := range unservedStatuses {
		if status == s {
			return true
		}
	}
	return false
}

// readOperationsTable parses docs/api.md's "Every SES operation" section:
// api ("v2", "v1") → operation → row. Duplicates are errors.
func readOperationsTable(t *testing.T) map[string]map[string]opRow {
	t.Helper()
	f, err := os.Open("../../docs/api.md")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	tables := map[string]map[string]opRow{}
	in, api := false, ""
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		switch {
		case line == "## Every SES operation":
			in = true
			continue
		case strings.HasPrefix(line, "## "):
			in = false
		case in && strings.HasPrefix(line, "### "):
			api = strings.TrimSpace(strings.TrimPrefix(line, "### "))
			tables[api] = map[string]opRow{}
			continue
		}
		if !in || api == "" || !strings.HasPrefix(line, "| `") {
			continue
		}
		cells := strings.Split(strings.Trim(line, "|"), "|")
		if len(cells) != 3 {
			t.Errorf("docs/api.md %s: a row needs 3 cells: %s", api, line)
			continue
		}
		name := strings.Trim(strings.TrimSpace(cells[0]), "`")
		if _, dup := tables[api][name]; dup {
			t.Errorf("docs/api.md %s: %s is listed twice", api, name)
		}
		tables[api][name] = opRow{strings.TrimSpace(cells[1]), strings.TrimSpace(cells[2])}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	if len(tables["v2"]) == 0 || len(tables["v1"]) == 0 {
		t.Fatalf("docs/api.md: no v2 and v1 tables under \"## Every SES operation\" (%d, %d rows)", len(tables["v2"]), len(tables["v1"]))
	}
	return tables
}

// sdkOperations are a client's operations: its methods of the form
// (ctx, *XInput, ...func(*Options)) (*XOutput, error).
func sdkOperations(client any) map[string]reflect.Method {
	ops := map[string]reflect.Method{}
	typ := reflect.TypeOf(client)
	for i := range typ.NumMethod() {
		m := typ.Method(i)
		ft := m.Type // receiver first
		if ft.NumIn() == 4 && ft.IsVariadic() && ft.NumOut() == 2 && ft.In(2).Kind() == reflect.Pointer &&
			ft.In(2).Elem().Name() == m.Name+"Input" {
			ops[m.Name] = m
		}
	}
	return ops
}

func botocoreOperations(t *testing.T, path string) map[string]bool {
	t.Helper()
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		t.Logf("%s: not installed; checking against the SDK's operations only", path)
		return nil
	}
	if err != nil {
		t.Fatal(err)
	}
	var model struct {
		Operations map[string]json.RawMessage `json:"operations"`
	}
	if err := json.Unmarshal(b, &model); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	ops := map[string]bool{}
	for name := range model.Operations {
		ops[name] = true
	}
	return ops
}

func TestOperationsTable(t *testing.T) {
	t.Parallel()
	tables := readOperationsTable(t)
	e := newSendEnv(t, true)
	clients := map[string]any{"v2": e.v2, "v1": e.v1}
	for _, api := range []string{"v2", "v1"} {
		ops := sdkOperations(clients[api])
		if len(ops) < 70 {
			t.Fatalf("%s: only %d SDK operations found", api, len(ops))
		}
		for name := range botocoreOperations(t, botocoreModels[api]) {
			if _, ok := ops[name]; !ok {
				t.Errorf("%s: botocore's %s is not an operation of the pinned SDK", api, name)
			}
		}
		table := tables[api]
		for _, name := range sortedKeys(ops) {
			if _, ok := table[name]; !ok {
				t.Errorf("docs/api.md %s: %s is missing", api, name)
			}
		}
		for _, name := range sortedKeys(table) {
			row := table[name]
			m, ok := ops[name]
			switch {
			case !ok:
				t.Errorf("docs/api.md %s: %s is not an operation of SES's model", api, name)
				continue
			case !isServed(row.status) && !isUnserved(row.status):
				t.Errorf("docs/api.md %s: %s: unknown status %q", api, name, row.status)
				continue
			}
			code := callOperation(t, clients[api], m)
			unknown := code == "UnknownOperationException" || code == "InvalidAction"
			if isServed(row.status) && unknown {
				t.Errorf("%s %s is marked %q, but sesame answers %s", api, name, row.status, code)
			}
			if isUnserved(row.status) && !unknown {
				t.Errorf("%s %s is marked %q, but sesame answers it (%q): update docs/api.md", api, name, row.status, code)
			}
		}
	}
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// callOperation calls one operation through the SDK client, with every
// string member of its input set to a placeholder (so the URI's labels are
// filled) and the SDK's own validation of required members off, and
// returns the error code sesame answered ("" for success). Any answer but
// UnknownOperationException / InvalidAction means sesame serves it.
func callOperation(t *testing.T, client any, m reflect.Method) string {
	t.Helper()
	in := reflect.New(m.Type.In(2).Elem())
	for i := range in.Elem().NumField() {
		f := in.Elem().Field(i)
		if f.CanSet() && f.Type() == reflect.TypeOf((*string)(nil)) {
			p := "placeholder"
			f.Set(reflect.ValueOf(&p))
		}
	}
	noValidation := func(stack *middleware.Stack) error {
		// Operations without required members have no such step.
		_, _ = stack.Initialize.Remove("OperationInputValidation")
		return nil
	}
	var opt reflect.Value
	switch client.(type) {
	case *sesv2.Client:
		opt = reflect.ValueOf(func(o *sesv2.Options) { o.APIOptions = append(o.APIOptions, noValidation) })
	case *ses.Client:
		opt = reflect.ValueOf(func(o *ses.Options) { o.APIOptions = append(o.APIOptions, noValidation) })
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	out := m.Func.Call([]reflect.Value{reflect.ValueOf(client), reflect.ValueOf(ctx), in, opt})
	err, _ := out[1].Interface().(error)
	if err == nil {
		return ""
	}
	code := errCode(err)
	if code == "" {
		t.Errorf("%s: not an API error: %v", m.Name, err)
	}
	return code
}

// rawQuery sends a signed v1 request and returns the status and body,
// whatever they are.
func (e *acctEnv) rawQuery(t *testing.T, form url.Values) (int, string) {
	t.Helper()
	body := form.Encode()
	req, err := http.NewRequest(http.MethodPost, e.url+"/", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded; charset=utf-8")
	sum := sha256.Sum256([]byte(body))
	if err := v4.NewSigner().SignHTTP(context.Background(), e.creds, req, hex.EncodeToString(sum[:]), "ses", e.region, time.Now()); err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}
