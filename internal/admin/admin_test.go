package admin

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
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
		{name: "unknown command", args: []string{"account", "frobnicate"}, wantErr: "account create"},
		{name: "no subcommand", args: []string{"identity"}, wantErr: "needs a subcommand"},
		{name: "nothing", args: nil, wantErr: "no command"},
		{name: "delete absent identity", accounts: 1,
			args: []string{"identity", "delete", "nobody@example.com"}, wantErr: "no identity nobody@example.com"},
		{name: "deactivate unknown key", accounts: 1,
			args: []string{"key", "deactivate", "--key", "AKIAAAAAAAAAAAAAAAAA"}, wantErr: "no access key"},
		{name: "delete unknown key", accounts: 1,
			args: []string{"key", "delete", "--key", "AKIAAAAAAAAAAAAAAAAA"}, wantErr: "no access key AKIAAAAAAAAAAAAAAAAA"},
		{name: "delete without key", accounts: 1,
			args: []string{"key", "delete"}, wantErr: "--key is required"},
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

// TestKeyDelete: a deleted key is gone for good; deleting the account's
// last active key is allowed (as IAM does) and noted.
func TestKeyDelete(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	f := newFixture(t, 1)
	keys, err := f.st.AccessKeys(ctx, f.ids[0])
	if err != nil || len(keys) != 1 {
		t.Fatal(keys, err)
	}
	first := keys[0].ID
	var nk newKey
	out, err := f.run("key", "create")
	if err != nil || json.Unmarshal([]byte(out), &nk) != nil {
		t.Fatal(out, err)
	}
	out, err = f.run("key", "delete", "--key", first)
	if err != nil {
		t.Fatal(err)
	}
	if got := decode(t, out).(map[string]any); got["access_key_id"] != first || got["deleted"] != true ||
		got["account_id"] != f.ids[0] || got["note"] != nil {
		t.Errorf("key delete with another key left: %s", out)
	}
	if _, err := f.st.AccessKey(ctx, first); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("deleted key: %v", err)
	}
	// The last one, inactive or not, goes too; the output says what that means.
	if _, err := f.run("key", "deactivate", "--key", nk.AccessKeyID); err != nil {
		t.Fatal(err)
	}
	out, err = f.run("key", "delete", "--key", nk.AccessKeyID)
	if err != nil {
		t.Fatal(err)
	}
	if note, _ := decode(t, out).(map[string]any)["note"].(string); !strings.Contains(note, "no active access key left") {
		t.Errorf("key delete of the last key: %s", out)
	}
	if out, _ := f.run("key", "list"); strings.TrimSpace(out) != "[]" {
		t.Errorf("key list after deleting every key: %s", out)
	}
}

// TestHelp: help at every level, from the one table, on stdout, without
// opening the store; mistakes in the command line are errors carrying the
// usage of the level they were made at.
func TestHelp(t *testing.T) {
	t.Parallel()
	f := newFixture(t, 0)
	for _, tc := range []struct {
		args      []string
		out       string // the whole help printed, or
		outHas    string // a part of it
		errHas    []string
		errHasNot string
	}{
		{args: []string{"help"}, out: Usage()},
		{args: []string{"--help"}, out: Usage()},
		{args: []string{"-h"}, out: Usage()},
		{args: []string{"key", "--help"}, out: GroupUsage("key")},
		{args: []string{"key", "-h"}, out: GroupUsage("key")},
		{args: []string{"key", "help"}, out: GroupUsage("key")},
		{args: []string{"help", "key"}, out: GroupUsage("key")},
		{args: []string{"help", "key", "create"}, out: CommandUsage("key create", nil)},
		{args: []string{"help", "backup"}, out: CommandUsage("backup", nil)},
		{args: []string{"key", "create", "--help"}, outHas: "Usage: sesame admin key create [--account ID] [--name NAME] [--policy FILE]\n"},
		{args: []string{"key", "create", "--account", "1", "-h"}, outHas: "Flags:\n  --account ID\n"},
		{args: []string{"account", "set", "-h"}, outHas: "  --max-24h-send N\n"},
		{args: []string{"queue", "retry", "--help"}, outHas: "  --all\n"},
		{args: []string{"bounce", "list", "--help"}, outHas: "(default 100)"},
		{args: nil, errHas: []string{"no command given", "account create", "queue delete"}},
		{args: []string{"key"}, errHas: []string{`"key" needs a subcommand`, "key create", "key delete"}, errHasNot: "account create"},
		{args: []string{"nosuch"}, errHas: []string{`unknown command "nosuch"`, "account create"}},
		{args: []string{"key", "nosuch"}, errHas: []string{`unknown command "key nosuch"`, "key activate"}, errHasNot: "account create"},
		{args: []string{"identity", "verify"}, errHas: []string{"want one IDENTITY", "Usage: sesame admin identity verify"}, errHasNot: "account create"},
		{args: []string{"key", "create", "--turbo"}, errHas: []string{"flag provided but not defined", "Usage: sesame admin key create"}},
		{args: []string{"backup", "/tmp/x"}, errHas: []string{"not available in this build"}},
	} {
		var out bytes.Buffer
		opened := false
		err := RunWith(context.Background(), nil, Options{OpenStore: func() (Store, error) {
			opened = true
			return f.st, nil
		}}, tc.args, &out)
		if opened && tc.errHas == nil {
			t.Errorf("%q opened the store to show help", tc.args)
		}
		switch {
		case tc.errHas != nil:
			if err == nil {
				t.Errorf("%q: no error; printed %q", tc.args, out.String())
				continue
			}
			for _, want := range tc.errHas {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("%q: error lacks %q:\n%v", tc.args, want, err)
				}
			}
			if tc.errHasNot != "" && strings.Contains(err.Error(), tc.errHasNot) {
				t.Errorf("%q: error has %q (the whole usage?):\n%v", tc.args, tc.errHasNot, err)
			}
		case err != nil:
			t.Errorf("%q: %v", tc.args, err)
		case tc.out != "" && out.String() != tc.out:
			t.Errorf("%q printed\n%s\nwant\n%s", tc.args, out.String(), tc.out)
		case !strings.Contains(out.String(), tc.outHas):
			t.Errorf("%q printed\n%s\nwant it to contain %q", tc.args, out.String(), tc.outHas)
		}
	}
}

