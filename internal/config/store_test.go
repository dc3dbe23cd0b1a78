package config

import (
	"strings"
	"testing"
)

// [store] url is empty (embedded SQLite) or a PostgreSQL URL; anything else
// stops sesame naming the key.
func TestStoreURL(t *testing.T) {
	for _, tc := range []struct {
		url string
		ok  bool
	}{
		{"", true},
		{"postgres://sesame@db.example.com:5432/sesame?sslmode=verify-full", true},
		{"postgresql://sesame:pw@10.0.0.5/sesame", true},
		{"postgres:///sesame?host=/var/run/postgresql", true},
		{"mysql://root@localhost/sesame", false},
		{"sesame.db", false},
		{"postgres://[::1", false},
	} {
		c := Default()
		if err := Parse(&c, "[store]\nurl = \""+tc.url+"\"\nsecret_key_file = \"/etc/sesame/secret.key\""); err != nil {
			t.Fatalf("Parse(%q): %v", tc.url, err)
		}
		err := c.Validate()
		if tc.ok && err != nil {
			t.Errorf("url %q: %v", tc.url, err)
		}
		if !tc.ok && (err == nil || !strings.HasPrefix(err.Error(), "store.url: ")) {
			t.Errorf("url %q: err = %v; want a store.url error", tc.url, err)
		}
		if c.Store.SecretKeyFile != "/etc/sesame/secret.key" {
			t.Errorf("secret_key_file = %q", c.Store.SecretKeyFile)
		}
	}
}
