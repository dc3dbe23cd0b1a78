package store

import (
	"context"
	"errors"
	"path/filepath"
	"testing"
	"time"
)

func TestTemplates(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st, err := OpenWith(ctx, testOptions(t, filepath.Join(t.TempDir(), "data")))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	s := func(v string) *string { return &v }
	created := time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)
	tm := Template{AccountID: "111122223333", Region: "us-east-1", Name: "welcome", Subject: s("Hi {{name}}"), HTML: s(""), Created: created}
	if err := st.CreateTemplate(ctx, tm, 2); err != nil {
		t.Fatal(err)
	}
	if err := st.CreateTemplate(ctx, tm, 2); !errors.Is(err, ErrExists) {
		t.Fatalf("second create: %v, want ErrExists", err)
	}
	// Another region is another namespace.
	other := tm
	other.Region = "eu-west-1"
	if err := st.CreateTemplate(ctx, other, 1); err != nil {
		t.Fatal(err)
	}
	got, err := st.Template(ctx, tm.AccountID, tm.Region, "welcome")
	if err != nil {
		t.Fatal(err)
	}
	if got.Subject == nil || *got.Subject != "Hi {{name}}" || got.Text != nil || got.HTML == nil || *got.HTML != "" || !got.Created.Equal(created) {
		t.Errorf("Template = %+v", got)
	}
	tm.Text, tm.Subject = s("text"), nil
	if err := st.UpdateTemplate(ctx, tm); err != nil {
		t.Fatal(err)
	}
	got, _ = st.Template(ctx, tm.AccountID, tm.Region, "welcome")
	if got.Subject != nil || got.Text == nil || *got.Text != "text" || !got.Created.Equal(created) {
		t.Errorf("after update: %+v", got)
	}
	if err := st.CreateTemplate(ctx, Template{AccountID: tm.AccountID, Region: tm.Region, Name: "a"}, 2); err != nil {
		t.Fatal(err)
	}
	if err := st.CreateTemplate(ctx, Template{AccountID: tm.AccountID, Region: tm.Region, Name: "b"}, 2); !errors.Is(err, ErrLimitExceeded) {
		t.Fatalf("third: %v, want ErrLimitExceeded", err)
	}
	list, err := st.Templates(ctx, tm.AccountID, tm.Region, "", 10)
	if err != nil || len(list) != 2 || list[0].Name != "a" || list[1].Name != "welcome" {
		t.Fatalf("Templates = %+v, %v", list, err)
	}
	list, _ = st.Templates(ctx, tm.AccountID, tm.Region, "a", 1)
	if len(list) != 1 || list[0].Name != "welcome" {
		t.Fatalf("Templates after a = %+v", list)
	}
	if err := st.DeleteTemplate(ctx, tm.AccountID, tm.Region, "welcome"); err != nil {
		t.Fatal(err)
	}
	for _, err := range []error{
		st.DeleteTemplate(ctx, tm.AccountID, tm.Region, "welcome"),
		st.UpdateTemplate(ctx, tm),
		func() error { _, err := st.Template(ctx, tm.AccountID, tm.Region, "welcome"); return err }(),
	} {
		if !errors.Is(err, ErrNotFound) {
			t.Errorf("after delete: %v, want ErrNotFound", err)
		}
	}
}
