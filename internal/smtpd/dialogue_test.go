package smtpd

import (
	"strings"
	"testing"
	"time"

	"sesame/internal/mailmsg"
)

// Script fragments. {{open}} brings a session under TLS: EHLO and STARTTLS
// on the STARTTLS port, nothing but the greeting on the wrapper port.
const (
	greeting = `c <~ 220 localhost ESMTP SimpleEmailService-d-[A-Z0-9]{9} [A-Za-z0-9]{20}`

	ehloPlain = `
		c -> EHLO client.example
		c <- 250-localhost
		c <- 250-8BITMIME
		c <- 250-STARTTLS
		c <- 250-AUTH PLAIN LOGIN
		c <- 250 Ok`

	openStartTLS = greeting + ehloPlain + `
		c -> STARTTLS
		c <- 220 Ready to start TLS
		tls`

	ehloTLS = `
		c -> EHLO client.example
		c <- 250-localhost
		c <- 250-8BITMIME
		c <- 250-AUTH PLAIN LOGIN
		c <- 250 Ok`

	authOK = `
		c -> AUTH PLAIN AEFLSURFWEFNUExFAHNlY3JldC1wYXNz
		c <- 235 Authentication successful.`

	envelope = `
		c -> MAIL FROM:<sender@example.com>
		c <- 250 Ok
		c -> RCPT TO:<rcpt@example.net>
		c <- 250 Ok`

	sent = `c <- 250 Ok ` + testID
)

// scenario is one dialogue. Scripts with {{open}} run on both listeners;
// the others talk plain text to the STARTTLS listener.
type scenario struct {
	name   string
	tune   func(*Config)
	script string
	check  func(t *testing.T, ts *testServer) // after the dialogue
}

func (sc scenario) expand(implicitTLS bool) string {
	open := openStartTLS
	if implicitTLS {
		open = greeting
	}
	r := strings.NewReplacer("{{open}}", open, "{{ehlo}}", ehloTLS, "{{auth}}", authOK,
		"{{envelope}}", envelope, "{{sent}}", sent)
	return r.Replace(sc.script)
}

func TestDialogues(t *testing.T) {
	t.Parallel()
	for _, sc := range dialogueScenarios() {
		modes := []bool{false}
		if strings.Contains(sc.script, "{{open}}") {
			modes = append(modes, true)
		}
		for _, implicit := range modes {
			name := sc.name + "/starttls"
			if implicit {
				name = sc.name + "/wrapper"
			}
			t.Run(name, func(t *testing.T) {
				t.Parallel()
				ts := startServer(t, nil, sc.tune)
				if err := ts.dialogue(implicit, "localhost").Run(sc.expand(implicit)); err != nil {
					t.Fatal(err)
				}
				if sc.check != nil {
					sc.check(t, ts)
				}
			})
		}
	}
}

