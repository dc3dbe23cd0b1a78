package store

import (
	"context"
	"database/sql"
	"errors"
	"path/filepath"
	"reflect"
	"testing"
	"time"
)

func TestResourceTags(t *testing.T) {
	t.Parallel()
	s := openTest(t, t.TempDir())
	ctx := context.Background()
	if err := s.CreateTemplate(ctx, Template{AccountID: "a", Region: "r", Name: "T"}, 10); err != nil {
		t.Fatal(err)
	}
	tpl := Resource{AccountID: "a", Region: "r", Type: ResourceTemplate, Name: "T"}
	if err := s.TagResource(ctx, tpl, []Tag{{"b", "1"}, {"a", "2"}}, 3); err != nil {
		t.Fatal(err)
	}
	if err := s.TagResource(ctx, tpl, []Tag{{"c", ""}, {"b", "new"}}, 3); err != nil {
		t.Fatal(err)
	}
	want := []Tag{{"b", "new"}, {"a", "2"}, {"c", ""}} // the order added; an update keeps its place
	if got, err := s.ResourceTags(ctx, tpl); err != nil || !reflect.DeepEqual(got, want) {
		t.Fatalf("tags = %v, %v; want %v", got, err, want)
	}
	if err := s.TagResource(ctx, tpl, []Tag{{"d", "x"}, {"a", "y"}}, 3); !errors.Is(err, ErrLimit) {
		t.Fatalf("a fourth tag with max 3: %v; want ErrLimit", err)
	}
	if got, _ := s.ResourceTags(ctx, tpl); !reflect.DeepEqual(got, want) {
		t.Errorf("a refused TagResource changed the tags: %v", got)
	}
	if err := s.UntagResource(ctx, tpl, []string{"a", "nope"}); err != nil {
		t.Fatal(err)
	}
	if got, _ := s.ResourceTags(ctx, tpl); !reflect.DeepEqual(got, []Tag{{"b", "new"}, {"c", ""}}) {
		t.Errorf("after untag a: %v", got)
	}
	// Another region, another account and another type of the same name are
	// other resources.
	for _, r := range []Resource{
		{AccountID: "a", Region: "other", Type: ResourceTemplate, Name: "T"},
		{AccountID: "b", Region: "r", Type: ResourceTemplate, Name: "T"},
		{AccountID: "a", Region: "r", Type: ResourceConfigurationSet, Name: "T"},
		{AccountID: "a", Region: "r", Type: "contact-list", Name: "T"},
	} {
		if _, err := s.ResourceTags(ctx, r); !errors.Is(err, ErrNotFound) {
			t.Errorf("ResourceTags(%s) = %v; want ErrNotFound", r, err)
		}
		if err := s.TagResource(ctx, r, []Tag{{"k", "v"}}, 50); !errors.Is(err, ErrNotFound) {
			t.Errorf("TagResource(%s) = %v; want ErrNotFound", r, err)
		}
		if err := s.UntagResource(ctx, r, []string{"k"}); !errors.Is(err, ErrNotFound) {
			t.Errorf("UntagResource(%s) = %v; want ErrNotFound", r, err)
		}
	}
	// Deleting the template deletes its tags: made again, it has none.
	if err := s.DeleteTemplate(ctx, "a", "r", "T"); err != nil {
		t.Fatal(err)
	}
	if err := s.CreateTemplate(ctx, Template{AccountID: "a", Region: "r", Name: "T"}, 10); err != nil {
		t.Fatal(err)
	}
	if got, err := s.ResourceTags(ctx, tpl); err != nil || len(got) != 0 || got == nil {
		t.Errorf("tags of a re-made template = %#v, %v; want []", got, err)
	}
}

