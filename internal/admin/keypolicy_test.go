package admin

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const sendOnlyPolicy = `{
  "Version": "2012-10-17",
  "Statement": [{"Effect": "Allow", "Action": ["ses:SendEmail", "ses:SendRawEmail"], "Resource": "*"}]
}`

func writeFile(t *testing.T, body string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "policy.json")
	if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestKeyPolicy: key create --policy keeps a validated policy with the
// new key; key list says which keys have one; key policy shows, replaces
// and clears it; a policy the grammar refuses is refused with its reason
// and makes no key.
func TestKeyPolicy(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	f := newFixture(t, 1)
	acct := f.ids[0]

	out, err := f.run("key", "create", "--name", "mailer", "--policy", writeFile(t, sendOnlyPolicy))
	if err != nil {
		t.Fatal(err)
	}
	var nk newKey
	if err := json.Unmarshal([]byte(out), &nk); err != nil {
		t.Fatal(err)
	}
	if nk.Secret == "" || nk.Name != "mailer" || nk.UserARN != "arn:aws:iam::"+acct+":user/mailer" ||
		!strings.Contains(string(nk.Policy), `"ses:SendRawEmail"`) {
		t.Errorf("key create --policy = %s", out)
	}
	if k, err := f.st.AccessKey(ctx, nk.AccessKeyID); err != nil || k.Policy != sendOnlyPolicy || k.Name != "mailer" {
		t.Errorf("stored key = %+v, %v; want the policy as given", k, err)
	}

	var keys []map[string]any
	out, _ = f.run("key", "list")
	if err := json.Unmarshal([]byte(out), &keys); err != nil {
		t.Fatal(err)
	}
	if len(keys) != 2 || keys[0]["has_policy"] != false || keys[1]["has_policy"] != true || keys[1]["name"] != "mailer" {
		t.Errorf("key list = %s; want the first key without a policy, mailer with one", out)
	}

	for _, tc := range []struct {
		name, doc, errHas string
	}{
		{"a Principal", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":"*","Action":"ses:SendEmail","Resource":"*"}]}`, "names no Principal"},
		{"not JSON", `{"Version":`, "Policy is not valid JSON"},
		{"another service", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"*"}]}`, "not an SES action"},
	} {
		before, _ := f.st.AccessKeys(ctx, acct)
		_, err := f.run("key", "create", "--policy", writeFile(t, tc.doc))
		if err == nil || !strings.Contains(err.Error(), tc.errHas) {
			t.Errorf("%s: key create err = %v; want %q", tc.name, err, tc.errHas)
		}
		if after, _ := f.st.AccessKeys(ctx, acct); len(after) != len(before) {
			t.Errorf("%s: a refused policy made a key", tc.name)
		}
	}
	if _, err := f.run("key", "create", "--policy", filepath.Join(t.TempDir(), "absent.json")); err == nil {
		t.Error("key create with a missing policy file succeeded")
	}
	if _, err := f.run("key", "create", "--name", "no spaces"); err == nil || !strings.Contains(err.Error(), "IAM's user names") {
		t.Errorf("key create --name with a space: %v", err)
	}

	// Show, replace, clear.
	var shown struct {
		UserARN string          `json:"user_arn"`
		Policy  json.RawMessage `json:"policy"`
	}
	out, err = f.run("key", "policy", "--key", nk.AccessKeyID)
	if err != nil || json.Unmarshal([]byte(out), &shown) != nil || !strings.Contains(string(shown.Policy), "ses:SendEmail") {
		t.Errorf("key policy (show) = %s, %v", out, err)
	}
	all := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"ses:*","Resource":"*"}]}`
	if _, err := f.run("key", "policy", "--key", nk.AccessKeyID, writeFile(t, all)); err != nil {
		t.Fatal(err)
	}
	if k, _ := f.st.AccessKey(ctx, nk.AccessKeyID); k.Policy != all {
		t.Errorf("after key policy FILE: %q", k.Policy)
	}
	if _, err := f.run("key", "policy", "--key", nk.AccessKeyID, writeFile(t, `{"Statement":[]}`)); err == nil {
		t.Error("key policy accepted a policy without a statement")
	}
	if k, _ := f.st.AccessKey(ctx, nk.AccessKeyID); k.Policy != all {
		t.Errorf("a refused replacement changed the policy to %q", k.Policy)
	}
	out, err = f.run("key", "policy", "--key", nk.AccessKeyID, "--clear")
	if err != nil || !strings.Contains(out, `"policy": null`) {
		t.Errorf("key policy --clear = %s, %v", out, err)
	}
	if k, _ := f.st.AccessKey(ctx, nk.AccessKeyID); k.Policy != "" {
		t.Errorf("after --clear: %q", k.Policy)
	}

	for _, args := range [][]string{
		{"key", "policy"},
		{"key", "policy", "--key", nk.AccessKeyID, "--clear", "x.json"},
		{"key", "policy", "--key", nk.AccessKeyID, "a.json", "b.json"},
	} {
		if _, err := f.run(args...); err == nil || !strings.Contains(err.Error(), "Usage: sesame admin key policy") {
			t.Errorf("%v: err = %v; want a usage error", args, err)
		}
	}
	if _, err := f.run("key", "policy", "--key", "AKIAAAAAAAAAAAAAAAAA"); err == nil || !strings.Contains(err.Error(), "no access key") {
		t.Errorf("key policy of an unknown key: %v", err)
	}
}
