package admin

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"reflect"
	"regexp"
	"strings"
	"testing"
	"time"

	"sesame/internal/awsauth"
	"sesame/internal/store"
)

var regions = []string{"us-east-1", "eu-west-1"}

// fixture is a store with n accounts; ids[i] is the i-th account.
type fixture struct {
	st  *store.Store
	ids []string
}

func newFixture(t *testing.T, accounts int) *fixture {
	t.Helper()
	st, err := store.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	f := &fixture{st: st}
	for range accounts {
		acct, _, err := st.CreateAccount(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		f.ids = append(f.ids, acct.ID)
	}
	return f
}

// run runs an admin command line; "$0", "$1" stand for the fixture's
// account ids.
func (f *fixture) run(args ...string) (string, error) {
	var expanded []string
	for _, a := range args {
		for i, id := range f.ids {
			a = strings.ReplaceAll(a, fmt.Sprintf("$%d", i), id)
		}
		expanded = append(expanded, a)
	}
	var out bytes.Buffer
	err := Run(context.Background(), f.st, regions, expanded, &out)
	return out.String(), err
}

func decode(t *testing.T, s string) any {
	t.Helper()
	var v any
	if err := json.Unmarshal([]byte(s), &v); err != nil {
		t.Fatalf("output is not JSON: %v\n%s", err, s)
	}
	return v
}

func TestRun(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		accounts int
		args     []string
		want     map[string]any // fields of the JSON object printed
		wantLen  int            // length of the JSON array printed, if want is nil
		wantErr  string
	}{
		{name: "verify address, only account, default region", accounts: 1,
			args: []string{"identity", "verify", "Alice@Example.com"},
			want: map[string]any{"identity": "Alice@Example.com", "type": "EMAIL_ADDRESS",
				"verification_status": "Success", "region": "us-east-1", "account_id": "$0"}},
		{name: "verify domain, flags after the identity", accounts: 2,
			args: []string{"identity", "verify", "Example.COM", "--region", "eu-west-1", "--account", "$1"},
			want: map[string]any{"identity": "example.com", "type": "DOMAIN", "region": "eu-west-1", "account_id": "$1"}},
		{name: "verify bad domain", accounts: 1,
			args: []string{"identity", "verify", "exa mple.com"}, wantErr: "not a domain"},
		{name: "verify bad address", accounts: 1,
			args: []string{"identity", "verify", "@example.com"}, wantErr: "not an email address"},
		{name: "verify without identity", accounts: 1,
			args: []string{"identity", "verify"}, wantErr: "want one IDENTITY"},
		{name: "unknown region", accounts: 1,
			args: []string{"identity", "list", "--region", "ap-south-1"}, wantErr: `unknown region "ap-south-1"`},
		{name: "unknown account", accounts: 1,
			args: []string{"identity", "list", "--account", "999999999999"}, wantErr: "no account 999999999999"},
		{name: "account needed among several", accounts: 2,
			args: []string{"key", "create"}, wantErr: "--account is required"},
		{name: "no account yet", accounts: 0,
			args: []string{"key", "create"}, wantErr: "account create"},
		{name: "identity list empty", accounts: 1,
			args: []string{"identity", "list"}, wantLen: 0},
		{name: "account list", accounts: 2,
			args: []string{"account", "list"}, wantLen: 2},
		{name: "account set production unlimited paused", accounts: 1,
			args: []string{"account", "set", "--production", "--max-24h-send", "-1", "--sending-enabled=false", "--max-send-rate", "14"},
			want: map[string]any{"production_access_enabled": true, "max_24hour_send": -1.0, "sending_enabled": false,
				"max_send_rate": 14.0, "region": "us-east-1", "account_id": "$0"}},
		{name: "account set nothing prints defaults", accounts: 1,
			args: []string{"account", "set", "--region", "eu-west-1"},
			want: map[string]any{"production_access_enabled": false, "max_24hour_send": 200.0, "max_send_rate": 1.0, "sending_enabled": true}},
		{name: "account set contradiction", accounts: 1,
			args: []string{"account", "set", "--production", "--sandbox"}, wantErr: "contradict"},
		{name: "account set bad rate", accounts: 1,
			args: []string{"account", "set", "--max-send-rate", "0"}, wantErr: "--max-send-rate"},
		{name: "account set bad quota", accounts: 1,
			args: []string{"account", "set", "--max-24h-send", "-5"}, wantErr: "--max-24h-send"},
		{name: "account set not a number", accounts: 1,
			args: []string{"account", "set", "--max-send-rate", "fast"}, wantErr: "want a number"},
		{name: "unknown flag", accounts: 1,
			args: []string{"account", "set", "--turbo"}, wantErr: "flag provided but not defined"},
		{name: "stray argument", accounts: 1,
			args: []string{"account", "list", "extra"}, wantErr: `unexpected argument "extra"`},
		{name: "unknown command", args: []string{"account", "frobnicate"}, wantErr: "identity verify"},
		{name: "no subcommand", args: []string{"identity"}, wantErr: "needs a subcommand"},
		{name: "nothing", args: nil, wantErr: "no command"},
		{name: "delete absent identity", accounts: 1,
			args: []string{"identity", "delete", "nobody@example.com"}, wantErr: "no identity nobody@example.com"},
		{name: "deactivate unknown key", accounts: 1,
			args: []string{"key", "deactivate", "--key", "AKIAAAAAAAAAAAAAAAAA"}, wantErr: "no access key"},
		{name: "deactivate without key", accounts: 1,
			args: []string{"key", "deactivate"}, wantErr: "--key is required"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := newFixture(t, tt.accounts)
			out, err := f.run(tt.args...)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v; want one containing %q", err, tt.wantErr)
				}
				if out != "" {
					t.Errorf("printed %q on error", out)
				}
				return
			}
			if err != nil {
				t.Fatalf("err = %v", err)
			}
			v := decode(t, out)
			if tt.want == nil {
				arr, ok := v.([]any)
				if !ok || len(arr) != tt.wantLen {
					t.Fatalf("output %s; want an array of %d", out, tt.wantLen)
				}
				return
			}
			obj, ok := v.(map[string]any)
			if !ok {
				t.Fatalf("output %s; want an object", out)
			}
			for k, want := range tt.want {
				if s, ok := want.(string); ok && strings.HasPrefix(s, "$") {
					want = f.ids[s[1]-'0']
				}
				if !reflect.DeepEqual(obj[k], want) {
					t.Errorf("%s = %#v; want %#v", k, obj[k], want)
				}
			}
		})
	}
}

