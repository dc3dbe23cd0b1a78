package e2e

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/textproto"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sesv2"
	v2types "github.com/aws/aws-sdk-go-v2/service/sesv2/types"
	"github.com/emersion/go-message/mail"

	"sesame/internal/awsauth"
	"sesame/internal/testenv"
)

// createNewsList makes the contact list "news" with the topics sports
// (OPT_IN by default) and cycling (OPT_OUT), and contacts for addrs.
func createNewsList(t *testing.T, v2 *sesv2.Client, addrs ...string) {
	t.Helper()
	ctx := context.Background()
	if _, err := v2.CreateContactList(ctx, &sesv2.CreateContactListInput{ContactListName: aws.String("news"),
		Topics: []v2types.Topic{
			{TopicName: aws.String("sports"), DisplayName: aws.String("Sports"), DefaultSubscriptionStatus: v2types.SubscriptionStatusOptIn},
			{TopicName: aws.String("cycling"), DisplayName: aws.String("Cycling"), DefaultSubscriptionStatus: v2types.SubscriptionStatusOptOut},
		}}); err != nil {
		t.Fatal(err)
	}
	for _, a := range addrs {
		if _, err := v2.CreateContact(ctx, &sesv2.CreateContactInput{ContactListName: aws.String("news"), EmailAddress: aws.String(a)}); err != nil {
			t.Fatal(err)
		}
	}
}

// subscriptionRecord is the part of a Subscription or Bounce record the
// test reads.
type subscriptionRecord struct {
	EventType string `json:"eventType"`
	Mail      struct {
		MessageID string `json:"messageId"`
	} `json:"mail"`
	Subscription *struct {
		ContactList         string `json:"contactList"`
		Source              string `json:"source"`
		NewTopicPreferences struct {
			UnsubscribeAll          bool `json:"unsubscribeAll"`
			TopicSubscriptionStatus []struct {
				TopicName          string `json:"topicName"`
				SubscriptionStatus string `json:"subscriptionStatus"`
			} `json:"topicSubscriptionStatus"`
		} `json:"newTopicPreferences"`
	} `json:"subscription"`
	Bounce *struct {
		BounceType        string `json:"bounceType"`
		BounceSubType     string `json:"bounceSubType"`
		BouncedRecipients []struct {
			EmailAddress string `json:"emailAddress"`
		} `json:"bouncedRecipients"`
	} `json:"bounce"`
}

func listRecords(sub *snsSubscriber, typ string) []subscriptionRecord {
	var out []subscriptionRecord
	for _, m := range sub.notifications() {
		var r subscriptionRecord
		if json.Unmarshal([]byte(m["Message"]), &r) == nil && r.EventType == typ {
			out = append(out, r)
		}
	}
	return out
}

