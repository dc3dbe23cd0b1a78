package feedback

import (
	"bytes"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

// sesMessageID is the Message-ID sesame gave the returned message in every
// sample: what the caller needs to find the send a report is about.
const sesMessageID = "0100019a6b2c3d4e-5f6a7b8c-1d2e-4f3a-9b8c-7d6e5f4a3b2c-000000@us-east-1.mail.example.com"

// wantHeader pins the returned header without copying it whole into the
// test: its first and last lines and how many lines it has.
type wantHeader struct {
	first, last string
	lines       int
}

func TestParseSamples(t *testing.T) {
	t.Parallel()
	tests := []struct {
		file      string
		want      Report // OriginalHeader and Complaint are checked apart
		complaint *Complaint
		header    wantHeader
	}{
		{
			file: "postfix.eml",
			want: Report{
				Kind:         KindBounce,
				ReportingMTA: "dns; mx.example.net",
				Recipients: []RecipientStatus{{
					Recipient:         "nobody@example.net",
					OriginalRecipient: "nobody@example.net",
					Action:            "failed",
					Status:            "5.1.1",
					Diagnostic:        "smtp; 550 5.1.1 <nobody@example.net>: Recipient address rejected: User unknown in local recipient table",
					RemoteMTA:         "dns; mailstore.example.net",
				}},
				OriginalMessageID: sesMessageID,
				Subject:           "Undelivered Mail Returned to Sender",
				From:              "MAILER-DAEMON@mx.example.net",
			},
			header: wantHeader{
				first: "Return-Path: <0100019a6b2c3d4e-5f6a7b8c-1d2e-4f3a-9b8c-7d6e5f4a3b2c-000000@bounces.mail.example.com>\r\n",
				last:  "Feedback-ID: 1.us-east-1.abcdefghijklmnop=:AmazonSES\r\n",
				lines: 17,
			},
		},
		{
			file: "gmail.eml",
			want: Report{
				Kind:         KindBounce,
				ReportingMTA: "dns; googlemail.com",
				Recipients: []RecipientStatus{{
					Recipient:  "full@example.org",
					Action:     "failed",
					Status:     "5.2.2",
					Diagnostic: "smtp; 552-5.2.2 The recipient's inbox is out of storage space. 552 5.2.2 Please direct the recipient to https://support.google.example/mail/?p=OverQuotaPerm",
					RemoteMTA:  "dns; mx.example.org. (203.0.113.7, the server for the domain example.org.)",
				}, {
					Recipient:  "slow@example.org",
					Action:     "delayed",
					Status:     "4.2.2",
					Diagnostic: "smtp; 452 4.2.2 Mailbox temporarily over quota",
					RemoteMTA:  "dns; mx.example.org. (203.0.113.7, the server for the domain example.org.)",
				}},
				OriginalMessageID: sesMessageID,
				Subject:           "Delivery Status Notification (Failure)",
				From:              "mailer-daemon@googlemail.com",
			},
			header: wantHeader{
				first: "DKIM-Signature: v=1; a=rsa-sha256; q=dns/txt; c=relaxed/simple;\r\n",
				last:  "Feedback-ID: 1.us-east-1.abcdefghijklmnop=:AmazonSES\r\n",
				lines: 15,
			},
		},
		{
			// LF line ends, a quoted mixed-case report-type, trailing
			// whitespace, a whitespace-only separator, no blank line before
			// the next boundary, and a folded Message-ID.
			file: "exchange.eml",
			want: Report{
				Kind:         KindBounce,
				ReportingMTA: "dns;BN8PR12MB3456.namprd12.prod.outlook.example",
				Recipients: []RecipientStatus{{
					Recipient:         "former.employee@contoso.example",
					OriginalRecipient: "former.employee@contoso.example",
					Action:            "failed",
					Status:            "5.1.10",
					Diagnostic:        "smtp;550 5.1.10 RESOLVER.ADR.RecipientNotFound; Recipient former.employee@contoso.example not found by SMTP address lookup",
				}},
				OriginalMessageID: sesMessageID,
				Subject:           "Undeliverable: Your invoice for November",
				From:              "postmaster@contoso.example",
			},
			header: wantHeader{
				first: "Received: from a1-23.smtp-out.us-east-1.mail.example.com (198.51.100.23) by\n",
				last:  "Return-Path: 0100019a6b2c3d4e-5f6a7b8c-1d2e-4f3a-9b8c-7d6e5f4a3b2c-000000@bounces.mail.example.com\n",
				lines: 13,
			},
		},
		{
			// A multipart/report inside a multipart/mixed, its
			// delivery-status part base64 with no per-message block and only
			// an Original-Recipient, the returned header quoted-printable.
			file: "base64.eml",
			want: Report{
				Kind: KindBounce,
				Recipients: []RecipientStatus{{
					Recipient:         "j.smith@fabrikam.example",
					OriginalRecipient: "j.smith@fabrikam.example",
					Action:            "failed",
					Status:            "5.7.1",
					Diagnostic:        "smtp; 554 5.7.1 Message rejected by content policy",
					RemoteMTA:         "dns; [203.0.113.40]",
				}},
				OriginalMessageID: sesMessageID,
				Subject:           "Non-delivery report: Überweisung",
				From:              "postmaster@gw.fabrikam.example",
			},
			header: wantHeader{
				first: "From: Billing <billing@shop.example.com>\r\n",
				last:  "X-Long: " + strings.Repeat("a", 71) + strings.Repeat("b", 10) + "\r\n",
				lines: 6,
			},
		},
		{
			file: "arf.eml",
			want: Report{
				Kind:              KindComplaint,
				ReportingMTA:      "dns; fbl.mail.example.org",
				OriginalMessageID: sesMessageID,
				Subject:           "FW: Your order 1044 has shipped",
				From:              "abusedesk@mail.example.org",
			},
			complaint: &Complaint{
				FeedbackType: "abuse",
				UserAgent:    "ExampleFBL/2.1",
				ArrivalDate:  time.Date(2026, 11, 23, 16, 30, 59, 0, time.UTC),
				Recipients:   []string{"user@mail.example.org", "second.user@mail.example.org"},
				OriginalTo:   []string{"user@mail.example.org"},
				SourceIP:     "198.51.100.23",
			},
			header: wantHeader{
				first: "Received: from a1-23.smtp-out.us-east-1.mail.example.com\r\n",
				last:  "Date: Mon, 23 Nov 2026 16:30:58 +0000\r\n",
				lines: 11,
			},
		},
		{
			// No Original-Rcpt-To: the returned To is only a hint. The
			// draft-ARF Received-Date stands for Arrival-Date.
			file: "arf-redacted.eml",
			want: Report{
				Kind:              KindComplaint,
				OriginalMessageID: sesMessageID,
				Subject:           "Complaint about message from 198.51.100.23",
				From:              "fbl@feedback.example.net",
			},
			complaint: &Complaint{
				FeedbackType: "abuse",
				UserAgent:    "Example-Mail-Feedback/2.0",
				ArrivalDate:  time.Date(2026, 11, 23, 18, 4, 59, 0, time.UTC),
				OriginalTo:   []string{"redacted@feedback.example.net", "redacted2@feedback.example.net"},
				SourceIP:     "198.51.100.23",
			},
			header: wantHeader{
				first: "Received: from a1-23.smtp-out.us-east-1.mail.example.com (EHLO a1-23.smtp-out.us-east-1.mail.example.com)\r\n",
				last:  "Content-Type: text/html; charset=UTF-8\r\n",
				lines: 10,
			},
		},
		{
			file: "autoreply.eml",
			want: Report{
				Kind:    KindOther,
				Subject: "Abwesenheitsnotiz: Ihre Rechnung für November",
				From:    "erika@example.de",
			},
		},
		{
			// The caller forwards these as they are: no guessing.
			file: "nonstandard.eml",
			want: Report{
				Kind:    KindOther,
				Subject: "Returned mail: see transcript for details",
				From:    "MAILER-DAEMON@legacy.example.net",
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			t.Parallel()
			got := parseFile(t, tt.file)
			checkHeader(t, got.OriginalHeader, tt.header)
			checkComplaint(t, got.Complaint, tt.complaint)
			got.OriginalHeader, got.Complaint = nil, nil
			if !reflect.DeepEqual(*got, tt.want) {
				t.Errorf("Parse(%s) =\n%+v\nwant\n%+v", tt.file, *got, tt.want)
			}
		})
	}
}

func TestParseGarbage(t *testing.T) {
	t.Parallel()
	garbage, err := os.ReadFile(filepath.Join("testdata", "garbage.eml"))
	if err != nil {
		t.Fatal(err)
	}
	for name, in := range map[string][]byte{
		"binary":                 garbage,
		"empty":                  nil,
		"only a blank line":      []byte("\r\n"),
		"header line w/o colon":  []byte("this is not a header\r\n\r\nbody\r\n"),
		"starts with whitespace": []byte(" Subject: x\r\n\r\n"),
	} {
		if rep, err := Parse(bytes.NewReader(in)); err == nil {
			t.Errorf("Parse(%s) = %+v, want an error", name, rep)
		}
	}
}

// TestParseDegraded feeds reports that are readable but wrong in one way
// each: Parse keeps what it can read.
func TestParseDegraded(t *testing.T) {
	t.Parallel()
	const dsn = "Reporting-MTA: dns; mx.example.net\r\n\r\n" +
		"Final-Recipient: rfc822; a@example.net\r\nAction: failed\r\nStatus: 5.1.1\r\n"
	tests := []struct {
		name      string
		msg       string
		kind      Kind
		rcpts     int
		messageID string
	}{{
		name: "no report-type: the delivery-status part decides",
		msg:  report("", part("message/delivery-status", dsn)),
		kind: KindBounce, rcpts: 1,
	}, {
		name: "report-type global-delivery-status (RFC 6533)",
		msg:  report("global-delivery-status", part("message/global-delivery-status", dsn)),
		kind: KindBounce, rcpts: 1,
	}, {
		name: "a read receipt (MDN) is not a bounce",
		msg: report("disposition-notification", part("message/disposition-notification",
			"Final-Recipient: rfc822; a@example.net\r\nDisposition: manual-action/MDN-sent-manually; displayed\r\n")),
		kind: KindOther,
	}, {
		name: "a bounce without its machine-readable part",
		msg:  report("delivery-status", part("text/plain", dsn)),
		kind: KindBounce,
	}, {
		name: "a complaint without its machine-readable part",
		msg:  report("feedback-report", part("text/plain", "Feedback-Type: abuse\r\n")),
		kind: KindComplaint,
	}, {
		name: "a bounce report read by a complaint's rules keeps its kind",
		msg:  report("delivery-status", part("message/feedback-report", "Feedback-Type: abuse\r\n"), part("message/delivery-status", dsn)),
		kind: KindBounce, rcpts: 1,
	}, {
		name: "a second delivery-status part is not read",
		msg:  report("delivery-status", part("message/delivery-status", dsn), part("message/delivery-status", dsn)),
		kind: KindBounce, rcpts: 1,
	}, {
		name: "the report stops early (truncated)",
		msg:  report("delivery-status", part("message/delivery-status", dsn))[:200],
		kind: KindBounce,
	}, {
		name: "an unknown transfer encoding on the report part",
		msg:  report("delivery-status", "Content-Type: message/delivery-status\r\nContent-Transfer-Encoding: x-uuencode\r\n\r\n"+dsn),
		kind: KindBounce, rcpts: 1,
	}, {
		name: "an unparseable returned Message-ID is trimmed, not dropped",
		msg:  report("delivery-status", part("message/delivery-status", dsn), part("text/rfc822-headers", "Message-ID: <not an id>\r\n")),
		kind: KindBounce, rcpts: 1, messageID: "not an id",
	}, {
		name: "the first returned header wins",
		msg: report("delivery-status", part("message/delivery-status", dsn),
			part("text/rfc822-headers", "Message-ID: <first@example.com>\r\n"),
			part("message/rfc822", "Message-ID: <second@example.com>\r\n\r\nbody\r\n")),
		kind: KindBounce, rcpts: 1, messageID: "first@example.com",
	}, {
		// Found by FuzzParse: go-message reads the raw type, which is not
		// "multipart/" in lower case, so it offers no parts.
		name: "a Content-Type that names multipart/report but does not parse",
		msg:  "From: a@example.net\r\nContent-Type: Multipart/Report; =bad\r\n\r\n--b\r\n\r\n--b--\r\n",
		kind: KindOther,
	}, {
		name: "the same inside a multipart/mixed",
		msg:  "From: a@example.net\r\nContent-Type: multipart/mixed; boundary=m\r\n\r\n--m\r\nContent-Type: Multipart/Report; =bad\r\n\r\n--m--\r\n",
		kind: KindOther,
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := Parse(strings.NewReader(tt.msg))
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			if got.Kind != tt.kind || len(got.Recipients) != tt.rcpts || got.OriginalMessageID != tt.messageID {
				t.Errorf("Parse = %+v, want kind %s, %d recipients, Message-ID %q", got, tt.kind, tt.rcpts, tt.messageID)
			}
			if (got.Complaint != nil) != (got.Kind == KindComplaint) {
				t.Errorf("Complaint = %v for kind %s", got.Complaint, got.Kind)
			}
		})
	}
}