func TestIdentityTagsKeyedAsTheIdentity(t *testing.T) {
	t.Parallel()
	s := openTest(t, t.TempDir())
	ctx := context.Background()
	if err := s.PutIdentity(ctx, Identity{AccountID: "a", Region: "r", Name: "example.com", Type: Domain, Status: StatusPending}); err != nil {
		t.Fatal(err)
	}
	// Domains are case-insensitive: any spelling names the same identity.
	if err := s.SetResourceTags(ctx, Resource{AccountID: "a", Region: "r", Type: ResourceIdentity, Name: "Example.COM"}, []Tag{{"k", "v"}}); err != nil {
		t.Fatal(err)
	}
	id := Resource{AccountID: "a", Region: "r", Type: ResourceIdentity, Name: "example.com"}
	if got, err := s.ResourceTags(ctx, id); err != nil || !reflect.DeepEqual(got, []Tag{{"k", "v"}}) {
		t.Fatalf("tags = %v, %v", got, err)
	}
	if err := s.SetResourceTags(ctx, id, []Tag{{"x", "y"}}); err != nil {
		t.Fatal(err)
	}
	if got, _ := s.ResourceTags(ctx, id); !reflect.DeepEqual(got, []Tag{{"x", "y"}}) {
		t.Errorf("SetResourceTags did not replace: %v", got)
	}
	if err := s.DeleteIdentity(ctx, "a", "r", "EXAMPLE.com"); err != nil {
		t.Fatal(err)
	}
	var n int
	if err := s.reads.QueryRowContext(ctx, `SELECT COUNT(*) FROM resource_tags`).Scan(&n); err != nil || n != 0 {
		t.Errorf("tag rows after deleting the identity = %d, %v; want 0", n, err)
	}
}

func TestConfigurationSetTagsDeletedWithTheSet(t *testing.T) {
	t.Parallel()
	s := openTest(t, t.TempDir())
	ctx := context.Background()
	cs := ConfigurationSet{AccountID: "a", Region: "r", Name: "cs", Tags: []Tag{{"k", "v"}}}
	if err := s.CreateConfigurationSet(ctx, cs, 0); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteConfigurationSet(ctx, "a", "r", "cs"); err != nil {
		t.Fatal(err)
	}
	cs.Tags = nil
	if err := s.CreateConfigurationSet(ctx, cs, 0); err != nil {
		t.Fatal(err)
	}
	got, err := s.ConfigurationSet(ctx, "a", "r", "cs")
	if err != nil || len(got.Tags) != 0 {
		t.Errorf("tags of a re-made set = %v, %v; want none", got.Tags, err)
	}
}

// Before 0016 a configuration set's tags were JSON in its row: the step
// moves them to resource_tags, in order.
func TestMigration0016MovesConfigurationSetTags(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db, err := sql.Open("sqlite", dsn(filepath.Join(t.TempDir(), "m.db"), false))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	db.SetMaxOpenConns(1)
	ms, err := loadMigrations()
	if err != nil {
		t.Fatal(err)
	}
	var before, step []migration
	for _, m := range ms {
		switch {
		case m.version < 16:
			before = append(before, m)
		case m.version == 16:
			step = append(step, m)
		}
	}
	if err := applyMigrations(ctx, db, before, false); err != nil {
		t.Fatal(err)
	}
	if _, err := db.ExecContext(ctx, `INSERT INTO configuration_sets (account_id, region, name, created_at, options, tags) VALUES
		('a', 'r', 'one', ?, '{}', '[{"Key":"z","Value":"1"},{"Key":"a","Value":""}]'),
		('a', 'r', 'none', ?, '{}', '[]')`, toDB(time.Now()), toDB(time.Now())); err != nil {
		t.Fatal(err)
	}
	if err := applyMigrations(ctx, db, step, false); err != nil {
		t.Fatal(err)
	}
	got, err := resourceTags(ctx, db, Resource{AccountID: "a", Region: "r", Type: ResourceConfigurationSet, Name: "one"})
	if err != nil || !reflect.DeepEqual(got, []Tag{{"z", "1"}, {"a", ""}}) {
		t.Errorf("moved tags = %v, %v", got, err)
	}
	var n int
	db.QueryRowContext(ctx, `SELECT COUNT(*) FROM configuration_sets WHERE tags <> '[]'`).Scan(&n)
	if n != 0 {
		t.Errorf("%d sets still have JSON tags", n)
	}
}