// unsubscribeLink is the URL of a captured message's List-Unsubscribe.
func unsubscribeLink(t *testing.T, raw string) string {
	t.Helper()
	r, err := mail.CreateReader(strings.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	lu := r.Header.Get("List-Unsubscribe")
	if r.Header.Get("List-Unsubscribe-Post") != "List-Unsubscribe=One-Click" || !strings.HasPrefix(lu, "<") || !strings.HasSuffix(lu, ">") {
		t.Fatalf("List-Unsubscribe %q, List-Unsubscribe-Post %q in\n%s", lu, r.Header.Get("List-Unsubscribe-Post"), raw)
	}
	return strings.Trim(lu, "<>")
}

// TestOneClickUnsubscribe is issue 11's test of subscription management: a
// contact list with a topic and a contact made with aws-sdk-go-v2; a
// SendEmail with ListManagementOptions arrives (capture mode) with
// List-Unsubscribe and List-Unsubscribe-Post pointing at sesame and the
// placeholder replaced in both parts; the preference page answers; an
// RFC 8058 POST, made as a mailbox provider makes it, unsubscribes the
// contact from the topic (GetContact says so) and publishes a
// Subscription event; the next send to that contact is accepted and
// never delivered, a Bounce (UnsubscribedRecipient) instead.
func TestOneClickUnsubscribe(t *testing.T) {
	s := startProduction(t, testenv.Options{})
	s.Verify("example.com")
	ctx := context.Background()
	v2 := s.SESv2Client(t)
	sub := newSNSSubscriber(t)
	topic := snsTopic(t, s, "ses-lists", sub)
	snsEventSet(t, v2, "lists", "subscriptions", topic, v2types.EventTypeSubscription, v2types.EventTypeBounce)
	createNewsList(t, v2, "ann@example.net")

	send := func(subject string) string {
		t.Helper()
		out, err := v2.SendEmail(ctx, &sesv2.SendEmailInput{FromEmailAddress: aws.String("news@example.com"),
			Destination:           &v2types.Destination{ToAddresses: []string{"ann@example.net"}},
			ConfigurationSetName:  aws.String("lists"),
			ListManagementOptions: &v2types.ListManagementOptions{ContactListName: aws.String("news"), TopicName: aws.String("sports")},
			Content: &v2types.EmailContent{Simple: &v2types.Message{Subject: &v2types.Content{Data: aws.String(subject)},
				Body: &v2types.Body{
					Text: &v2types.Content{Data: aws.String("Scores. Unsubscribe: {{amazonSESUnsubscribeUrl}}")},
					Html: &v2types.Content{Data: aws.String(`<p>Scores.</p><a href="{{amazonSESUnsubscribeUrl}}">Unsubscribe</a>`)}}}}})
		if err != nil {
			t.Fatal(err)
		}
		return aws.ToString(out.MessageId)
	}
	first := send("sports news")
	m := waitSubject(t, s, "sports news")
	link := unsubscribeLink(t, m.RawData)
	if !strings.HasPrefix(link, s.APIURL()+"/_sesame/unsubscribe?t=") {
		t.Fatalf("List-Unsubscribe points at %s, want sesame's API listener %s", link, s.APIURL())
	}
	html, text := parts(t, m.RawData)
	if text != "Scores. Unsubscribe: "+link || !strings.Contains(html, `<a href="`+link+`">Unsubscribe</a>`) {
		t.Fatalf("placeholder not replaced by %s:\ntext %q\nhtml %q", link, text, html)
	}

	// The preference page: the list's topics, sports checked.
	page := string(getOK(t, link))
	if !regexp.MustCompile(`name="topic" value="sports" checked`).MatchString(page) || !strings.Contains(page, `value="cycling">`) {
		t.Fatalf("preference page:\n%s", page)
	}

	// RFC 8058 §3.2, as Gmail and Yahoo send it: a POST to the URL, the
	// body List-Unsubscribe=One-Click, form-encoded, no cookies.
	req, err := http.NewRequest(http.MethodPost, link, strings.NewReader("List-Unsubscribe=One-Click"))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := (&http.Client{Timeout: 10 * time.Second}).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("one-click POST: %s", resp.Status)
	}
	c, err := v2.GetContact(ctx, &sesv2.GetContactInput{ContactListName: aws.String("news"), EmailAddress: aws.String("ann@example.net")})
	if err != nil {
		t.Fatal(err)
	}
	if len(c.TopicPreferences) != 1 || aws.ToString(c.TopicPreferences[0].TopicName) != "sports" ||
		c.TopicPreferences[0].SubscriptionStatus != v2types.SubscriptionStatusOptOut || c.UnsubscribeAll {
		t.Fatalf("GetContact after one-click: %+v", c.TopicPreferences)
	}
	var subs []subscriptionRecord
	waitFor(t, "the Subscription event", func() bool { subs = listRecords(sub, "Subscription"); return len(subs) > 0 })
	if r := subs[0]; r.Mail.MessageID != first || r.Subscription == nil || r.Subscription.ContactList != "news" ||
		r.Subscription.Source != "UnsubscribeHeader" || len(r.Subscription.NewTopicPreferences.TopicSubscriptionStatus) != 2 ||
		r.Subscription.NewTopicPreferences.TopicSubscriptionStatus[0].SubscriptionStatus != "OptOut" {
		t.Fatalf("Subscription record: %+v", r)
	}

	// The next send is accepted and skipped: a Bounce, nothing captured.
	second := send("more sports news")
	var bounces []subscriptionRecord
	waitFor(t, "the unsubscribed contact's Bounce", func() bool { bounces = listRecords(sub, "Bounce"); return len(bounces) > 0 })
	if b := bounces[0]; b.Mail.MessageID != second || b.Bounce == nil || b.Bounce.BounceType != "Permanent" ||
		b.Bounce.BounceSubType != "UnsubscribedRecipient" || len(b.Bounce.BouncedRecipients) != 1 ||
		b.Bounce.BouncedRecipients[0].EmailAddress != "ann@example.net" {
		t.Fatalf("Bounce record: %+v", b)
	}
	for _, m := range s.Captured("") {
		if m.Subject == "more sports news" {
			t.Fatalf("the unsubscribed contact's message was captured: %s", m.ID)
		}
	}
	// Unsubscribed contacts are not the account's suppression list.
	if _, err := v2.GetSuppressedDestination(ctx, &sesv2.GetSuppressedDestinationInput{EmailAddress: aws.String("ann@example.net")}); err == nil {
		t.Errorf("ann@example.net was put on the suppression list")
	}
}

