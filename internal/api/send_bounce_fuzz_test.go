package api

import (
	"bytes"
	"net/url"
	"testing"

	"sesame/internal/feedback"
	"sesame/internal/mailmsg"
)

// Whatever SendBounce's parameters say, the DSN made of them has one
// per-recipient block per BouncedRecipientInfo: a client's values cannot
// add fields, blocks or parts to the report.
func FuzzSendBounceDSN(f *testing.F) {
	f.Add("BouncedRecipientInfoList.member.1.Recipient=a%40b.example&BouncedRecipientInfoList.member.1.BounceType=DoesNotExist", "x")
	f.Add("BouncedRecipientInfoList.member.1.Recipient=a%40b.example&BouncedRecipientInfoList.member.1.RecipientDsnFields.Action=failed"+
		"&BouncedRecipientInfoList.member.1.RecipientDsnFields.Status=5.1.1%0D%0A%0D%0AFinal-Recipient%3A+rfc822%3B+x%40y"+
		"&BouncedRecipientInfoList.member.1.RecipientDsnFields.ExtensionFields.member.1.Name=X-A%0A"+
		"&BouncedRecipientInfoList.member.1.RecipientDsnFields.ExtensionFields.member.1.Value=v%0D%0A--sesame", "y\r\n--z")
	f.Fuzz(func(t *testing.T, form, mta string) {
		v, err := url.ParseQuery(form)
		if err != nil {
			return
		}
		rcpts, err := bouncedRecipientsV1(queryArgs{v})
		if err != nil {
			return
		}
		d := mailmsg.DSN{From: "a@b.example", To: "c@d.example", Subject: "s", ReportingMTA: "dns; " + mta,
			OriginalHeader: []byte("Subject: x\r\n")}
		for _, r := range rcpts {
			d.Recipients = append(d.Recipients, r.block)
		}
		rep, err := feedback.Parse(bytes.NewReader(d.Bytes()))
		if err != nil {
			t.Fatalf("the DSN does not parse: %v", err)
		}
		if rep.Kind != feedback.KindBounce || len(rep.Recipients) != len(rcpts) {
			t.Fatalf("%d blocks read back (%s), want %d:\n%s", len(rep.Recipients), rep.Kind, len(rcpts), d.Bytes())
		}
	})
}