// TestFieldBlocks pins the tolerance of the RFC 3464 §2.1 block reader.
func TestFieldBlocks(t *testing.T) {
	t.Parallel()
	in := "  orphan continuation\n" +
		"Reporting-MTA: dns; mx.example.net   \n" +
		"this line is not a field\n" +
		"Arrival-Date: Mon, 23 Nov 2026 16:02:10 +0000\n" +
		" \t \n" + // a whitespace-only separator
		"\n\n" + // and extra blank lines
		"Final-Recipient : rfc822; a@example.net\r\n" + // a space before the colon
		"Diagnostic-Code: smtp; 550 first\r\n" +
		"\t  second\r\n" +
		"Status: 5.1.1" // no final line end
	blocks := fieldBlocks(strings.NewReader(in))
	if len(blocks) != 2 {
		t.Fatalf("got %d blocks, want 2", len(blocks))
	}
	for _, c := range []struct {
		block     int
		key, want string
	}{
		{0, "Reporting-MTA", "dns; mx.example.net"},
		{0, "Arrival-Date", "Mon, 23 Nov 2026 16:02:10 +0000"},
		{1, "Final-Recipient", "rfc822; a@example.net"},
		{1, "Diagnostic-Code", "smtp; 550 first second"},
		{1, "Status", "5.1.1"},
	} {
		if got := blocks[c.block].Get(c.key); got != c.want {
			t.Errorf("block %d %s = %q, want %q", c.block, c.key, got, c.want)
		}
	}
	if n := blocks[0].Len(); n != 2 {
		t.Errorf("block 0 has %d fields, want 2", n)
	}
}

