package api

import (
	"context"
	"reflect"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ses"
	v1types "github.com/aws/aws-sdk-go-v2/service/ses/types"
	"github.com/aws/aws-sdk-go-v2/service/sesv2"
	v2types "github.com/aws/aws-sdk-go-v2/service/sesv2/types"

	"sesame/internal/spool"
	"sesame/internal/store"
)

func (e *acctEnv) putVerified(t *testing.T, names ...string) {
	t.Helper()
	for _, n := range names {
		if err := e.st.PutIdentity(context.Background(), store.Identity{AccountID: e.acct, Region: e.region, Name: n, Status: store.StatusSuccess}); err != nil {
			t.Fatal(err)
		}
	}
}

func TestIdentityNotificationsV1(t *testing.T) {
	t.Parallel()
	e := newTopicsEnv(t, fakeTopics{"bounces": true, "complaints": true, "deliveries": true})
	ctx := context.Background()
	e.putVerified(t, "example.com", "me@example.org")

	attrs := func() map[string]v1types.IdentityNotificationAttributes {
		t.Helper()
		out, err := e.v1.GetIdentityNotificationAttributes(ctx, &ses.GetIdentityNotificationAttributesInput{
			Identities: []string{"example.com", "me@example.org", "missing.example"}})
		if err != nil {
			t.Fatal(err)
		}
		return out.NotificationAttributes
	}
	a := attrs()
	if len(a) != 2 {
		t.Fatalf("attributes for %d identities: %+v", len(a), a)
	}
	if d := a["example.com"]; !d.ForwardingEnabled || d.BounceTopic != nil || d.HeadersInBounceNotificationsEnabled {
		t.Errorf("defaults = %+v", d)
	}

	setTopic := func(typ v1types.NotificationType, topic *string) {
		t.Helper()
		if _, err := e.v1.SetIdentityNotificationTopic(ctx, &ses.SetIdentityNotificationTopicInput{Identity: aws.String("example.com"),
			NotificationType: typ, SnsTopic: topic}); err != nil {
			t.Fatal(err)
		}
	}
	forwarding := func(on bool) error {
		_, err := e.v1.SetIdentityFeedbackForwardingEnabled(ctx, &ses.SetIdentityFeedbackForwardingEnabledInput{Identity: aws.String("example.com"), ForwardingEnabled: on})
		return err
	}
	const needTopics = "Feedback forwarding for example.com can only be disabled when Amazon SNS topics are set for both Bounce and Complaint notification types."
	wantAPIError(t, forwarding(false), "InvalidParameterValue", needTopics)
	setTopic("Bounce", aws.String(e.topic("bounces")))
	wantAPIError(t, forwarding(false), "InvalidParameterValue", needTopics)
	setTopic("Complaint", aws.String(e.topic("complaints")))
	setTopic("Delivery", aws.String(e.topic("deliveries")))
	if err := forwarding(false); err != nil {
		t.Fatal(err)
	}
	for range 2 { // idempotent, as recorded
		if _, err := e.v1.SetIdentityHeadersInNotificationsEnabled(ctx, &ses.SetIdentityHeadersInNotificationsEnabledInput{
			Identity: aws.String("example.com"), NotificationType: "Bounce", Enabled: true}); err != nil {
			t.Fatal(err)
		}
	}
	a = attrs()
	if d := a["example.com"]; d.ForwardingEnabled || aws.ToString(d.BounceTopic) != e.topic("bounces") || aws.ToString(d.ComplaintTopic) != e.topic("complaints") ||
		aws.ToString(d.DeliveryTopic) != e.topic("deliveries") || !d.HeadersInBounceNotificationsEnabled || d.HeadersInComplaintNotificationsEnabled {
		t.Errorf("after settings = %+v", d)
	}
	n, err := e.st.IdentityNotifications(ctx, e.acct, e.region, "EXAMPLE.com")
	if err != nil || n.BounceTopic != e.topic("bounces") || !n.HeadersInBounce || n.ForwardingEnabled {
		t.Errorf("store: %+v %v", n, err)
	}

	// Clearing the complaint topic turns forwarding back on.
	setTopic("Complaint", nil)
	if d := attrs()["example.com"]; !d.ForwardingEnabled || d.ComplaintTopic != nil || aws.ToString(d.BounceTopic) != e.topic("bounces") {
		t.Errorf("after clearing: %+v", d)
	}
	setTopic("Delivery", aws.String(""))
	if d := attrs()["example.com"]; d.DeliveryTopic != nil {
		t.Errorf("an empty SnsTopic does not clear: %+v", d)
	}

	const invalidType = "Invalid notification type: InvalidType. Valid values are: Bounce, Complaint, Delivery."
	const unknown = "Identity unknown@example.com is not verified or does not exist."
	for _, tc := range []struct {
		name      string
		call      func() error
		code, msg string
	}{
		{"headers: unknown type", func() error {
			_, err := e.v1.SetIdentityHeadersInNotificationsEnabled(ctx, &ses.SetIdentityHeadersInNotificationsEnabledInput{
				Identity: aws.String("example.com"), NotificationType: "InvalidType", Enabled: true})
			return err
		}, "InvalidParameterValue", invalidType},
		{"topic: unknown type", func() error {
			_, err := e.v1.SetIdentityNotificationTopic(ctx, &ses.SetIdentityNotificationTopicInput{Identity: aws.String("example.com"), NotificationType: "InvalidType"})
			return err
		}, "InvalidParameterValue", invalidType},
		{"headers: unknown identity", func() error {
			_, err := e.v1.SetIdentityHeadersInNotificationsEnabled(ctx, &ses.SetIdentityHeadersInNotificationsEnabledInput{
				Identity: aws.String("unknown@example.com"), NotificationType: "Delivery", Enabled: true})
			return err
		}, "MessageRejected", unknown},
		{"topic: unknown identity", func() error {
			_, err := e.v1.SetIdentityNotificationTopic(ctx, &ses.SetIdentityNotificationTopicInput{Identity: aws.String("unknown@example.com"),
				NotificationType: "Bounce", SnsTopic: aws.String(e.topic("bounces"))})
			return err
		}, "MessageRejected", unknown},
		{"forwarding: unknown identity", func() error {
			_, err := e.v1.SetIdentityFeedbackForwardingEnabled(ctx, &ses.SetIdentityFeedbackForwardingEnabledInput{Identity: aws.String("unknown@example.com"), ForwardingEnabled: true})
			return err
		}, "MessageRejected", unknown},
		{"topic: a topic that does not exist", func() error {
			_, err := e.v1.SetIdentityNotificationTopic(ctx, &ses.SetIdentityNotificationTopicInput{Identity: aws.String("example.com"),
				NotificationType: "Bounce", SnsTopic: aws.String(e.topic("nope"))})
			return err
		}, "InvalidParameterValue", "Invalid SNS topic " + e.topic("nope") + ": it does not exist or is not in this account."},
	} {
		t.Run(tc.name, func(t *testing.T) { wantAPIError(t, tc.call(), tc.code, tc.msg) })
	}
}

