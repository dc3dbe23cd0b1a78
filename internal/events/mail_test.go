package events

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

func TestNewMailHeaders(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		header []byte
		want   []Header
	}{
		{"names as written, values trimmed",
			hdr("Message-Id:  <a@b>  ", "X-Ses-Configuration-Set: cs", "MIME-Version: 1.0"),
			[]Header{{"Message-Id", "<a@b>"}, {"X-Ses-Configuration-Set", "cs"}, {"MIME-Version", "1.0"}}},
		{"unfolding drops only the CRLF",
			hdr("Authentication-Results: mx.google.com;", "       dkim=pass", "X-A: a", "\tb"),
			[]Header{{"Authentication-Results", "mx.google.com;       dkim=pass"}, {"X-A", "a\tb"}}},
		{"encoded words decoded",
			hdr("Subject: =?UTF-8?Q?Invitaci=C3=B3n?= a =?ISO-8859-1?Q?envi=E1?=", "From: =?UTF-8?B?SsO2cmc=?= <j@example.com>"),
			[]Header{{"Subject", "Invitación a enviá"}, {"From", "Jörg <j@example.com>"}}},
		{"unknown charset left as written",
			hdr("Subject: =?x-unknown?Q?abc?="),
			[]Header{{"Subject", "=?x-unknown?Q?abc?="}}},
		{"bare LF lines and a body after the blank line",
			[]byte("From: a@example.com\nTo: b@example.com\n\nSubject: not a header\n"),
			[]Header{{"From", "a@example.com"}, {"To", "b@example.com"}}},
		{"a malformed line ends the section",
			[]byte("From: a@example.com\r\nthis is not a field\r\nTo: b@example.com\r\n\r\n"),
			[]Header{{"From", "a@example.com"}}},
		{"empty section", []byte{}, []Header{}},
		{"empty value", hdr("Subject:"), []Header{{"Subject", ""}}},
	}
	for _, tt := range tests {
		m := NewMail(MailInput{MessageID: "id", Header: tt.header})
		if !reflect.DeepEqual(m.Headers, tt.want) {
			t.Errorf("%s: headers\n got %q\nwant %q", tt.name, m.Headers, tt.want)
		}
		if m.HeadersTruncated {
			t.Errorf("%s: truncated", tt.name)
		}
	}
}

func TestNewMailCommonHeaders(t *testing.T) {
	t.Parallel()
	str := func(s string) *string { return &s }
	tests := []struct {
		name   string
		header []byte
		want   CommonHeaders
		origID string
	}{
		{"every common header",
			hdr("Return-Path: <bounce@example.com>", `From: "John Doe" <john@example.com>`,
				"Sender: s@example.com", "Reply-To: r@example.com, Other <o@example.com>",
				"Date: Tue, 4 Feb 2020 17:45:39 -0300", "To: a@example.com", "Cc: c@example.com",
				"Bcc: d@example.com", "Message-ID: <x@example.com>", "Subject: Hi"),
			CommonHeaders{ReturnPath: "bounce@example.com", From: []string{"John Doe <john@example.com>"},
				Sender: []string{"s@example.com"}, ReplyTo: []string{"r@example.com, Other <o@example.com>"},
				Date: "Tue, 4 Feb 2020 17:45:39 -0300", To: []string{"a@example.com"}, Cc: []string{"c@example.com"},
				Bcc: []string{"d@example.com"}, MessageID: "ses-id", Subject: str("Hi")},
			"<x@example.com>"},
		{"one entry per field; first Subject, Date, Message-ID win",
			hdr("To: a@example.com", "Subject: one", "To: b@example.com, c@example.com", "Subject: two",
				"Message-Id: <1@x>", "Message-ID: <2@x>", "Date: d1", "Date: d2"),
			CommonHeaders{To: []string{"a@example.com", "b@example.com, c@example.com"}, Date: "d1",
				MessageID: "ses-id", Subject: str("one")},
			"<1@x>"},
		{"display names quoted only when they must be",
			hdr(`To: "testing@reply.example.com" <testing@reply.example.com>, "Doe, John" <j@example.com>, `+
				`"Dr. Who" <w@example.com>, "say \"hi\"" <h@example.com>, Plain Name <p@example.com>`,
				"Cc: =?UTF-8?Q?J=C3=B6rg?= <j@example.com>"),
			CommonHeaders{To: []string{`"testing@reply.example.com" <testing@reply.example.com>, "Doe, John" <j@example.com>, ` +
				`"Dr. Who" <w@example.com>, "say \"hi\"" <h@example.com>, Plain Name <p@example.com>`},
				Cc: []string{`"Jörg" <j@example.com>`}, MessageID: "ses-id"},
			""},
		{"unparseable address fields kept as written",
			hdr("To: undisclosed-recipients:;", "From: not an address", "Return-Path: <>"),
			CommonHeaders{To: []string{"undisclosed-recipients:;"}, From: []string{"not an address"}, MessageID: "ses-id"},
			""},
		{"empty Subject is present", hdr("Subject: "),
			CommonHeaders{MessageID: "ses-id", Subject: str("")}, ""},
		{"encoded subject decoded", hdr("Subject: =?ISO-8859-1?Q?ELECTR=D3NICA_N=BA_449270?="),
			CommonHeaders{MessageID: "ses-id", Subject: str("ELECTRÓNICA Nº 449270")}, ""},
	}
	for _, tt := range tests {
		m := NewMail(MailInput{MessageID: "ses-id", Header: tt.header})
		if m.CommonHeaders == nil {
			t.Errorf("%s: no commonHeaders", tt.name)
			continue
		}
		if !reflect.DeepEqual(*m.CommonHeaders, tt.want) {
			g, _ := json.Marshal(m.CommonHeaders)
			w, _ := json.Marshal(tt.want)
			t.Errorf("%s:\n got %s\nwant %s", tt.name, g, w)
		}
		if m.OriginalMessageID != tt.origID {
			t.Errorf("%s: OriginalMessageID %q, want %q", tt.name, m.OriginalMessageID, tt.origID)
		}
	}
}