func TestAccountCreatePrintsWorkingCredentials(t *testing.T) {
	t.Parallel()
	f := newFixture(t, 0)
	out, err := f.run("account", "create")
	if err != nil {
		t.Fatal(err)
	}
	var got newKey
	if err := json.Unmarshal([]byte(out), &got); err != nil {
		t.Fatal(err)
	}
	if !regexp.MustCompile(`^[0-9]{12}$`).MatchString(got.AccountID) || !strings.HasPrefix(got.AccessKeyID, "AKIA") || len(got.Secret) != 40 {
		t.Errorf("account create = %+v", got)
	}
	key, err := f.st.AccessKey(context.Background(), got.AccessKeyID)
	if err != nil || key.Secret != got.Secret || key.AccountID != got.AccountID {
		t.Fatalf("stored key = %+v, %v; want the printed one", key, err)
	}
	if len(got.SMTPPasswords) != len(regions) {
		t.Errorf("smtp_passwords = %v; want one per region %v", got.SMTPPasswords, regions)
	}
	for _, r := range regions {
		if !awsauth.CheckSMTPPassword(got.Secret, r, got.SMTPPasswords[r]) {
			t.Errorf("smtp_passwords[%s] = %q does not check", r, got.SMTPPasswords[r])
		}
	}
}