func dialogueScenarios() []scenario {
	return []scenario{
		{name: "greeting and EHLO before TLS", script: greeting + ehloPlain + `
			c -> HELO client.example
			c <- 250 localhost
			c -> NOOP
			c <- 250 Ok
			c -> QUIT
			c <- 221 Bye
			eof`},
		{name: "EHLO after TLS omits STARTTLS", script: `{{open}}{{ehlo}}
			c -> STARTTLS
			c <- 503 TLS already active
			c -> quit
			c <- 221 Bye
			eof`},
		{name: "AUTH and MAIL before TLS", script: greeting + ehloPlain + `
			c -> AUTH PLAIN AEFLSURFWEFNUExFAHNlY3JldC1wYXNz
			c <- 530 Must issue a STARTTLS command first
			c -> MAIL FROM:<sender@example.com>
			c <- 530 Must issue a STARTTLS command first
			c -> STARTTLS extra
			c <- 501 Syntax error in parameters or arguments`},
		{name: "plaintext pipelined after STARTTLS is dropped", script: greeting + `
			c ~> "STARTTLS\r\nNOOP\r\n"
			c <- 220 Ready to start TLS
			tls
			c -> QUIT
			c <- 221 Bye
			eof`},
		{name: "pipelined commands", script: `{{open}}{{auth}}
			c ~> "MAIL FROM:<sender@example.com>\r\nRCPT TO:<rcpt@example.net>\r\nDATA\r\nhello\r\n.\r\nNOOP\r\n"
			c <- 250 Ok
			c <- 250 Ok
			c <- 354 End data with <CR><LF>.<CR><LF>
			{{sent}}
			c <- 250 Ok`},
		{name: "MAIL, RCPT and DATA before AUTH", script: `{{open}}{{ehlo}}
			c -> MAIL FROM:<sender@example.com>
			c <- 530 Authentication required
			c -> RCPT TO:<rcpt@example.net>
			c <- 530 Authentication required
			c -> DATA
			c <- 530 Authentication required`},
		{name: "AUTH PLAIN with continuation", script: `{{open}}{{ehlo}}
			c -> AUTH PLAIN
			c <- 334 
			c -> AEFLSURFWEFNUExFAHNlY3JldC1wYXNz
			c <- 235 Authentication successful.
			c -> AUTH PLAIN AEFLSURFWEFNUExFAHNlY3JldC1wYXNz
			c <- 503 Already authenticated`},
		{name: "AUTH PLAIN bad password", script: `{{open}}{{ehlo}}
			c -> AUTH PLAIN AEFLSURFWEFNUExFAHdyb25n
			c <- 535 Authentication Credentials Invalid
			c -> MAIL FROM:<sender@example.com>
			c <- 530 Authentication required`},
		{name: "AUTH LOGIN", script: `{{open}}{{ehlo}}
			c -> auth login
			c <- 334 VXNlcm5hbWU6
			c -> QUtJREVYQU1QTEU=
			c <- 334 UGFzc3dvcmQ6
			c -> c2VjcmV0LXBhc3M=
			c <- 235 Authentication successful.`},
		{name: "AUTH LOGIN with initial user name, bad password", script: `{{open}}{{ehlo}}
			c -> AUTH LOGIN QUtJREVYQU1QTEU=
			c <- 334 UGFzc3dvcmQ6
			c -> d3Jvbmc=
			c <- 535 Authentication Credentials Invalid`},
		{name: "AUTH cancelled, bad base64, unknown mechanism", script: `{{open}}{{ehlo}}
			c -> AUTH LOGIN
			c <- 334 VXNlcm5hbWU6
			c -> *
			c <- 501 Authentication cancelled
			c -> AUTH PLAIN !!!notbase64
			c <- 501 Cannot decode base64 response
			c -> AUTH CRAM-MD5
			c <- 504 Unrecognized authentication type
			c -> AUTH
			c <- 501 Syntax error in parameters or arguments
			{{auth}}`},
		{name: "three failed AUTHs close the session", script: `{{open}}{{ehlo}}
			c -> AUTH PLAIN AEFLSURFWEFNUExFAHdyb25n
			c <- 535 Authentication Credentials Invalid
			c -> AUTH PLAIN AEFLSURFWEFNUExFAHdyb25n
			c <- 535 Authentication Credentials Invalid
			c -> AUTH PLAIN AEFLSURFWEFNUExFAHdyb25n
			c <- 535 Authentication Credentials Invalid
			eof`},
		{name: "MAIL and RCPT syntax", script: `{{open}}{{auth}}
			c -> MAIL FROM:<>
			c <- 501 Invalid MAIL FROM address provided
			c -> MAIL FROM:<not an address>
			c <- 501 Invalid MAIL FROM address provided
			c -> MAIL FROM:sender@example.com
			c <- 250 Ok
			c -> RSET
			c <- 250 Ok
			c -> MAIL FROM:<sender@example.com
			c <- 501 Invalid MAIL FROM address provided
			c -> MAIL TO:<sender@example.com>
			c <- 501 Invalid MAIL FROM address provided
			c -> MAIL FROM:<sender@example.com> SMTPUTF8
			c <- 555 MAIL FROM/RCPT TO parameters not recognized or not implemented
			c -> MAIL FROM:<sender@example.com> BODY=BINARYMIME
			c <- 501 Syntax error in parameters or arguments
			c -> mail from: <sender@example.com> BODY=8BITMIME SIZE=1000 AUTH=<>
			c <- 250 Ok
			c -> MAIL FROM:<sender@example.com>
			c <- 503 Bad sequence of commands
			c -> RCPT TO:<rcpt>
			c <- 501 Invalid RCPT TO address provided
			c -> RCPT TO:<>
			c <- 501 Invalid RCPT TO address provided
			c -> RCPT TO:<rcpt@example.net> NOTIFY=NEVER
			c <- 555 MAIL FROM/RCPT TO parameters not recognized or not implemented
			c -> RCPT TO:<rcpt@example.net>
			c <- 250 Ok`},
		{name: "SIZE over the limit", tune: func(c *Config) { c.MaxMessageBytes = 1000 }, script: `{{open}}{{auth}}
			c -> MAIL FROM:<sender@example.com> SIZE=1001
			c <- 552 Message is too long.
			c -> MAIL FROM:<sender@example.com> SIZE=x
			c <- 501 Syntax error in parameters or arguments
			c -> MAIL FROM:<sender@example.com> SIZE=1000
			c <- 250 Ok`},
		{name: "sequence errors", script: `{{open}}{{auth}}
			c -> RCPT TO:<rcpt@example.net>
			c <- 503 Bad sequence of commands
			c -> DATA
			c <- 503 Bad sequence of commands
			c -> MAIL FROM:<sender@example.com>
			c <- 250 Ok
			c -> DATA
			c <- 503 Bad sequence of commands
			c -> AUTH PLAIN AEFLSURFWEFNUExFAHNlY3JldC1wYXNz
			c <- 503 Already authenticated`},
		{name: "unknown, unimplemented and long commands", script: greeting + `
			c -> FOO bar
			c <- 500 Unrecognized command
			c -> VRFY someone
			c <- 502 Command not implemented
			c -> EHLO
			c <- 501 Syntax error in parameters or arguments
			c -> NOOP ` + strings.Repeat("x", 600) + `
			c <- 500 Line too long
			c -> NOOP
			c <- 250 Ok`},
		{name: "full send", script: `{{open}}{{ehlo}}{{auth}}{{envelope}}
			c -> RCPT TO:<second@example.org>
			c <- 250 Ok
			c -> DATA
			c <- 354 End data with <CR><LF>.<CR><LF>
			c -> Subject: hi
			c -> 
			c -> ..leading dot
			c -> body
			c -> .
			{{sent}}
			c -> QUIT
			c <- 221 Bye
			eof`,
			check: func(t *testing.T, ts *testServer) {
				subs := ts.be.submitted()
				if len(subs) != 1 {
					t.Fatalf("submissions = %d, want 1", len(subs))
				}
				s := subs[0]
				want := "Subject: hi\r\n\r\n.leading dot\r\nbody\r\n"
				if s.Body != want || s.MailFrom != "sender@example.com" || s.AccountID != testAccount ||
					s.Region != "us-east-1" || s.Via != "smtp" ||
					strings.Join(s.Recipients, ",") != "rcpt@example.net,second@example.org" {
					t.Errorf("submission = %+v body %q", s.Submission, s.Body)
				}
			}},
		{name: "several messages and RSET in one session", script: `{{open}}{{auth}}{{envelope}}
			c -> DATA
			c <- 354 End data with <CR><LF>.<CR><LF>
			c -> one
			c -> .
			{{sent}}
			c -> RSET
			c <- 250 Ok
			c -> MAIL FROM:<sender@example.com>
			c <- 250 Ok
			c -> RSET
			c <- 250 Ok
			c -> RCPT TO:<rcpt@example.net>
			c <- 503 Bad sequence of commands
			{{envelope}}
			c -> DATA
			c <- 354 End data with <CR><LF>.<CR><LF>
			c -> two
			c -> .
			{{sent}}`,
			check: func(t *testing.T, ts *testServer) {
				subs := ts.be.submitted()
				if len(subs) != 2 || subs[0].Body != "one\r\n" || subs[1].Body != "two\r\n" {
					t.Errorf("submissions = %+v", subs)
				}
			}},
		{name: "51st recipient", script: `{{open}}{{auth}}
			c -> MAIL FROM:<sender@example.com>
			c <- 250 Ok` + strings.Repeat(`
			c -> RCPT TO:<rcpt@example.net>
			c <- 250 Ok`, 51) + `
			c -> DATA
			c <- 354 End data with <CR><LF>.<CR><LF>
			c -> x
			c -> .
			c <- 554 Transaction failed: Recipient count exceeds 50.
			c -> RCPT TO:<rcpt@example.net>
			c <- 503 Bad sequence of commands`},
		{name: "bare LF never ends DATA", script: `{{open}}{{auth}}{{envelope}}
			c -> DATA
			c <- 354 End data with <CR><LF>.<CR><LF>
			c ~> "line\n.\nMAIL FROM:<smuggled@example.com>\r\n.\r\n"
			{{sent}}
			c -> NOOP
			c <- 250 Ok`,
			check: oneBody("line\r\nMAIL FROM:<smuggled@example.com>\r\n")},
		{name: "LF dot CRLF is not the end", script: `{{open}}{{auth}}{{envelope}}
			c -> DATA
			c <- 354 End data with <CR><LF>.<CR><LF>
			c ~> "a\r\nb\n.\r\nRSET\r\n.\r\n"
			{{sent}}`,
			check: oneBody("a\r\nb\r\nRSET\r\n")},
		{name: "bare LF refused when strict", tune: func(c *Config) { c.BareLF = mailmsg.BareLFReject },
			script: `{{open}}{{auth}}{{envelope}}
			c -> DATA
			c <- 354 End data with <CR><LF>.<CR><LF>
			c ~> "line\n.\nMAIL FROM:<smuggled@example.com>\r\n.\r\n"
			c <- 554 Transaction failed: Message contains bare CR or LF characters; lines must end with CRLF.
			c -> NOOP
			c <- 250 Ok`,
			check: noSubmissions},
		{name: "bare CR", script: `{{open}}{{auth}}{{envelope}}
			c -> DATA
			c <- 354 End data with <CR><LF>.<CR><LF>
			c ~> "a\rb\r\n.\r\r\n.\r\n"
			c <- 554 Transaction failed: Message contains bare CR or LF characters; lines must end with CRLF.`,
			check: noSubmissions},
		{name: "NUL", script: `{{open}}{{auth}}{{envelope}}
			c -> DATA
			c <- 354 End data with <CR><LF>.<CR><LF>
			c ~> "a\x00b\r\n.\r\n"
			c <- 554 Transaction failed: Message contains NUL characters.
			{{envelope}}
			c -> DATA
			c <- 354 End data with <CR><LF>.<CR><LF>
			c -> fine
			c -> .
			{{sent}}`},
		{name: "line over 1000 octets", script: `{{open}}{{auth}}{{envelope}}
			c -> DATA
			c <- 354 End data with <CR><LF>.<CR><LF>
			c -> ` + strings.Repeat("y", 999) + `
			c -> .
			c <- 554 Transaction failed: Message contains a line longer than 1000 characters.
			{{envelope}}
			c -> DATA
			c <- 354 End data with <CR><LF>.<CR><LF>
			c -> ` + strings.Repeat("y", 998) + `
			c -> .` + strings.Repeat("z", 998) + `
			c -> ` + strings.Repeat("w", 20000) + `
			c -> .
			c <- 554 Transaction failed: Message contains a line longer than 1000 characters.`},
		{name: "streamed message too long", tune: func(c *Config) { c.MaxMessageBytes = 100 }, script: `{{open}}{{auth}}{{envelope}}
			c -> DATA
			c <- 354 End data with <CR><LF>.<CR><LF>` + strings.Repeat(`
			c -> 0123456789012345678901234567890123456789`, 3) + `
			c -> .
			c <- 552 Message is too long.
			{{envelope}}
			c -> DATA
			c <- 354 End data with <CR><LF>.<CR><LF>
			c -> short
			c -> .
			{{sent}}`},
		{name: "Submit refusal is SES's reply", script: `{{open}}{{auth}}{{envelope}}
			c -> DATA
			c <- 354 End data with <CR><LF>.<CR><LF>
			c -> NOTVERIFIED
			c -> .
			c <- 554 Message rejected: Email address is not verified. The following identities failed the check in region US-EAST-1: sender@example.com`},
		{name: "idle timeout", tune: func(c *Config) { c.IdleTimeout = 200 * time.Millisecond },
			script: greeting + `
			c <- 451 4.4.2 Timeout waiting for data from client.
			eof`},
		{name: "idle timeout in DATA", tune: func(c *Config) { c.IdleTimeout = 500 * time.Millisecond },
			script: `{{open}}{{auth}}{{envelope}}
			c -> DATA
			c <- 354 End data with <CR><LF>.<CR><LF>
			c -> half a message
			c <- 451 4.4.2 Timeout waiting for data from client.
			eof`},
		{name: "messages per connection", tune: func(c *Config) { c.MaxMessagesPerConn = 1 }, script: `{{open}}{{auth}}{{envelope}}
			c -> DATA
			c <- 354 End data with <CR><LF>.<CR><LF>
			c -> .
			{{sent}}
			c -> MAIL FROM:<sender@example.com>
			c <- 421 Service not available, closing transmission channel
			eof`},
	}
}

// oneBody checks that exactly one message was submitted, with body.
func oneBody(body string) func(*testing.T, *testServer) {
	return func(t *testing.T, ts *testServer) {
		subs := ts.be.submitted()
		if len(subs) != 1 || subs[0].Body != body {
			t.Errorf("submissions = %+v, want one with body %q", subs, body)
		}
	}
}

func noSubmissions(t *testing.T, ts *testServer) {
	if subs := ts.be.submitted(); len(subs) != 0 {
		t.Errorf("submissions = %+v, want none", subs)
	}
}