// TestNewMailTruncates: past 10 KB of header fields SES lists the whole
// fields that fit and says so; commonHeaders still see every field.
func TestNewMailTruncates(t *testing.T) {
	t.Parallel()
	lines := []string{"From: a@example.com"}
	for i := 0; i < 40; i++ {
		lines = append(lines, "X-Filler: "+strings.Repeat("x", 290)) // 300 bytes a field with CRLF
	}
	lines = append(lines, "Subject: after the cut", "Message-ID: <late@example.com>")
	m := NewMail(MailInput{MessageID: "id", Header: hdr(lines...)})
	if !m.HeadersTruncated {
		t.Fatal("not truncated")
	}
	size := 0
	for _, h := range m.Headers {
		size += len(h.Name) + 2 + len(h.Value) + 2
	}
	if size > maxHeaderBytes || size < maxHeaderBytes-300 {
		t.Errorf("listed %d bytes of fields in %d headers", size, len(m.Headers))
	}
	if last := m.Headers[len(m.Headers)-1]; last.Name != "X-Filler" || len(last.Value) != 290 {
		t.Errorf("last listed field %q (%d bytes): a field was cut", last.Name, len(last.Value))
	}
	if c := m.CommonHeaders; c.Subject == nil || *c.Subject != "after the cut" {
		t.Errorf("subject past the cut lost: %+v", c)
	}
	if m.OriginalMessageID != "<late@example.com>" {
		t.Errorf("Message-ID past the cut lost: %q", m.OriginalMessageID)
	}

	small := NewMail(MailInput{MessageID: "id", Header: hdr(lines[:30]...)})
	if small.HeadersTruncated || len(small.Headers) != 30 {
		t.Errorf("under 10 KB: truncated=%v, %d headers", small.HeadersTruncated, len(small.Headers))
	}
}

func TestNewMailInputs(t *testing.T) {
	t.Parallel()
	tags := map[string][]string{"ses:configuration-set": {"cs"}}
	m := NewMail(MailInput{Timestamp: time.Date(2026, 1, 2, 3, 4, 5, 6_000_000, time.UTC), MessageID: "id", Tags: tags})
	tags["late"] = []string{"x"}
	if _, ok := m.Tags["late"]; ok {
		t.Error("the mail shares the caller's tag map")
	}
	doc := toAny(t, m)
	if d, ok := doc["destination"].([]any); !ok || len(d) != 0 {
		t.Errorf("destination %#v, want []", doc["destination"])
	}
	for _, k := range []string{"headers", "commonHeaders", "sourceArn", "sourceIp", "callerIdentity"} {
		if _, ok := doc[k]; ok {
			t.Errorf("%s written without a value", k)
		}
	}
	if doc["timestamp"] != "2026-01-02T03:04:05.006Z" || doc["headersTruncated"] != false {
		t.Errorf("timestamp %v, headersTruncated %v", doc["timestamp"], doc["headersTruncated"])
	}
}

