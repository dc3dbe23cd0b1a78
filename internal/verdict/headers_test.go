package verdict

import (
	"net/netip"
	"strings"
	"testing"
)

// The Received-SPF lines are SES's own wording, as SES's inbound MX wrote
// them on stored mail (pass, fail, none, permerror observed; softfail,
// neutral and temperror are the same SPF library's texts).
func TestHeaders(t *testing.T) {
	t.Parallel()
	in := Input{IP: netip.MustParseAddr("209.85.128.51"), Helo: "mail-wm1-f51.google.com", MailFrom: "artur@vlayer.xyz"}
	tests := []struct {
		name string
		v    Verdicts
		in   Input
		want string
	}{
		{"pass, scanned", Verdicts{Spam: Fail, Virus: Pass, SPFResult: "pass", SPFDomain: "vlayer.xyz"}, in,
			"X-SES-Spam-Verdict: FAIL\r\n" +
				"X-SES-Virus-Verdict: PASS\r\n" +
				"Received-SPF: pass (spfCheck: domain of vlayer.xyz designates 209.85.128.51 as permitted sender) client-ip=209.85.128.51; envelope-from=artur@vlayer.xyz; helo=mail-wm1-f51.google.com;\r\n"},
		{"pass through an include names the include", Verdicts{Spam: Pass, Virus: Pass, SPFResult: "pass", SPFDomain: "gmail.com", SPFDecidedBy: "_spf.google.com"},
			Input{IP: netip.MustParseAddr("74.125.82.45"), Helo: "mail-wm0-f45.google.com", MailFrom: "ryanlchandler@gmail.com"},
			"X-SES-Spam-Verdict: PASS\r\n" +
				"X-SES-Virus-Verdict: PASS\r\n" +
				"Received-SPF: pass (spfCheck: domain of _spf.google.com designates 74.125.82.45 as permitted sender) client-ip=74.125.82.45; envelope-from=ryanlchandler@gmail.com; helo=mail-wm0-f45.google.com;\r\n"},
		{"fail, not scanned", Verdicts{Spam: Disabled, Virus: Disabled, SPFResult: "fail", SPFDomain: "earthlink.net"},
			Input{IP: netip.MustParseAddr("45.76.207.151"), Helo: "sms1004.com", MailFrom: "info@earthlink.net"},
			"Received-SPF: fail (spfCheck: domain of earthlink.net does not designate 45.76.207.151 as permitted sender) client-ip=45.76.207.151; envelope-from=info@earthlink.net; helo=sms1004.com;\r\n"},
		{"softfail", Verdicts{Spam: Pass, Virus: ProcessingFailed, SPFResult: "softfail", SPFDomain: "d1.example"},
			Input{IP: netip.MustParseAddr("192.0.2.2"), Helo: "d1.example", MailFrom: "jqd@d1.example"},
			"X-SES-Spam-Verdict: PASS\r\n" +
				"X-SES-Virus-Verdict: PROCESSING_FAILED\r\n" +
				"Received-SPF: softfail (spfCheck: transitioning domain of d1.example does not designate 192.0.2.2 as permitted sender) client-ip=192.0.2.2; envelope-from=jqd@d1.example; helo=d1.example;\r\n"},
		{"none", Verdicts{SPFResult: "none", SPFDomain: "fireshark.com"},
			Input{IP: netip.MustParseAddr("209.85.218.46"), Helo: "mail-oi0-f46.google.com", MailFrom: "kent@fireshark.com"},
			"Received-SPF: none (spfCheck: 209.85.218.46 is neither permitted nor denied by domain of fireshark.com) client-ip=209.85.218.46; envelope-from=kent@fireshark.com; helo=mail-oi0-f46.google.com;\r\n"},
		{"neutral", Verdicts{SPFResult: "neutral", SPFDomain: "x.test"},
			Input{IP: netip.MustParseAddr("2001:db8::1"), Helo: "h.test", MailFrom: "a@x.test"},
			"Received-SPF: neutral (spfCheck: 2001:db8::1 is neither permitted nor denied by domain of x.test) client-ip=2001:db8::1; envelope-from=a@x.test; helo=h.test;\r\n"},
		{"permerror", Verdicts{SPFResult: "permerror", SPFDomain: "ip-sentinel.com"},
			Input{IP: netip.MustParseAddr("104.47.0.53"), Helo: "mail-he1eur01lp2053.outbound.protection.outlook.com", MailFrom: "JournalError@ip-sentinel.com"},
			"Received-SPF: permerror (spfCheck: Error in processing SPF Record) client-ip=104.47.0.53; envelope-from=JournalError@ip-sentinel.com; helo=mail-he1eur01lp2053.outbound.protection.outlook.com;\r\n"},
		{"temperror, null sender, v4-mapped address", Verdicts{SPFResult: "temperror", SPFDomain: "h.test"},
			Input{IP: netip.MustParseAddr("::ffff:192.0.2.7"), Helo: "h.test"},
			"Received-SPF: temperror (spfCheck: Error in retrieving data from DNS) client-ip=192.0.2.7; envelope-from=postmaster@h.test; helo=h.test;\r\n"},
		{"a HELO cannot add fields or lines", Verdicts{SPFResult: "none", SPFDomain: "x.test"},
			Input{IP: netip.MustParseAddr("192.0.2.1"), Helo: "h.test; client-ip=6.6.6.6\r\nX-SES-Spam-Verdict: PASS", MailFrom: "a@x.test"},
			"Received-SPF: none (spfCheck: 192.0.2.1 is neither permitted nor denied by domain of x.test) client-ip=192.0.2.1; envelope-from=a@x.test; helo=h.testclient-ip=6.6.6.6X-SES-Spam-Verdict:PASS;\r\n"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if got := string(tc.v.Headers(tc.in, "mx.sesame.test")); got != tc.want {
				t.Errorf("got\n%s\nwant\n%s", got, tc.want)
			}
		})
	}
}

