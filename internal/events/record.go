package events

// SES event records and identity notifications, field for field.
//
// Where each shape comes from (golden files in testdata/ pin them):
//
//   - Event records (configuration-set event publishing: SNS, Firehose,
//     EventBridge detail): the SES developer guide pages
//     event-publishing-retrieving-sns-contents and -examples
//     (awsdocs/amazon-ses-developer-guide doc-source/). testdata/event_*.json
//     are those examples verbatim.
//   - Identity notifications (SetIdentityNotificationTopic): the pages
//     notification-contents and notification-examples; testdata/notification_*.json
//     are those examples verbatim.
//   - Where real AWS output differs from the docs, the recording wins
//     (spec §9 and localstack/localstack tests/aws/services/ses/test_ses.snapshot.json,
//     plus notifications captured from AWS and published in users' test
//     fixtures); testdata/observed_*.json rebuild those recordings with
//     example values. What they settled:
//   - complaint.complaintSubType is always present, null unless
//     OnAccountSuppressionList (recorded 2022; the docs' older examples lack it).
//   - mail.commonHeaders.messageId in an event record is always SES's message
//     id, even when the message carried its own Message-ID (recorded raw sends);
//     in an identity notification it is the message's own Message-ID, angle
//     brackets kept, and absent when the message had none.
//   - A raw send with an empty message had "headers":[] and commonHeaders
//     holding only messageId; records about a message whose headers SES never
//     parsed (Rendering Failure, DeliveryDelay examples) carry headersTruncated
//     but neither headers nor commonHeaders.
//   - Header values are unfolded by dropping the CRLFs only (the whitespace
//     after them stays: "multipart/alternative;  boundary=…"), names keep the
//     message's spelling ("Message-Id", "X-Ses-Configuration-Set"), and
//     RFC 2047 encoded words are decoded (non-ASCII subjects show as text in
//     both headers and commonHeaders).
//   - commonHeaders address lists hold one string per header field, the
//     field's addresses re-formatted and joined with ", " (the docs' three-name
//     To example); a display name is quoted only when it needs quoting
//     ("\"a@b.com\" <a@b.com>" stays quoted, "\"John Doe\"" loses its quotes) —
//     JavaMail's InternetAddress rules, which SES's MIME boundaries and
//     output betray. Inferred, not seen: JavaMail's default also quotes a
//     non-ASCII display name. returnPath is the bare address.
//   - Truncation: SES sets headersTruncated when the header section passes
//     10 KB and lists the fields that fit (a recorded truncated notification
//     ends its list early, whole fields only); commonHeaders still come from
//     every field.
//   - bounce.remoteMtaIp, delivery.remoteMtaIp, mail.sourceIp and
//     mail.callerIdentity appear in identity notifications only; tags appear in
//     event records only.
//   - SNS carries event records with Subject "Amazon SES Email Event
//     Notification" (recorded); identity notifications carry no Subject.
//
// Timestamps are UTC with milliseconds ("2017-08-05T00:41:02.669Z") everywhere.

import (
	"bytes"
	"encoding/json"
	"fmt"
	"reflect"
	"time"
)

// Event types as they appear in records ("eventType").
const (
	TypeSend             = "Send"
	TypeReject           = "Reject"
	TypeBounce           = "Bounce"
	TypeComplaint        = "Complaint"
	TypeDelivery         = "Delivery"
	TypeDeliveryDelay    = "DeliveryDelay"
	TypeOpen             = "Open"
	TypeClick            = "Click"
	TypeRenderingFailure = "Rendering Failure"
	TypeSubscription     = "Subscription"
)

// Subject is the SNS Subject SES gives event notifications (spec §9).
const Subject = "Amazon SES Email Event Notification"

// TopicValidationMessage is the Message of the one notification SES
// publishes, with no Subject, to a topic when an SNS event destination is
// created (spec §9).
const TopicValidationMessage = "Successfully validated SNS topic for Amazon SES event publishing."

// eventNames maps an eventType to its v2 MatchingEventTypes name and its v1
// (lower camel case) name.
var eventNames = map[string][2]string{
	TypeSend:             {"SEND", "send"},
	TypeReject:           {"REJECT", "reject"},
	TypeBounce:           {"BOUNCE", "bounce"},
	TypeComplaint:        {"COMPLAINT", "complaint"},
	TypeDelivery:         {"DELIVERY", "delivery"},
	TypeDeliveryDelay:    {"DELIVERY_DELAY", "deliveryDelay"},
	TypeOpen:             {"OPEN", "open"},
	TypeClick:            {"CLICK", "click"},
	TypeRenderingFailure: {"RENDERING_FAILURE", "renderingFailure"},
	TypeSubscription:     {"SUBSCRIPTION", "subscription"},
}

