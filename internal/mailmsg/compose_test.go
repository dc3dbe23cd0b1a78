package mailmsg

import (
	"net/mail"
	"strings"
	"testing"
)

func TestPartBytes(t *testing.T) {
	msg := Multipart("report", "b1", map[string]string{"report-type": "delivery-status"},
		Text("text/plain", "Grüße\n"),
		Raw("message/delivery-status", []byte("Reporting-MTA: dns; mx.example\nAction: failed\n")))
	msg.Header = append([]Field{
		{Name: "From", Value: FormatAddress(&mail.Address{Name: "Zoë", Address: "z@example.com"})},
		{Name: "Subject", Value: EncodeText(strings.Repeat("a long subject word ", 6))},
	}, msg.Header...)
	want := "From: =?UTF-8?B?Wm/Dqw==?= <z@example.com>\r\n" +
		"Subject: a long subject word a long subject word a long subject word a long\r\n" +
		" subject word a long subject word a long subject word \r\n" +
		"Content-Type: multipart/report; boundary=b1; report-type=delivery-status\r\n" +
		"\r\n" +
		"--b1\r\n" +
		"Content-Type: text/plain; charset=UTF-8\r\n" +
		"Content-Transfer-Encoding: quoted-printable\r\n" +
		"\r\n" +
		"Gr=C3=BC=C3=9Fe\r\n" +
		"\r\n" +
		"--b1\r\n" +
		"Content-Type: message/delivery-status\r\n" +
		"\r\n" +
		"Reporting-MTA: dns; mx.example\r\nAction: failed\r\n" +
		"\r\n" +
		"--b1--\r\n"
	if got := string(msg.Bytes()); got != want {
		t.Errorf("got:\n%s\nwant:\n%s", got, want)
	}
}

func TestFormatAddress(t *testing.T) {
	for _, c := range []struct {
		a    mail.Address
		want string
	}{
		{mail.Address{Address: "a@example.com"}, "a@example.com"},
		{mail.Address{Name: "Ann", Address: "a@example.com"}, `"Ann" <a@example.com>`},
		{mail.Address{Name: "Doe, John", Address: "j@example.com"}, `"Doe, John" <j@example.com>`},
		{mail.Address{Name: "Zoë", Address: "z@example.com"}, "=?UTF-8?B?Wm/Dqw==?= <z@example.com>"},
	} {
		if got := FormatAddress(&c.a); got != c.want {
			t.Errorf("FormatAddress(%+v) = %q, want %q", c.a, got, c.want)
		}
	}
}