// TestEveryCommandHasHelp: each command of the table answers --help with
// its own usage, is listed by Usage and its group, and is documented in
// docs/admin.md.
func TestEveryCommandHasHelp(t *testing.T) {
	t.Parallel()
	doc, err := os.ReadFile("../../docs/admin.md")
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range commands() {
		if !strings.Contains(Usage(), "\n  "+c.name+" ") && !strings.Contains(Usage(), "\n  "+c.name+"\n") {
			t.Errorf("Usage() lacks %q", c.name)
		}
		if g, _, ok := strings.Cut(c.name, " "); ok && !strings.Contains(GroupUsage(g), "  "+c.name) {
			t.Errorf("GroupUsage(%q) lacks %q", g, c.name)
		}
		if !strings.Contains(string(doc), c.name) {
			t.Errorf("docs/admin.md does not mention %q", c.name)
		}
		if c.run == nil {
			continue
		}
		var out bytes.Buffer
		args := append(strings.Fields(c.name), "--help")
		if err := RunWith(context.Background(), nil, Options{}, args, &out); err != nil ||
			!strings.HasPrefix(out.String(), "Usage: sesame admin "+c.name) {
			t.Errorf("%s --help: %v\n%s", c.name, err, out.String())
		}
	}
}

// TestListing pins how a command is laid out in a list.
func TestListing(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		c    command
		want string
	}{
		{command{name: "key create", synopsis: "[--account ID]", summary: "add a key"},
			"  key create [--account ID]               add a key\n"},
		{command{name: "a b", synopsis: "[--x]\n[--y Y]", summary: "one\ntwo"},
			"  a b [--x]\n      [--y Y]                             one\n" + strings.Repeat(" ", 42) + "two\n"},
		{command{name: "a b", synopsis: "[--y Y] " + strings.Repeat("z", 40), summary: "one"},
			"  a b [--y Y] " + strings.Repeat("z", 40) + "\n" + strings.Repeat(" ", 42) + "one\n"},
	} {
		if got := tc.c.listing(); got != tc.want {
			t.Errorf("listing:\n%q\nwant\n%q", got, tc.want)
		}
	}
}

// TestNoHTMLEscaping: the JSON keeps <, > and & as they are.
func TestNoHTMLEscaping(t *testing.T) {
	t.Parallel()
	f := newFixture(t, 1)
	if err := f.st.RecordOutcomes(context.Background(), store.Outcomes{Bounces: []store.Bounce{{AccountID: f.ids[0],
		Region: "us-east-1", MessageID: "m", Recipient: "b@example.net", Type: "Permanent", SubType: "General",
		Status: "5.1.1", Diagnostic: "smtp; 550 5.1.1 <b@example.net>: R&D says no", FeedbackID: "fb",
		Created: time.Now()}}}); err != nil {
		t.Fatal(err)
	}
	out, err := f.run("bounce", "list")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out, `"smtp; 550 5.1.1 <b@example.net>: R&D says no"`) {
		t.Errorf("bounce list escapes HTML:\n%s", out)
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

// The server passes a *store.Store as the Store.
var _ Store = (*store.Store)(nil)