func TestChangesReachTheStore(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	f := newFixture(t, 1)
	acct := f.ids[0]
	must := func(args ...string) string {
		t.Helper()
		out, err := f.run(args...)
		if err != nil {
			t.Fatalf("%v: %v", args, err)
		}
		return out
	}

	must("account", "set", "--region", "eu-west-1", "--production")
	if set, _ := f.st.AccountSettings(ctx, acct, "eu-west-1"); !set.Production {
		t.Error("--production did not reach the store")
	}
	if set, _ := f.st.AccountSettings(ctx, acct, "us-east-1"); set.Production {
		t.Error("--production in eu-west-1 changed us-east-1")
	}
	// A later set keeps what it does not name.
	must("account", "set", "--region", "eu-west-1", "--max-send-rate", "20")
	if set, _ := f.st.AccountSettings(ctx, acct, "eu-west-1"); !set.Production || set.MaxSendRate != 20 {
		t.Errorf("settings after two sets = %+v", set)
	}
	must("account", "set", "--region", "eu-west-1", "--sandbox")
	if set, _ := f.st.AccountSettings(ctx, acct, "eu-west-1"); set.Production {
		t.Error("--sandbox did not reach the store")
	}

	must("identity", "verify", "--region", "eu-west-1", "example.org")
	if id, err := f.st.Identity(ctx, acct, "eu-west-1", "EXAMPLE.org"); err != nil || id.Status != store.StatusSuccess {
		t.Errorf("verified identity = %+v, %v", id, err)
	}
	if out := must("identity", "list", "--region", "eu-west-1"); !strings.Contains(out, `"example.org"`) {
		t.Errorf("identity list = %s", out)
	}
	must("identity", "delete", "--region", "eu-west-1", "Example.Org")
	if ids, _ := f.st.Identities(ctx, acct, "eu-west-1"); len(ids) != 0 {
		t.Errorf("after delete identities = %+v", ids)
	}

	var nk newKey
	if err := json.Unmarshal([]byte(must("key", "create", "--account", acct)), &nk); err != nil {
		t.Fatal(err)
	}
	must("key", "deactivate", "--key", nk.AccessKeyID)
	if k, _ := f.st.AccessKey(ctx, nk.AccessKeyID); k.Active {
		t.Error("key deactivate left the key active")
	}
	var keys []map[string]any
	if err := json.Unmarshal([]byte(must("key", "list")), &keys); err != nil {
		t.Fatal(err)
	}
	if len(keys) != 2 || keys[1]["active"] != false {
		t.Errorf("key list = %v; want 2 keys, the new one inactive", keys)
	}
	for _, k := range keys {
		if _, ok := k["secret_access_key"]; ok {
			t.Error("key list shows a secret")
		}
	}

	var show struct {
		AccountID  string                  `json:"account_id"`
		AccessKeys []map[string]any        `json:"access_keys"`
		Settings   []store.AccountSettings `json:"settings"`
	}
	if err := json.Unmarshal([]byte(must("account", "show")), &show); err != nil {
		t.Fatal(err)
	}
	if show.AccountID != acct || len(show.AccessKeys) != 2 || len(show.Settings) != 2 ||
		show.Settings[0].Region != "us-east-1" || show.Settings[1].MaxSendRate != 20 {
		t.Errorf("account show = %+v", show)
	}
}

func TestHelp(t *testing.T) {
	t.Parallel()
	f := newFixture(t, 0)
	for _, args := range [][]string{{"help"}, {"--help"}, {"account", "set", "-h"}} {
		out, err := f.run(args...)
		if err != nil || out != Usage() {
			t.Errorf("%v: out %q, err %v; want the usage", args, out, err)
		}
	}
	for _, cmd := range []string{"account create", "account list", "account show", "account set",
		"key create", "identity verify", "identity list", "identity delete"} {
		if !strings.Contains(Usage(), cmd) {
			t.Errorf("Usage() lacks %q", cmd)
		}
	}
}

func TestBounceAndComplaintLists(t *testing.T) {
	t.Parallel()
	f := newFixture(t, 1)
	ctx := context.Background()
	at := time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)
	for i, rcpt := range []string{"a@example.net", "b@example.net"} {
		if err := f.st.RecordOutcomes(ctx, store.Outcomes{Bounces: []store.Bounce{{AccountID: f.ids[0], Region: "us-east-1",
			MessageID: fmt.Sprintf("m%d", i), Recipient: rcpt, Type: "Permanent", SubType: "NoEmail", Status: "5.1.1",
			Diagnostic: "smtp; 550 5.1.1 no such user", FeedbackID: "fb", Created: at}}}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := f.st.AddComplaint(ctx, store.Complaint{AccountID: f.ids[0], Region: "us-east-1", MessageID: "m0",
		Recipient: "a@example.net", FeedbackType: "abuse", UserAgent: "FBL", Created: at}); err != nil {
		t.Fatal(err)
	}
	out, err := f.run("bounce", "list", "--message", "m1")
	if err != nil {
		t.Fatal(err)
	}
	bs := decode(t, out).([]any)
	if len(bs) != 1 {
		t.Fatalf("bounce list --message m1: %s", out)
	}
	b := bs[0].(map[string]any)
	if b["emailAddress"] != "b@example.net" || b["bounceSubType"] != "NoEmail" || b["diagnosticCode"] != "smtp; 550 5.1.1 no such user" ||
		b["timestamp"] != "2026-11-23T12:00:00Z" {
		t.Errorf("bounce = %v", b)
	}
	if out, _ := f.run("bounce", "list", "--limit", "1"); len(decode(t, out).([]any)) != 1 {
		t.Errorf("--limit 1: %s", out)
	}
	out, err = f.run("complaint", "list")
	if err != nil {
		t.Fatal(err)
	}
	cs := decode(t, out).([]any)
	if len(cs) != 1 || cs[0].(map[string]any)["complaintFeedbackType"] != "abuse" || cs[0].(map[string]any)["arrivalDate"] != nil {
		t.Errorf("complaint list: %s", out)
	}
	if out, _ := f.run("complaint", "list", "--region", "eu-west-1"); len(decode(t, out).([]any)) != 0 {
		t.Errorf("another region: %s", out)
	}
}
