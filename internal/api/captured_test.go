package api

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"sesame/internal/store"
)

const multipartMsg = "From: Sender <sender@example.com>\r\n" +
	"To: a@example.net\r\n" +
	"Cc: b@example.net\r\n" +
	"Subject: =?UTF-8?Q?Gr=C3=BC=C3=9Fe?=\r\n" +
	"MIME-Version: 1.0\r\n" +
	"Content-Type: multipart/alternative; boundary=XX\r\n" +
	"\r\n" +
	"--XX\r\n" +
	"Content-Type: text/plain; charset=utf-8\r\n" +
	"Content-Transfer-Encoding: quoted-printable\r\n" +
	"\r\n" +
	"Hallo W=C3=B6rld\r\n" +
	"--XX\r\n" +
	"Content-Type: text/html; charset=iso-8859-1\r\n" +
	"\r\n" +
	"<p>W\xf6rld</p>\r\n" +
	"--XX--\r\n"

func TestCapturedInLocalStackShape(t *testing.T) {
	t.Parallel()
	st, err := store.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	ctx := context.Background()
	when := time.Date(2026, 11, 23, 10, 0, 0, 123e6, time.UTC)
	err = st.AddCaptured(ctx, []store.Captured{
		{ID: "m1", AccountID: "111122223333", Region: "eu-west-1", MailFrom: "sender@example.com",
			Recipients: []string{"a@example.net", "b@example.net", "hidden@example.net"}, Raw: []byte(multipartMsg),
			Received: when, Outcome: "delivered"},
		{ID: "m2", AccountID: "111122223333", Region: "eu-west-1", MailFrom: "other@example.com",
			Recipients: []string{"bounce@simulator.amazonses.com"}, Raw: []byte("Subject: plain\r\n\r\nbody\r\n"),
			Received: when.Add(time.Second), Outcome: "bounce@simulator.amazonses.com=bounce"},
	})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(New(Config{Store: st, Regions: []string{"eu-west-1"}}).Handler())
	defer srv.Close()

	get := func(query string) []capturedMessage {
		t.Helper()
		resp, err := http.Get(srv.URL + "/_aws/ses" + query)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var body struct{ Messages []capturedMessage }
		if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
			t.Fatal(err)
		}
		return body.Messages
	}
	all := get("")
	if len(all) != 2 {
		t.Fatalf("got %d messages, want 2", len(all))
	}
	m := all[0]
	if m.ID != "m1" || m.Region != "eu-west-1" || m.Source != "sender@example.com" || m.Subject != "Grüße" ||
		m.Timestamp != "2026-11-23T10:00:00.123Z" {
		t.Errorf("message fields: %+v", m)
	}
	if m.Body.TextPart == nil || *m.Body.TextPart != "Hallo Wörld" {
		t.Errorf("text part = %q", deref(m.Body.TextPart))
	}
	if m.Body.HTMLPart == nil || *m.Body.HTMLPart != "<p>Wörld</p>" {
		t.Errorf("html part = %q", deref(m.Body.HTMLPart))
	}
	d := m.Destination
	if len(d.ToAddresses) != 1 || d.ToAddresses[0] != "a@example.net" || len(d.CcAddresses) != 1 ||
		len(d.BccAddresses) != 1 || d.BccAddresses[0] != "hidden@example.net" {
		t.Errorf("destination = %+v", d)
	}
	// JSON carries text: RawData is the message as UTF-8 (LocalStack does the same).
	if all[1].RawData != "Subject: plain\r\n\r\nbody\r\n" {
		t.Errorf("RawData = %q", all[1].RawData)
	}
	if all[1].Outcomes["bounce@simulator.amazonses.com"] != "bounce" {
		t.Errorf("outcomes = %v", all[1].Outcomes)
	}
	if got := get("?id=m2"); len(got) != 1 || got[0].ID != "m2" {
		t.Errorf("?id=m2 gave %d messages", len(got))
	}
	if got := get("?email=other@example.com"); len(got) != 1 || got[0].ID != "m2" {
		t.Errorf("?email= gave %d messages", len(got))
	}

	req, _ := http.NewRequest("DELETE", srv.URL+"/_aws/ses?id=m1", nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNoContent {
		t.Errorf("DELETE status %d, want 204", resp.StatusCode)
	}
	if got := get(""); len(got) != 1 || got[0].ID != "m2" {
		t.Errorf("after DELETE ?id=m1: %d messages", len(got))
	}
}

func deref(p *string) string {
	if p == nil {
		return "<nil>"
	}
	return *p
}