// TestListManagementOverSMTP: X-SES-LIST-MANAGEMENT-OPTIONS over SMTP gives
// the message its unsubscribe link (for a recipient who is no contact
// yet); the header never reaches the recipient; a list that does not
// exist is refused at the end of DATA with SES's text.
func TestListManagementOverSMTP(t *testing.T) {
	s := startProduction(t, testenv.Options{})
	s.Verify("example.com")
	createNewsList(t, s.SESv2Client(t))
	submitRaw(t, s, "news@example.com", []string{"bob@example.net"},
		"X-SES-LIST-MANAGEMENT-OPTIONS: news; topic=sports\r\nFrom: news@example.com\r\nTo: bob@example.net\r\n"+
			"Subject: smtp list\r\n\r\nLeave: {{amazonSESUnsubscribeUrl}}\r\n")
	m := waitSubject(t, s, "smtp list")
	link := unsubscribeLink(t, m.RawData)
	if strings.Contains(strings.ToLower(m.RawData), "x-ses-") || !strings.Contains(m.RawData, "\r\n\r\nLeave: "+link+"\r\n") {
		t.Fatalf("RawData:\n%s", m.RawData)
	}
	// The link works for a recipient who was no contact: they become one.
	resp, err := http.Post(link, "application/x-www-form-urlencoded", strings.NewReader("List-Unsubscribe=One-Click"))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	c, err := s.SESv2Client(t).GetContact(context.Background(), &sesv2.GetContactInput{ContactListName: aws.String("news"),
		EmailAddress: aws.String("bob@example.net")})
	if resp.StatusCode != 200 || err != nil || len(c.TopicPreferences) != 1 || c.TopicPreferences[0].SubscriptionStatus != v2types.SubscriptionStatusOptOut {
		t.Fatalf("one-click for a non-contact: %s, %+v, %v", resp.Status, c, err)
	}

	err = smtpSubmit(t, s, awsauth.SMTPPassword(s.Secret, s.Regions[0]), "news@example.com", []string{"bob@example.net"},
		"X-SES-LIST-MANAGEMENT-OPTIONS: nolist\r\nFrom: news@example.com\r\nTo: bob@example.net\r\nSubject: refused\r\n\r\nx\r\n")
	var te *textproto.Error
	if !errors.As(err, &te) || te.Code != 554 || te.Msg != "Transaction failed: List with name nolist does not exist." {
		t.Fatalf("an unknown list: %v, want 554 Transaction failed: List with name nolist does not exist.", err)
	}
}

// TestBulkListManagement: SendBulkEmail has no ListManagementOptions in
// SES's model; X-SES-LIST-MANAGEMENT-OPTIONS in its template's Headers
// does it, with a stored template holding {{amazonSESUnsubscribeUrl}} (not
// a template variable): each entry is its own message, the subscribed contact's with
// their own link in place of the placeholder, the unsubscribed contact's
// accepted and never captured.
func TestBulkListManagement(t *testing.T) {
	s := startProduction(t, testenv.Options{})
	s.Verify("example.com")
	ctx := context.Background()
	v2 := s.SESv2Client(t)
	createNewsList(t, v2, "cid@example.net")
	if _, err := v2.CreateContact(ctx, &sesv2.CreateContactInput{ContactListName: aws.String("news"),
		EmailAddress: aws.String("dee@example.net"), UnsubscribeAll: true}); err != nil {
		t.Fatal(err)
	}
	if _, err := v2.CreateEmailTemplate(ctx, &sesv2.CreateEmailTemplateInput{TemplateName: aws.String("digest"),
		TemplateContent: &v2types.EmailTemplateContent{Subject: aws.String("digest for {{name}}"),
			Text: aws.String("Hi {{name}}. Leave: {{amazonSESUnsubscribeUrl}}")}}); err != nil {
		t.Fatal(err)
	}
	entry := func(to, name string) v2types.BulkEmailEntry {
		return v2types.BulkEmailEntry{Destination: &v2types.Destination{ToAddresses: []string{to}},
			ReplacementEmailContent: &v2types.ReplacementEmailContent{ReplacementTemplate: &v2types.ReplacementTemplate{
				ReplacementTemplateData: aws.String(`{"name":"` + name + `"}`)}}}
	}
	out, err := v2.SendBulkEmail(ctx, &sesv2.SendBulkEmailInput{FromEmailAddress: aws.String("news@example.com"),
		DefaultContent: &v2types.BulkEmailContent{Template: &v2types.Template{TemplateName: aws.String("digest"),
			TemplateData: aws.String(`{"name":"friend"}`),
			Headers:      []v2types.MessageHeader{{Name: aws.String("X-SES-LIST-MANAGEMENT-OPTIONS"), Value: aws.String("news")}}}},
		BulkEmailEntries: []v2types.BulkEmailEntry{entry("cid@example.net", "Cid"), entry("dee@example.net", "Dee")}})
	if err != nil {
		t.Fatal(err)
	}
	for i, r := range out.BulkEmailEntryResults {
		if r.Status != v2types.BulkEmailStatusSuccess || aws.ToString(r.MessageId) == "" {
			t.Fatalf("entry %d: %+v", i, r)
		}
	}
	m := waitSubject(t, s, "digest for Cid")
	link := unsubscribeLink(t, m.RawData)
	if _, text := parts(t, m.RawData); text != "Hi Cid. Leave: "+link {
		t.Fatalf("text %q, want the placeholder replaced by %s:\n%s", text, link, m.RawData)
	}
	for _, c := range s.Captured("") {
		if c.Subject == "digest for Dee" {
			t.Fatalf("the unsubscribed contact's message was captured")
		}
	}
}