func TestIdentityConfigurationSetAndFeedbackV2(t *testing.T) {
	t.Parallel()
	e := newTopicsEnv(t, nil)
	ctx := context.Background()
	if _, err := e.v2.CreateConfigurationSet(ctx, &sesv2.CreateConfigurationSetInput{ConfigurationSetName: aws.String("cs")}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.v2.CreateEmailIdentity(ctx, &sesv2.CreateEmailIdentityInput{EmailIdentity: aws.String("example.com"), ConfigurationSetName: aws.String("cs")}); err != nil {
		t.Fatal(err)
	}
	get := func(name string) *sesv2.GetEmailIdentityOutput {
		t.Helper()
		out, err := e.v2.GetEmailIdentity(ctx, &sesv2.GetEmailIdentityInput{EmailIdentity: aws.String(name)})
		if err != nil {
			t.Fatal(err)
		}
		return out
	}
	if got := get("example.com"); aws.ToString(got.ConfigurationSetName) != "cs" {
		t.Errorf("ConfigurationSetName = %q", aws.ToString(got.ConfigurationSetName))
	}
	ids, _ := e.st.Identities(ctx, e.acct, e.region)
	if len(ids) != 1 || ids[0].ConfigurationSet != "cs" {
		t.Errorf("store: %+v", ids)
	}
	if _, err := e.v2.PutEmailIdentityConfigurationSetAttributes(ctx, &sesv2.PutEmailIdentityConfigurationSetAttributesInput{EmailIdentity: aws.String("example.com")}); err != nil {
		t.Fatal(err)
	}
	if got := get("example.com"); got.ConfigurationSetName != nil {
		t.Errorf("after removal: ConfigurationSetName = %q", aws.ToString(got.ConfigurationSetName))
	}
	if _, err := e.v2.PutEmailIdentityConfigurationSetAttributes(ctx, &sesv2.PutEmailIdentityConfigurationSetAttributesInput{EmailIdentity: aws.String("example.com"),
		ConfigurationSetName: aws.String("cs")}); err != nil {
		t.Fatal(err)
	}
	if got := get("example.com"); aws.ToString(got.ConfigurationSetName) != "cs" {
		t.Errorf("after put: ConfigurationSetName = %q", aws.ToString(got.ConfigurationSetName))
	}

	// Feedback forwarding needs both topics before it may go off.
	feedback := func(on bool) error {
		_, err := e.v2.PutEmailIdentityFeedbackAttributes(ctx, &sesv2.PutEmailIdentityFeedbackAttributesInput{EmailIdentity: aws.String("example.com"), EmailForwardingEnabled: on})
		return err
	}
	wantAPIError(t, feedback(false), "BadRequestException",
		"Feedback forwarding for example.com can only be disabled when Amazon SNS topics are set for both Bounce and Complaint notification types.")
	for _, typ := range []v1types.NotificationType{"Bounce", "Complaint"} {
		if _, err := e.v1.SetIdentityNotificationTopic(ctx, &ses.SetIdentityNotificationTopicInput{Identity: aws.String("example.com"),
			NotificationType: typ, SnsTopic: aws.String(e.topic("t"))}); err != nil {
			t.Fatal(err)
		}
	}
	if err := feedback(false); err != nil {
		t.Fatal(err)
	}
	if get("example.com").FeedbackForwardingStatus {
		t.Error("FeedbackForwardingStatus still true")
	}

	for _, tc := range []struct {
		name      string
		call      func() error
		code, msg string
	}{
		{"create with a missing set", func() error {
			_, err := e.v2.CreateEmailIdentity(ctx, &sesv2.CreateEmailIdentityInput{EmailIdentity: aws.String("other.com"), ConfigurationSetName: aws.String("nope")})
			return err
		}, "NotFoundException", "Configuration set <nope> does not exist."},
		{"the refused create made nothing", func() error {
			_, err := e.v2.GetEmailIdentity(ctx, &sesv2.GetEmailIdentityInput{EmailIdentity: aws.String("other.com")})
			return err
		}, "NotFoundException", "Email identity other.com does not exist."},
		{"put a missing set", func() error {
			_, err := e.v2.PutEmailIdentityConfigurationSetAttributes(ctx, &sesv2.PutEmailIdentityConfigurationSetAttributesInput{EmailIdentity: aws.String("example.com"),
				ConfigurationSetName: aws.String("nope")})
			return err
		}, "NotFoundException", "Configuration set <nope> does not exist."},
		{"put on a missing identity", func() error {
			_, err := e.v2.PutEmailIdentityConfigurationSetAttributes(ctx, &sesv2.PutEmailIdentityConfigurationSetAttributesInput{EmailIdentity: aws.String("nope.example"),
				ConfigurationSetName: aws.String("cs")})
			return err
		}, "NotFoundException", "Email identity nope.example does not exist."},
		{"feedback on a missing identity", func() error {
			_, err := e.v2.PutEmailIdentityFeedbackAttributes(ctx, &sesv2.PutEmailIdentityFeedbackAttributesInput{EmailIdentity: aws.String("nope.example"), EmailForwardingEnabled: true})
			return err
		}, "NotFoundException", "Email identity nope.example does not exist."},
	} {
		t.Run(tc.name, func(t *testing.T) { wantAPIError(t, tc.call(), tc.code, tc.msg) })
	}
}

// Message tags on every API path: SES's texts, name before value, '.' and
// '@' allowed in values (spec §9).
func TestMessageTagRulesAPI(t *testing.T) {
	t.Parallel()
	e := newSendEnv(t, true)
	ctx := context.Background()
	long := strings.Repeat("x", 256)
	for _, tc := range []struct {
		tagName, value string
		msg            string // "" = accepted
	}{
		{"to", "someone.else@example.com", ""},
		{"test_invalid_name:123", "test", "Invalid tag name <test_invalid_name:123>: only alphanumeric ASCII characters, '_',  '-' are allowed."},
		{"test", "test_invalid_value:123", "Invalid tag value <test_invalid_value:123>: only alphanumeric ASCII characters, '_',  '-' , '.', '@' are allowed."},
		{"test_invalid_name@123", "test_invalid_value:123", "Invalid tag name <test_invalid_name@123>: only alphanumeric ASCII characters, '_',  '-' are allowed."},
		{long, "v", "Tag name cannot exceed 255 characters."},
		{"n", long, "Tag value cannot exceed 255 characters."},
		{"", "", "The tag name must be specified."},
		{"", "test", "The tag name must be specified."},
		{"test", "", "The tag value must be specified."},
	} {
		t.Run(tc.tagName+"="+tc.value, func(t *testing.T) {
			_, err2 := e.v2.SendEmail(ctx, &sesv2.SendEmailInput{FromEmailAddress: aws.String("me@example.org"),
				Destination: &v2types.Destination{ToAddresses: []string{"you@example.com"}},
				Content: &v2types.EmailContent{Simple: &v2types.Message{Subject: &v2types.Content{Data: aws.String("s")},
					Body: &v2types.Body{Text: &v2types.Content{Data: aws.String("b")}}}},
				EmailTags: []v2types.MessageTag{{Name: aws.String(tc.tagName), Value: aws.String(tc.value)}}})
			_, err1 := e.v1.SendEmail(ctx, &ses.SendEmailInput{Source: aws.String("me@example.org"),
				Destination: &v1types.Destination{ToAddresses: []string{"you@example.com"}},
				Message:     &v1types.Message{Subject: &v1types.Content{Data: aws.String("s")}, Body: &v1types.Body{Text: &v1types.Content{Data: aws.String("b")}}},
				Tags:        []v1types.MessageTag{{Name: aws.String(tc.tagName), Value: aws.String(tc.value)}}})
			// A raw message carrying the tag in X-SES-MESSAGE-TAGS.
			_, errRaw := e.v1.SendRawEmail(ctx, &ses.SendRawEmailInput{RawMessage: &v1types.RawMessage{
				Data: []byte("X-SES-MESSAGE-TAGS: " + tc.tagName + "=" + tc.value + "\r\nFrom: me@example.org\r\nTo: you@example.com\r\nSubject: s\r\n\r\nb\r\n")}})
			if tc.msg == "" {
				if err1 != nil || err2 != nil || errRaw != nil {
					t.Fatalf("refused: v2 %v, v1 %v, raw %v", err2, err1, errRaw)
				}
				return
			}
			wantAPIError(t, err2, "BadRequestException", tc.msg)
			wantAPIError(t, err1, "InvalidParameterValue", tc.msg)
			wantAPIError(t, errRaw, "InvalidParameterValue", tc.msg)
		})
	}
	ms := e.claim(t, 3)
	if got := ms[0].env.Tags; !reflect.DeepEqual(got, []spool.Tag{{Name: "to", Value: "someone.else@example.com"}}) {
		t.Errorf("spooled tags = %v", got)
	}
}
