package e2e

import (
	"context"
	"encoding/json"
	"net/url"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sesv2"

	"sesame/internal/pgtest"
	"sesame/internal/seserr"
	"sesame/internal/testenv"
)

// An embedded installation moves to PostgreSQL with `sesame admin
// migrate`: refused while its server runs, then copied, then a server on
// the PostgreSQL database answers the old credentials with the old state.
func TestMigrateToPostgres(t *testing.T) {
	onceForBothStores(t) // SQLite → PostgreSQL, whichever pass
	s := testenv.Start(t, testenv.Options{})
	ctx := context.Background()
	if _, err := s.SESv2Client(t).CreateEmailIdentity(ctx, &sesv2.CreateEmailIdentityInput{
		EmailIdentity: aws.String("moved.example")}); err != nil {
		t.Fatal(err)
	}
	target := pgtest.NewDatabase(t, 6)

	if out, err := s.AdminRaw("migrate", "--to", target); err == nil || !strings.Contains(string(out), "in use") {
		t.Fatalf("migrate while the server runs: %v\n%s", err, out)
	}
	s.Stop()
	var res struct {
		Tables map[string]int64 `json:"tables"`
		Rows   int64            `json:"rows"`
		To     string           `json:"to"`
	}
	s.Admin(&res, "migrate", "--to", target)
	if res.Tables["accounts"] != 1 || res.Tables["access_keys"] != 1 || res.Tables["identities"] != 1 || res.Rows < 3 {
		t.Errorf("migrate copied %+v", res)
	}
	if u, err := url.Parse(target); err != nil {
		t.Fatal(err)
	} else if pw, ok := u.User.Password(); ok && strings.Contains(res.To, pw) {
		t.Errorf("the output shows the password: %s", res.To)
	}
	// The target now holds the account: a second run is refused.
	out, err := s.AdminRaw("migrate", "--to", target)
	if err == nil || !strings.Contains(string(out), seserr.MigrateTargetNotEmpty.Error()) {
		t.Errorf("second migrate: %v\n%s", err, out)
	}

	node := testenv.Start(t, testenv.Options{StoreURL: target, SecretKeyFile: filepath.Join(s.Dir, "secret.key"), HasAccount: true})
	node.KeyID, node.Secret, node.Account = s.KeyID, s.Secret, s.Account
	got, err := node.SESv2Client(t).GetEmailIdentity(ctx, &sesv2.GetEmailIdentityInput{EmailIdentity: aws.String("moved.example")})
	if err != nil {
		t.Fatalf("GetEmailIdentity on the PostgreSQL-backed server with the old credentials: %v", err)
	}
	if got.IdentityType != "DOMAIN" {
		b, _ := json.Marshal(got)
		t.Errorf("identity after the move: %s", b)
	}
}
