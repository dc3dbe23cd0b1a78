package console

import (
	"net/http"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sesv2"
)

// Message search: by message id, SES's GetMessageInsights; by recipient,
// which SES has no operation for, the store's MessagesTo finds the ids of
// the account's recent messages to the address and GetMessageInsights
// tells each one's events.

func init() {
	accountPages = append(accountPages, func(s *Server) map[string]handler {
		return map[string]handler{
			"GET /messages":      s.messages,
			"GET /messages/{id}": s.message,
		}
	})
}

const (
	// searchScan is how many of the account's newest messages in the
	// region a search by recipient looks through; searchLimit how many
	// matches it shows.
	searchScan  = 5000
	searchLimit = 25
)

// messageResult is one message's insights as the pages show them.
type messageResult struct {
	ID, From, Subject string
	Tags              []string
	Recipients        []recipientEvents
	Captured          bool // capture mode kept a copy of it for this account
}

type recipientEvents struct {
	Destination string
	Events      []eventRow
}

type eventRow struct {
	Time                time.Time
	Type, Class, Detail string
}

type messagesData struct {
	Query    string
	ByRcpt   bool
	Results  []messageResult
	Error    string // the search's failure, in SES's words
	Scan     int
	Searched bool
}

func (s *Server) messages(w http.ResponseWriter, r *http.Request, v *view) error {
	d := messagesData{Query: strings.TrimSpace(r.URL.Query().Get("q")), Scan: searchScan}
	if d.Query == "" {
		return v.Render(w, "messages", "Message search", d)
	}
	d.Searched = true
	ctx := r.Context()
	if strings.Contains(d.Query, "@") {
		d.ByRcpt = true
		ids, err := s.cfg.Store.MessagesTo(ctx, v.Session.AccountID, v.Region, d.Query, searchScan, searchLimit)
		if err != nil {
			return err
		}
		for _, id := range ids {
			res, err := s.insights(r, v, id)
			if IsNotFound(err) {
				continue // pruned between the two reads
			}
			if err != nil {
				return err
			}
			// Only the searched recipient's events: a message to many
			// lists the others on its own page.
			var mine []recipientEvents
			for _, re := range res.Recipients {
				if strings.EqualFold(re.Destination, d.Query) {
					mine = append(mine, re)
				}
			}
			res.Recipients = mine
			d.Results = append(d.Results, res)
		}
		return v.Render(w, "messages", "Message search", d)
	}
	res, err := s.insights(r, v, d.Query)
	switch {
	case err == nil:
		d.Results = []messageResult{res}
	case errorStatus(err) < 500:
		d.Error = errorText(err)
	default:
		return err
	}
	return v.Render(w, "messages", "Message search", d)
}

// message is one message's page: its insights, and its captured copy.
func (s *Server) message(w http.ResponseWriter, r *http.Request, v *view) error {
	res, err := s.insights(r, v, r.PathValue("id"))
	if err != nil {
		return err
	}
	v.Nav = "messages"
	return v.Render(w, "message", "Message "+res.ID, res)
}

// insights asks GetMessageInsights about id as the signed-in key.
func (s *Server) insights(r *http.Request, v *view, id string) (messageResult, error) {
	out, err := v.SESv2().GetMessageInsights(r.Context(), &sesv2.GetMessageInsightsInput{MessageId: aws.String(id)})
	if err != nil {
		return messageResult{}, err
	}
	res := messageResult{ID: aws.ToString(out.MessageId), From: aws.ToString(out.FromEmailAddress),
		Subject: aws.ToString(out.Subject)}
	if res.ID == "" {
		res.ID = id
	}
	for _, t := range out.EmailTags {
		res.Tags = append(res.Tags, aws.ToString(t.Name)+"="+aws.ToString(t.Value))
	}
	for _, in := range out.Insights {
		re := recipientEvents{Destination: aws.ToString(in.Destination)}
		for _, e := range in.Events {
			row := eventRow{Time: aws.ToTime(e.Timestamp), Type: eventName(string(e.Type)), Class: eventClass(string(e.Type))}
			if d := e.Details; d != nil {
				switch {
				case d.Bounce != nil:
					row.Detail = strings.TrimSpace(string(d.Bounce.BounceType) + " " + aws.ToString(d.Bounce.BounceSubType))
					if dc := aws.ToString(d.Bounce.DiagnosticCode); dc != "" {
						row.Detail += ": " + dc
					}
				case d.Complaint != nil:
					row.Detail = strings.TrimSpace(aws.ToString(d.Complaint.ComplaintFeedbackType) + " " +
						aws.ToString(d.Complaint.ComplaintSubType))
				}
			}
			re.Events = append(re.Events, row)
		}
		res.Recipients = append(res.Recipients, re)
	}
	if s.cfg.Capture {
		f := v.captureFilter()
		f.ID = res.ID
		if msgs, err := s.cfg.Store.Captured(r.Context(), f); err == nil && len(msgs) > 0 {
			res.Captured = true
		}
	}
	return res, nil
}

// eventName is a v2 event type as the AWS console writes it
// ("DELIVERY_DELAY" → "Delivery delay").
func eventName(t string) string {
	if t == "" {
		return "—"
	}
	l := strings.ToLower(strings.ReplaceAll(t, "_", " "))
	return strings.ToUpper(l[:1]) + l[1:]
}

func eventClass(t string) string {
	switch t {
	case "DELIVERY", "OPEN", "CLICK", "SEND":
		return "ok"
	case "DELIVERY_DELAY", "SUBSCRIPTION":
		return "warn"
	}
	return "bad"
}