// FuzzNewMail: no header section makes NewMail panic, and what it builds
// always marshals, keeps to 10 KB of listed fields and has valid UTF-8 once
// written as JSON.
func FuzzNewMail(f *testing.F) {
	f.Add(hdr(`From: "John Doe" <john@example.com>`, `To: "Jane Doe" <jane@example.com>, b@example.com`,
		"Subject: =?UTF-8?Q?Hall=C3=B6?=", "Content-Type: multipart/mixed; ", ` boundary="x"`))
	f.Add([]byte("Return-Path: <>\r\nTo: undisclosed-recipients:;\r\nCc: =?bogus?B?!!?= <a@b>\r\n\r\n"))
	f.Add([]byte(" leading space\r\n\r\n"))
	f.Add([]byte("A\xff: \xfe\r\nSubject: =?UTF-8?B?/w==?=\r\n"))
	f.Add([]byte("From: a@b\r\n\tfolded\r\n"))
	f.Fuzz(func(t *testing.T, header []byte) {
		m := NewMail(MailInput{MessageID: "id", Header: header, Destination: []string{"a@example.com"}})
		b, err := json.Marshal(m)
		if err != nil {
			t.Fatalf("marshal: %v", err)
		}
		if !utf8.Valid(b) {
			t.Fatal("invalid UTF-8 in JSON")
		}
		if m.Headers == nil || m.CommonHeaders == nil || m.CommonHeaders.MessageID != "id" {
			t.Fatalf("headers %v, commonHeaders %+v", m.Headers, m.CommonHeaders)
		}
		if len(m.Headers) > len(header) {
			t.Fatalf("%d headers from %d bytes", len(m.Headers), len(header))
		}
		r := Record{EventType: TypeDelivery, Mail: m, Delivery: &Delivery{}}
		if _, ok := r.Notification(true); !ok {
			t.Fatal("no notification")
		}
	})
}

var benchHeader = hdr(
	"Return-Path: <0100018a645bffe4@amazonses.example.com>",
	"DKIM-Signature: v=1; a=rsa-sha256; q=dns/txt; c=relaxed/simple; s=224i4yxa5dv7c2xz3womw6peuasteono;",
	"\td=amazonses.com; t=1693900865; h=From:To:Subject:MIME-Version:Content-Type:Message-ID:Date:Feedback-ID;",
	"\tbh=47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=; b=abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789",
	"\tabcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789abcdefghijklmnopqrstuvwxyzABCDEFG=",
	`From: "Example Shop" <orders@example.com>`,
	`To: "Jane Doe" <jane@example.net>`,
	"Cc: team@example.com",
	"Reply-To: support@example.com",
	"Subject: =?UTF-8?Q?Your_order_=E2=84=96_12345_has_shipped?=",
	"MIME-Version: 1.0",
	"Content-Type: multipart/alternative; ",
	` boundary="----=_Part_4225662_872001774.1693900865514"`,
	"Message-ID: <0100018a645bffe4-d214d5e4-1dc3-4bfc-91e2-63e4bc82aa98-000000@email.amazonses.com>",
	"Date: Tue, 5 Sep 2023 08:01:05 +0000",
	"X-SES-CONFIGURATION-SET: shop",
	"X-SES-MESSAGE-TAGS: campaign=shipping, tier=gold",
	"Feedback-ID: 1.us-east-1.abcdefghijklmnopqrstuvwxyz0123456789ABCD=:AmazonSES",
)

// BenchmarkNewMailMarshal is the cost of one Delivery record: parse the
// header section, build the record, write its JSON.
func BenchmarkNewMailMarshal(b *testing.B) {
	in := MailInput{
		Timestamp: time.Now(), MessageID: "0100018a645bffe4-d214d5e4-1dc3-4bfc-91e2-63e4bc82aa98-000000",
		Source: "orders@example.com", SourceArn: docArn, SendingAccountID: docAccount,
		Destination: []string{"jane@example.net", "team@example.com"}, Header: benchHeader,
		Tags: map[string][]string{"ses:operation": {"SendRawEmail"}, "ses:configuration-set": {"shop"},
			"ses:source-ip": {"192.0.2.1"}, "ses:from-domain": {"example.com"}, "ses:caller-identity": {"shop-app"},
			"ses:outgoing-ip": {"192.0.2.2"}, "campaign": {"shipping"}, "tier": {"gold"}},
	}
	d := &Delivery{Timestamp: NewTime(time.Now()), ProcessingTimeMillis: 894,
		Recipients: []string{"jane@example.net"}, SMTPResponse: "250 2.0.0 OK 1693900867 - gsmtp",
		ReportingMTA: "mx.sesame.example.com"}
	b.ReportAllocs()
	for b.Loop() {
		r, err := NewRecord(NewMail(in), d)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := json.Marshal(r); err != nil {
			b.Fatal(err)
		}
	}
}