// MatchingType is the v2 MatchingEventTypes name of an event type
// ("Rendering Failure" → "RENDERING_FAILURE"); "" for an unknown type.
func MatchingType(eventType string) string { return eventNames[eventType][0] }

// V1MatchingType is the v1 MatchingEventTypes name of an event type
// ("Rendering Failure" → "renderingFailure"); "" for an unknown type.
func V1MatchingType(eventType string) string { return eventNames[eventType][1] }

// EventTypeOf is the eventType a v2 ("DELIVERY_DELAY") or v1
// ("deliveryDelay") MatchingEventTypes name stands for; ok=false when it
// names none.
func EventTypeOf(matching string) (eventType string, ok bool) {
	for t, n := range eventNames {
		if n[0] == matching || n[1] == matching {
			return t, true
		}
	}
	return "", false
}

// Time is a timestamp as SES writes it: UTC, milliseconds, "Z".
type Time struct{ time.Time }

// NewTime wraps t.
func NewTime(t time.Time) Time { return Time{t} }

const timeLayout = "2006-01-02T15:04:05.000Z"

// MarshalJSON writes "2017-08-05T00:41:02.669Z".
func (t Time) MarshalJSON() ([]byte, error) {
	b := make([]byte, 0, len(timeLayout)+2)
	b = append(b, '"')
	b = t.UTC().AppendFormat(b, timeLayout)
	return append(b, '"'), nil
}

// UnmarshalJSON reads SES's form and any RFC 3339 time (the docs also show
// offsets such as "2009-12-03T04:24:21.000-05:00").
func (t *Time) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return fmt.Errorf("events: time: %w", err)
	}
	v, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return fmt.Errorf("events: time %q: %w", s, err)
	}
	t.Time = v
	return nil
}

// Record is one SES event record: eventType, mail and the one object its
// type names. Build it with NewRecord, or as a literal with EventType set
// to match the object.
type Record struct {
	EventType     string            `json:"eventType"`
	Mail          Mail              `json:"mail"`
	Send          *Send             `json:"send,omitempty"` // SES emits "send":{}
	Reject        *Reject           `json:"reject,omitempty"`
	Bounce        *Bounce           `json:"bounce,omitempty"`
	Complaint     *Complaint        `json:"complaint,omitempty"`
	Delivery      *Delivery         `json:"delivery,omitempty"`
	DeliveryDelay *DeliveryDelay    `json:"deliveryDelay,omitempty"`
	Open          *Open             `json:"open,omitempty"`
	Click         *Click            `json:"click,omitempty"`
	Failure       *RenderingFailure `json:"failure,omitempty"`
	Subscription  *Subscription     `json:"subscription,omitempty"`
}

// NewRecord is the record of event about mail; event is one of *Send,
// *Reject, *Bounce, *Complaint, *Delivery, *DeliveryDelay, *Open, *Click,
// *RenderingFailure, *Subscription, and sets eventType.
func NewRecord(mail Mail, event any) (Record, error) {
	r := Record{Mail: mail}
	switch e := event.(type) {
	case *Send:
		r.EventType, r.Send = TypeSend, e
	case *Reject:
		r.EventType, r.Reject = TypeReject, e
	case *Bounce:
		r.EventType, r.Bounce = TypeBounce, e
	case *Complaint:
		r.EventType, r.Complaint = TypeComplaint, e
	case *Delivery:
		r.EventType, r.Delivery = TypeDelivery, e
	case *DeliveryDelay:
		r.EventType, r.DeliveryDelay = TypeDeliveryDelay, e
	case *Open:
		r.EventType, r.Open = TypeOpen, e
	case *Click:
		r.EventType, r.Click = TypeClick, e
	case *RenderingFailure:
		r.EventType, r.Failure = TypeRenderingFailure, e
	case *Subscription:
		r.EventType, r.Subscription = TypeSubscription, e
	default:
		return Record{}, fmt.Errorf("events: no event type for %T", event)
	}
	if reflect.ValueOf(event).IsNil() {
		return Record{}, fmt.Errorf("events: nil %T", event)
	}
	return r, nil
}

// MarshalJSON writes the record as SES publishes it. The notification-only
// fields of bounce and delivery (remoteMtaIp) are left out: they belong to
// Notification.
func (r Record) MarshalJSON() ([]byte, error) {
	obj, ok := r.object()
	if !ok {
		type plain Record
		return marshal(plain(r))
	}
	mail, err := marshal(r.Mail)
	if err != nil {
		return nil, err
	}
	return encodeRecord(r.EventType, mail, obj)
}

