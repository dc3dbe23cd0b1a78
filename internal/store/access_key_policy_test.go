package store

import (
	"context"
	"errors"
	"testing"
)

// A key's name and policy are stored with it, survive a reopen, are listed,
// and the policy can be replaced and removed.
func TestAccessKeyPolicyPersists(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	ctx := context.Background()
	s := openTest(t, dir)
	acct, plain, err := s.CreateAccount(ctx)
	if err != nil {
		t.Fatal(err)
	}
	const doc = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"ses:SendEmail","Resource":"*"}]}`
	scoped, err := s.CreateScopedAccessKey(ctx, acct.ID, "mailer", doc)
	if err != nil {
		t.Fatal(err)
	}
	if scoped.Policy != doc || scoped.Name != "mailer" || !scoped.Active {
		t.Errorf("CreateScopedAccessKey = %+v; want active, named mailer, with the policy", scoped)
	}
	if want := "arn:aws:iam::" + acct.ID + ":user/mailer"; scoped.UserARN() != want {
		t.Errorf("UserARN = %q; want %q", scoped.UserARN(), want)
	}
	if want := "arn:aws:iam::" + acct.ID + ":user/" + plain.ID; plain.UserARN() != want {
		t.Errorf("unnamed UserARN = %q; want %q", plain.UserARN(), want)
	}
	if _, err := s.CreateScopedAccessKey(ctx, "000000000000", "", doc); !errors.Is(err, ErrNotFound) {
		t.Errorf("CreateScopedAccessKey(unknown account) err = %v; want ErrNotFound", err)
	}
	s.Close()

	s = openTest(t, dir)
	got, err := s.AccessKey(ctx, scoped.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.Policy != doc || got.Name != "mailer" || got.Secret != scoped.Secret {
		t.Errorf("after reopen AccessKey = %+v; want %+v", got, scoped)
	}
	keys, err := s.AccessKeys(ctx, acct.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(keys) != 2 || keys[0].Policy != "" || keys[1].Policy != doc {
		t.Errorf("AccessKeys = %+v; want the plain key, then the scoped one", keys)
	}

	const doc2 = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"ses:*","Resource":"*"}]}`
	if err := s.SetAccessKeyPolicy(ctx, scoped.ID, doc2); err != nil {
		t.Fatal(err)
	}
	if got, _ := s.AccessKey(ctx, scoped.ID); got.Policy != doc2 {
		t.Errorf("after SetAccessKeyPolicy policy = %q; want %q", got.Policy, doc2)
	}
	if err := s.SetAccessKeyPolicy(ctx, scoped.ID, ""); err != nil {
		t.Fatal(err)
	}
	if got, _ := s.AccessKey(ctx, scoped.ID); got.Policy != "" || got.Name != "mailer" {
		t.Errorf("after clearing: %+v; want no policy, the name kept", got)
	}
	if err := s.SetAccessKeyPolicy(ctx, "AKIAAAAAAAAAAAAAAAAA", doc); !errors.Is(err, ErrNotFound) {
		t.Errorf("SetAccessKeyPolicy(unknown) err = %v; want ErrNotFound", err)
	}
}
