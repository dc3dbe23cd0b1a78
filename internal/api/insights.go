package api

import (
	"context"
	"net/http"
	"slices"
	"strings"

	"sesame/internal/events"
	"sesame/internal/seserr"
)

// Message insights (v2 GetMessageInsights): a message's events per
// recipient, answered from the event outbox's records of it, so they
// last as long as the outbox keeps them. Unlike SES, sesame also reports
// messages to several recipients and to the mailbox simulator: a test
// setup is mostly those.

func (s *Server) registerInsights() {
	// The Go SDK sends no trailing slash; botocore's model has one.
	s.handleV2("GET /v2/email/insights/{MessageId}", s.getMessageInsightsV2)
	s.handleV2("GET /v2/email/insights/{MessageId}/{$}", s.getMessageInsightsV2)
}

// unknownISP is SES's Isp when it cannot name the recipient's provider;
// sesame never names one.
const unknownISP = "UNKNOWN_ISP"

type messageInsights struct {
	MessageId        string
	FromEmailAddress string       `json:",omitempty"`
	Subject          string       `json:",omitempty"`
	EmailTags        []messageTag `json:",omitempty"`
	Insights         []emailInsights
}

type emailInsights struct {
	Destination string
	Isp         string
	Events      []insightsEvent
}

type insightsEvent struct {
	Timestamp epochTime
	Type      string
	Details   *eventDetails `json:",omitempty"`
}

type eventDetails struct {
	Bounce    *bounceDetails    `json:",omitempty"`
	Complaint *complaintDetails `json:",omitempty"`
}

type bounceDetails struct {
	BounceType     string // UNDETERMINED, TRANSIENT or PERMANENT
	BounceSubType  string `json:",omitempty"`
	DiagnosticCode string `json:",omitempty"`
}

type complaintDetails struct {
	ComplaintSubType      *string `json:",omitempty"`
	ComplaintFeedbackType string  `json:",omitempty"`
}

func (s *Server) getMessageInsightsV2(ctx context.Context, r *http.Request) (any, error) {
	id := r.PathValue("MessageId")
	p := principal(ctx)
	evs, err := s.cfg.Store.MessageEvents(ctx, p.AccountID, p.Region, id)
	if err != nil {
		return nil, err
	}
	h, ok, err := events.HistoryOf(evs)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, seserr.MessageNotFound(id)
	}
	out := messageInsights{MessageId: id, FromEmailAddress: h.From(), Subject: h.Subject(),
		EmailTags: emailTags(h.Mail.Tags), Insights: []emailInsights{}}
	order, byRcpt := h.ByRecipient()
	for _, rcpt := range order {
		in := emailInsights{Destination: rcpt, Isp: unknownISP, Events: []insightsEvent{}}
		for _, rec := range byRcpt[rcpt] {
			in.Events = append(in.Events, insightsEventOf(rec, rcpt))
		}
		out.Insights = append(out.Insights, in)
	}
	return out, nil
}

// insightsEventOf is rec as an InsightsEvent about rcpt.
func insightsEventOf(rec *events.Record, rcpt string) insightsEvent {
	ev := insightsEvent{Timestamp: epochTime(rec.Time()), Type: events.MatchingType(rec.EventType)}
	switch {
	case rec.Bounce != nil:
		b := &bounceDetails{BounceType: strings.ToUpper(rec.Bounce.BounceType), BounceSubType: rec.Bounce.BounceSubType}
		for _, br := range rec.Bounce.BouncedRecipients {
			if strings.EqualFold(br.EmailAddress, rcpt) {
				b.DiagnosticCode = br.DiagnosticCode
			}
		}
		ev.Details = &eventDetails{Bounce: b}
	case rec.Complaint != nil:
		ev.Details = &eventDetails{Complaint: &complaintDetails{ComplaintSubType: rec.Complaint.ComplaintSubType,
			ComplaintFeedbackType: rec.Complaint.ComplaintFeedbackType}}
	}
	return ev
}

// emailTags lists mail.tags (SES's auto-tags and the message's) as
// EmailTags, by name.
func emailTags(tags map[string][]string) []messageTag {
	var out []messageTag
	for name, values := range tags {
		for _, v := range values {
			out = append(out, messageTag{Name: name, Value: v})
		}
	}
	slices.SortFunc(out, func(a, b messageTag) int {
		if c := strings.Compare(a.Name, b.Name); c != 0 {
			return c
		}
		return strings.Compare(a.Value, b.Value)
	})
	return out
}