// object is the record's one event object, false when it has none or more.
func (r Record) object() (any, bool) {
	var objs []any
	for _, o := range []any{r.Send, r.Reject, r.Bounce, r.Complaint, r.Delivery, r.DeliveryDelay, r.Open, r.Click,
		r.Failure, r.Subscription} {
		if !reflect.ValueOf(o).IsNil() {
			objs = append(objs, o)
		}
	}
	if len(objs) != 1 {
		return nil, false
	}
	return objs[0], true
}

// objectField is the JSON name of each event object.
var objectField = map[string]string{TypeSend: "send", TypeReject: "reject", TypeBounce: "bounce",
	TypeComplaint: "complaint", TypeDelivery: "delivery", TypeDeliveryDelay: "deliveryDelay", TypeOpen: "open",
	TypeClick: "click", TypeRenderingFailure: "failure", TypeSubscription: "subscription"}

// encodeRecord writes a record whose mail object is already encoded (the
// records of one message share it: it is encoded once), fields in
// Record's order. The notification-only fields of bounce and delivery
// (remoteMtaIp) are left out: they belong to Notification.
func encodeRecord(eventType string, mail []byte, obj any) ([]byte, error) {
	field, ok := objectField[eventType]
	if !ok {
		return nil, fmt.Errorf("events: no event type %q", eventType)
	}
	switch o := obj.(type) {
	case *Bounce:
		if o.RemoteMtaIP != "" {
			b := *o
			b.RemoteMtaIP = ""
			obj = &b
		}
	case *Delivery:
		if o.RemoteMtaIP != "" {
			d := *o
			d.RemoteMtaIP = ""
			obj = &d
		}
	}
	body, err := marshal(obj)
	if err != nil {
		return nil, err
	}
	typ, err := marshal(eventType)
	if err != nil {
		return nil, err
	}
	out := make([]byte, 0, len(mail)+len(body)+len(typ)+len(field)+32)
	out = append(out, `{"eventType":`...)
	out = append(out, typ...)
	out = append(out, `,"mail":`...)
	out = append(out, mail...)
	out = append(out, `,"`...)
	out = append(out, field...)
	out = append(out, `":`...)
	out = append(out, body...)
	return append(out, '}'), nil
}

// Send is the send object: always empty.
type Send struct{}

// Reject is the reject object. SES's only reason is "Bad content" (a virus).
type Reject struct {
	Reason string `json:"reason"`
}

// Bounce types and subtypes (bounceType / bounceSubType).
const (
	BounceUndetermined = "Undetermined"
	BouncePermanent    = "Permanent"
	BounceTransient    = "Transient"

	SubTypeUndetermined             = "Undetermined"
	SubTypeGeneral                  = "General"
	SubTypeNoEmail                  = "NoEmail"
	SubTypeSuppressed               = "Suppressed"
	SubTypeOnAccountSuppressionList = "OnAccountSuppressionList"
	SubTypeMailboxFull              = "MailboxFull"
	SubTypeMessageTooLarge          = "MessageTooLarge"
	SubTypeContentRejected          = "ContentRejected"
	SubTypeAttachmentRejected       = "AttachmentRejected"
)

// Bounce is the bounce object.
type Bounce struct {
	FeedbackID        string             `json:"feedbackId"`
	BounceType        string             `json:"bounceType"`
	BounceSubType     string             `json:"bounceSubType"`
	BouncedRecipients []BouncedRecipient `json:"bouncedRecipients"`
	Timestamp         Time               `json:"timestamp"`
	// RemoteMtaIP is the MTA SES tried; identity notifications only (a
	// record leaves it out), and only when SES reached one.
	RemoteMtaIP string `json:"remoteMtaIp,omitempty"`
	// ReportingMTA is the DSN's Reporting-MTA ("dsn; mta.example.com"), only
	// when there is a DSN.
	ReportingMTA string `json:"reportingMTA,omitempty"`
}

// BouncedRecipient is one entry of bouncedRecipients; action, status and
// diagnosticCode come from a DSN and are absent without one.
type BouncedRecipient struct {
	EmailAddress   string `json:"emailAddress"`
	Action         string `json:"action,omitempty"`
	Status         string `json:"status,omitempty"`
	DiagnosticCode string `json:"diagnosticCode,omitempty"`
}