func TestAuthenticationResults(t *testing.T) {
	t.Parallel()
	in := Input{IP: netip.MustParseAddr("192.0.2.1"), Helo: "mail.x.test", MailFrom: "a@x.test"}
	v := Verdicts{SPF: Pass, SPFResult: "pass", SPFDomain: "x.test", DKIM: Pass, DKIMDomains: []string{"x.test"},
		DMARC: Fail, DMARCPolicy: "reject", FromDomain: "y.test"}
	want := "Authentication-Results: mx.sesame.test;\r\n" +
		" spf=pass (spfCheck: domain of x.test designates 192.0.2.1 as permitted sender) client-ip=192.0.2.1; envelope-from=a@x.test; helo=mail.x.test;\r\n" +
		" dkim=pass header.i=@x.test;\r\n" +
		" dmarc=fail header.from=y.test;\r\n"
	if got := string(v.AuthenticationResults(in, "mx.sesame.test")); got != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
}

// Whatever a client says in HELO and MAIL FROM, Headers renders exactly
// its fields, one line each.
func FuzzHeaders(f *testing.F) {
	f.Add("mail.example.com", "a@example.com", "pass", "example.com")
	f.Add("h\r\nX-Evil: 1", "\n", "fail", "x;y")
	f.Fuzz(func(t *testing.T, helo, mailFrom, result, domain string) {
		v := Verdicts{Spam: Pass, Virus: Fail, SPFResult: result, SPFDomain: domain}
		h := string(v.Headers(Input{IP: netip.MustParseAddr("192.0.2.1"), Helo: helo, MailFrom: mailFrom}, "mx.test"))
		lines := strings.Split(strings.TrimSuffix(h, "\r\n"), "\r\n")
		if len(lines) != 3 || !strings.HasPrefix(lines[0], "X-SES-Spam-Verdict: ") ||
			!strings.HasPrefix(lines[1], "X-SES-Virus-Verdict: ") || !strings.HasPrefix(lines[2], "Received-SPF: ") {
			t.Fatalf("headers %q", h)
		}
		if strings.ContainsAny(lines[2], "\r\n") {
			t.Fatalf("a line break inside Received-SPF: %q", lines[2])
		}
	})
}
