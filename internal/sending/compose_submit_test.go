package sending

import (
	"context"
	"errors"
	"strings"
	"testing"

	"sesame/internal/seserr"
	"sesame/internal/spool"
	"sesame/internal/store"
)

// TestSubmitComposedAPIMessage: a composed message goes through the same
// Submit as SMTP's, keeps its attributes, gains Message-ID and Date, and the
// API-only refusals (per-message size limit, no recipients) hold.
func TestSubmitComposedAPIMessage(t *testing.T) {
	t.Parallel()
	h := newHarness(t, nil, 0)
	ctx := context.Background()
	if err := h.st.CreateConfigurationSet(ctx, store.ConfigurationSet{AccountID: h.account, Region: region, Name: "cs"}, 0); err != nil {
		t.Fatal(err)
	}
	msg, err := Compose(&Simple{From: "Me <me@example.org>", To: []string{"you@verified.com"}, Subject: "Grüße", Text: str("hi")})
	if err != nil {
		t.Fatal(err)
	}
	submit := func(rcpts []string, maxBytes int64) (string, error) {
		d, err := h.s.NewDraft()
		if err != nil {
			t.Fatal(err)
		}
		if _, err := d.Write(msg); err != nil {
			t.Fatal(err)
		}
		return h.s.Submit(ctx, &Submission{AccountID: h.account, Region: region, MailFrom: "me@example.org",
			Recipients: rcpts, Draft: d, Via: "api", MaxBytes: maxBytes,
			Meta: spool.Meta{ConfigurationSet: "cs"}})
	}
	var se *seserr.Error
	if _, err := submit(nil, 0); !errors.As(err, &se) || se.APICode != "BadRequestException" {
		t.Fatalf("no recipients: %v, want BadRequest", err)
	}
	if _, err := submit([]string{"you@verified.com"}, int64(len(msg)-1)); !errors.As(err, &se) || se.APICode != "MessageRejected" ||
		!strings.Contains(se.Message, "maximum message size") {
		t.Fatalf("over MaxBytes: %v, want MessageRejected (too long)", err)
	}
	id, err := submit([]string{"you@verified.com"}, int64(len(msg)))
	if err != nil {
		t.Fatal(err)
	}
	e, body := h.claimOne(t)
	if e.ID != id || e.Via != "api" || e.ConfigurationSet != "cs" {
		t.Errorf("envelope = %+v", e.Envelope)
	}
	if !strings.HasPrefix(body, "Message-ID: <"+id+"@us-east-1.mail.test>\r\nDate: ") || !strings.HasSuffix(body, string(msg)) {
		t.Errorf("spooled message:\n%s", body)
	}
}