// TestParseBoundsInput checks that Parse stops reading at maxMessageBytes
// even when the sender never stops.
func TestParseBoundsInput(t *testing.T) {
	t.Parallel()
	head := "From: x@example.net\r\nContent-Type: multipart/report; report-type=delivery-status; boundary=b\r\n\r\n" +
		"--b\r\nContent-Type: text/plain\r\n\r\n"
	endless := &countingReader{r: io.MultiReader(strings.NewReader(head), endlessLines{})}
	rep, err := Parse(endless)
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	if rep.Kind != KindBounce {
		t.Errorf("Kind = %s, want %s", rep.Kind, KindBounce)
	}
	if endless.n > maxMessageBytes {
		t.Errorf("read %d bytes, more than %d", endless.n, maxMessageBytes)
	}
}

// FuzzParse checks that no input panics Parse and that what it returns keeps
// its promises. The seed corpus (the samples) runs with every `go test`.
func FuzzParse(f *testing.F) {
	files, err := filepath.Glob(filepath.Join("testdata", "*.eml"))
	if err != nil {
		f.Fatal(err)
	}
	for _, file := range files {
		b, err := os.ReadFile(file)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, msg []byte) {
		rep, err := Parse(bytes.NewReader(msg))
		if (rep == nil) == (err == nil) {
			t.Fatalf("Parse = %v, %v: want exactly one of a report and an error", rep, err)
		}
		if err != nil {
			return
		}
		switch rep.Kind {
		case KindBounce, KindComplaint, KindOther:
		default:
			t.Fatalf("Kind = %q", rep.Kind)
		}
		if (rep.Complaint != nil) != (rep.Kind == KindComplaint) {
			t.Fatalf("Complaint = %v for kind %s", rep.Complaint, rep.Kind)
		}
		if len(rep.Recipients) > 0 && rep.Kind != KindBounce {
			t.Fatalf("%d recipient statuses for kind %s", len(rep.Recipients), rep.Kind)
		}
	})
}