// Complaint is the complaint object. userAgent, complaintFeedbackType and
// arrivalDate come from a feedback report and are absent without one.
type Complaint struct {
	FeedbackID string `json:"feedbackId"`
	// ComplaintSubType is null (nil) or "OnAccountSuppressionList"; SES
	// always writes the key.
	ComplaintSubType      *string               `json:"complaintSubType"`
	ComplainedRecipients  []ComplainedRecipient `json:"complainedRecipients"`
	Timestamp             Time                  `json:"timestamp"`
	UserAgent             string                `json:"userAgent,omitempty"`
	ComplaintFeedbackType string                `json:"complaintFeedbackType,omitempty"`
	ArrivalDate           Time                  `json:"arrivalDate,omitzero"`
}

// ComplainedRecipient is one entry of complainedRecipients.
type ComplainedRecipient struct {
	EmailAddress string `json:"emailAddress"`
}

// Delivery is the delivery object.
type Delivery struct {
	Timestamp            Time     `json:"timestamp"`
	ProcessingTimeMillis int64    `json:"processingTimeMillis"`
	Recipients           []string `json:"recipients"`
	// SMTPResponse is the receiving MX's whole reply line.
	SMTPResponse string `json:"smtpResponse"`
	// RemoteMtaIP is the MX delivered to; identity notifications only.
	RemoteMtaIP string `json:"remoteMtaIp,omitempty"`
	// ReportingMTA is the host name of the sending server (no "dsn; ").
	ReportingMTA string `json:"reportingMTA"`
}

// DeliveryDelay is the deliveryDelay object.
type DeliveryDelay struct {
	Timestamp         Time               `json:"timestamp"`
	DelayType         string             `json:"delayType"`
	ExpirationTime    Time               `json:"expirationTime"`
	ReportingMTA      string             `json:"reportingMTA,omitempty"`
	DelayedRecipients []DelayedRecipient `json:"delayedRecipients"`
}

// Delay types (deliveryDelay.delayType).
const (
	DelayInternalFailure                = "InternalFailure"
	DelayGeneral                        = "General"
	DelayMailboxFull                    = "MailboxFull"
	DelaySpamDetected                   = "SpamDetected"
	DelayRecipientServerError           = "RecipientServerError"
	DelayIPFailure                      = "IPFailure"
	DelayTransientCommunicationFailure  = "TransientCommunicationFailure"
	DelayBYOIPHostNameLookupUnavailable = "BYOIPHostNameLookupUnavailable"
	DelayUndetermined                   = "Undetermined"
	DelaySendingDeferral                = "SendingDeferral"
)

// DelayedRecipient is one entry of delayedRecipients.
type DelayedRecipient struct {
	EmailAddress   string `json:"emailAddress"`
	Status         string `json:"status,omitempty"`
	DiagnosticCode string `json:"diagnosticCode,omitempty"`
}

// Open is the open object.
type Open struct {
	IPAddress string `json:"ipAddress"`
	Timestamp Time   `json:"timestamp"`
	UserAgent string `json:"userAgent"`
}

// Click is the click object; linkTags come from the link's ses:tags.
type Click struct {
	IPAddress string              `json:"ipAddress"`
	Link      string              `json:"link"`
	LinkTags  map[string][]string `json:"linkTags,omitempty"`
	Timestamp Time                `json:"timestamp"`
	UserAgent string              `json:"userAgent"`
}

// RenderingFailure is the failure object of a "Rendering Failure" record.
type RenderingFailure struct {
	ErrorMessage string `json:"errorMessage"`
	TemplateName string `json:"templateName"`
}

// Subscription is the subscription object.
type Subscription struct {
	ContactList         string            `json:"contactList"`
	Timestamp           Time              `json:"timestamp"`
	Source              string            `json:"source"`
	NewTopicPreferences *TopicPreferences `json:"newTopicPreferences,omitempty"`
	OldTopicPreferences *TopicPreferences `json:"oldTopicPreferences,omitempty"`
}

// TopicPreferences is a contact's subscription state in a contact list.
type TopicPreferences struct {
	UnsubscribeAll          bool                      `json:"unsubscribeAll"`
	TopicSubscriptionStatus []TopicSubscriptionStatus `json:"topicSubscriptionStatus"`
}

// TopicSubscriptionStatus is one topic's status: "OptIn" or "OptOut".
type TopicSubscriptionStatus struct {
	TopicName          string `json:"topicName"`
	SubscriptionStatus string `json:"subscriptionStatus"`
}

// marshal encodes v as SES writes JSON: '<', '>' and '&' as themselves
// (json.Marshal would write \u003c…, which every reader decodes alike but
// no SES record shows), without a trailing newline.
func marshal(v any) ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(b.Bytes(), []byte("\n")), nil
}
