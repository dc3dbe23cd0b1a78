package receiving

import (
	"encoding/json"
	"net/mail"
	"strings"
	"time"

	"sesame/internal/events"
	"sesame/internal/receipt"
)

// Notification is SES's Received notification: what a receipt action's
// topic gets (notificationType "Received"), and with Content what the SNS
// action publishes.
type Notification struct {
	NotificationType string  `json:"notificationType"`
	Mail             Mail    `json:"mail"`
	Receipt          Receipt `json:"receipt"`
	Content          string  `json:"content,omitempty"`
}

// Mail is a received message's mail object.
type Mail struct {
	Timestamp        events.Time           `json:"timestamp"`
	Source           string                `json:"source"`
	MessageID        string                `json:"messageId"`
	Destination      []string              `json:"destination"`
	HeadersTruncated bool                  `json:"headersTruncated"`
	Headers          []events.Header       `json:"headers"`
	CommonHeaders    *events.CommonHeaders `json:"commonHeaders"`
}

// Receipt is the receipt object: the verdicts and the action taken.
type Receipt struct {
	Timestamp            events.Time `json:"timestamp"`
	ProcessingTimeMillis int64       `json:"processingTimeMillis"`
	Recipients           []string    `json:"recipients"`
	SpamVerdict          Verdict     `json:"spamVerdict"`
	VirusVerdict         Verdict     `json:"virusVerdict"`
	SPFVerdict           Verdict     `json:"spfVerdict"`
	DKIMVerdict          Verdict     `json:"dkimVerdict"`
	DMARCVerdict         Verdict     `json:"dmarcVerdict"`
	// DMARCPolicy is the From domain's policy; SES sets it only when
	// DMARC fails.
	DMARCPolicy string     `json:"dmarcPolicy,omitempty"`
	Action      ActionInfo `json:"action"`
}

// Verdict is one verdict object.
type Verdict struct {
	Status string `json:"status"`
}

// ActionInfo is receipt.action: the action that sent the notification.
type ActionInfo struct {
	Type            string `json:"type"`
	TopicArn        string `json:"topicArn,omitempty"`
	BucketName      string `json:"bucketName,omitempty"`
	ObjectKeyPrefix string `json:"objectKeyPrefix,omitempty"`
	ObjectKey       string `json:"objectKey,omitempty"`
	SmtpReplyCode   string `json:"smtpReplyCode,omitempty"`
	StatusCode      string `json:"statusCode,omitempty"`
	Message         string `json:"message,omitempty"`
	Sender          string `json:"sender,omitempty"`
	FunctionArn     string `json:"functionArn,omitempty"`
	InvocationType  string `json:"invocationType,omitempty"`
	OrganizationArn string `json:"organizationArn,omitempty"`
	Encoding        string `json:"encoding,omitempty"`
}

// actionInfo describes action a of message id as the notification shows
// it.
func actionInfo(a receipt.Action, id string) ActionInfo {
	info := ActionInfo{Type: a.Type()}
	switch {
	case a.S3Action != nil:
		info.TopicArn, info.BucketName = a.S3Action.TopicArn, a.S3Action.BucketName
		info.ObjectKeyPrefix = a.S3Action.ObjectKeyPrefix
		info.ObjectKey = a.S3Action.ObjectKeyPrefix + id
	case a.SNSAction != nil:
		info.TopicArn = a.SNSAction.TopicArn
		// The notification spells the encodings without the dash.
		info.Encoding = "UTF8"
		if a.SNSAction.Encoding == receipt.EncodingBase64 {
			info.Encoding = "BASE64"
		}
	case a.LambdaAction != nil:
		info.TopicArn, info.FunctionArn = a.LambdaAction.TopicArn, a.LambdaAction.FunctionArn
		info.InvocationType = invocationType(a.LambdaAction)
	case a.BounceAction != nil:
		b := a.BounceAction
		info.TopicArn, info.SmtpReplyCode, info.StatusCode, info.Message, info.Sender =
			b.TopicArn, b.SmtpReplyCode, b.StatusCode, b.Message, b.Sender
	case a.StopAction != nil:
		info.TopicArn = a.StopAction.TopicArn
	case a.WorkmailAction != nil:
		info.TopicArn, info.OrganizationArn = a.WorkmailAction.TopicArn, a.WorkmailAction.OrganizationArn
	}
	return info
}

func invocationType(l *receipt.LambdaAction) string {
	if l.InvocationType == "" {
		return receipt.InvocationEvent
	}
	return l.InvocationType
}

// newMail builds the mail object from the message as the actions see it
// (sesame's trace and verdict headers first). commonHeaders.messageId is
// the message's own Message-ID here, not SES's id.
func newMail(id, mailFrom string, received time.Time, header []byte) Mail {
	m := events.NewMail(events.MailInput{Timestamp: received, MessageID: id, Source: mailFrom, Header: header})
	m.CommonHeaders.MessageID = m.OriginalMessageID
	if m.Headers == nil {
		m.Headers = []events.Header{}
	}
	return Mail{
		Timestamp: m.Timestamp, Source: m.Source, MessageID: id, Destination: destination(m.CommonHeaders),
		HeadersTruncated: m.HeadersTruncated, Headers: m.Headers, CommonHeaders: m.CommonHeaders,
	}
}

// destination is every address of the To and Cc fields (SES: "from the
// MIME headers of the incoming email").
func destination(ch *events.CommonHeaders) []string {
	out := []string{}
	for _, field := range append(append([]string(nil), ch.To...), ch.Cc...) {
		list, err := mail.ParseAddressList(field)
		if err != nil {
			for _, part := range strings.Split(field, ",") {
				if p := strings.TrimSpace(part); p != "" {
					out = append(out, p)
				}
			}
			continue
		}
		for _, a := range list {
			out = append(out, a.Address)
		}
	}
	return out
}

// lambdaEvent is the payload a Lambda function gets from SES: the mail and
// receipt objects, never the content.
func lambdaEvent(m Mail, r Receipt) ([]byte, error) {
	type sesBody struct {
		Mail    Mail    `json:"mail"`
		Receipt Receipt `json:"receipt"`
	}
	type record struct {
		EventSource  string  `json:"eventSource"`
		EventVersion string  `json:"eventVersion"`
		SES          sesBody `json:"ses"`
	}
	return json.Marshal(struct {
		Records []record `json:"Records"`
	}{[]record{{EventSource: "aws:ses", EventVersion: "1.0", SES: sesBody{m, r}}}})
}