func parseFile(t *testing.T, name string) *Report {
	t.Helper()
	f, err := os.Open(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rep, err := Parse(f)
	if err != nil {
		t.Fatalf("Parse(%s): %v", name, err)
	}
	return rep
}

func checkHeader(t *testing.T, got []byte, want wantHeader) {
	t.Helper()
	if want == (wantHeader{}) {
		if got != nil {
			t.Errorf("OriginalHeader = %q, want none", got)
		}
		return
	}
	lines := strings.SplitAfter(string(got), "\n")
	if lines[len(lines)-1] == "" {
		lines = lines[:len(lines)-1]
	}
	if len(lines) != want.lines || lines[0] != want.first || lines[len(lines)-1] != want.last {
		t.Errorf("OriginalHeader = %q,\nwant %d lines from %q to %q", got, want.lines, want.first, want.last)
	}
}

func checkComplaint(t *testing.T, got, want *Complaint) {
	t.Helper()
	if want == nil || got == nil {
		if got != want {
			t.Errorf("Complaint = %+v, want %+v", got, want)
		}
		return
	}
	// Arrival dates keep the reporter's zone: compare instants.
	if !got.ArrivalDate.Equal(want.ArrivalDate) {
		t.Errorf("ArrivalDate = %v, want %v", got.ArrivalDate, want.ArrivalDate)
	}
	g, w := *got, *want
	g.ArrivalDate, w.ArrivalDate = time.Time{}, time.Time{}
	if !reflect.DeepEqual(g, w) {
		t.Errorf("Complaint = %+v, want %+v", g, w)
	}
}

// report builds a minimal multipart/report: a human-readable part, then
// parts.
func report(reportType string, parts ...string) string {
	ct := "multipart/report; boundary=b"
	if reportType != "" {
		ct += "; report-type=" + reportType
	}
	msg := "From: MAILER-DAEMON@mx.example.net\r\nSubject: report\r\nContent-Type: " + ct + "\r\n\r\n" +
		"--b\r\nContent-Type: text/plain\r\n\r\nA report.\r\n"
	for _, p := range parts {
		msg += "--b\r\n" + p + "\r\n"
	}
	return msg + "--b--\r\n"
}

// part is a body part of the given type.
func part(contentType, body string) string {
	return "Content-Type: " + contentType + "\r\n\r\n" + body
}

type countingReader struct {
	r io.Reader
	n int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

// endlessLines is a body that never ends.
type endlessLines struct{}

func (endlessLines) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = 'x'
		if i%78 == 77 {
			p[i] = '\n'
		}
	}
	return len(p), nil
}

func TestDate(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		in   string
		want time.Time
	}{
		{"Mon, 23 Nov 2026 08:12:01 -0800 (PST)", time.Date(2026, 11, 23, 16, 12, 1, 0, time.UTC)},
		{"Thu, 8 Mar 2005 14:00:00 EDT", time.Date(2005, 3, 8, 18, 0, 0, 0, time.UTC)}, // RFC 5965 §5's example
		{"23 Nov 2026 16:02 GMT", time.Date(2026, 11, 23, 16, 2, 0, 0, time.UTC)},
		{"yesterday", time.Time{}},
		{"", time.Time{}},
	} {
		if got := date(c.in); !got.Equal(c.want) {
			t.Errorf("date(%q) = %v, want %v", c.in, got, c.want)
		}
	}
}
