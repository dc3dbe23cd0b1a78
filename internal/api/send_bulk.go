package api

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"sync"

	"sesame/internal/sending"
	"sesame/internal/seserr"
)

// Bulk sending (v2 SendBulkEmail, v1 SendBulkTemplatedEmail): one template,
// up to 50 destinations, each submitted as its own message through the same
// path as SendEmail, each with its own status.

// maxBulkEntries is SES's limit on destinations per bulk call.
const maxBulkEntries = 50

// bulkEntry is one destination of a bulk send.
type bulkEntry struct {
	to, cc, bcc []string
	tags        []messageTag // replace the default tags of the same name
	data        string       // ReplacementTemplateData; "" or "{}": the default
	headers     []sending.Header
}

// bulkResult is one destination's outcome; Status is v2's spelling
// (v1Status translates it).
type bulkResult struct {
	Status    string
	Error     string `json:",omitempty"`
	MessageID string `json:"MessageId,omitempty"`
}

// sendBulk submits one message per entry. base carries the template (by
// name or inline, with the default data), sender, options and default tags.
// Only a malformed request fails the whole call.
func (s *Server) sendBulk(ctx context.Context, base outbound, entries []bulkEntry) ([]bulkResult, error) {
	switch {
	case len(entries) == 0:
		return nil, seserr.MissingParameter("BulkEmailEntries")
	case len(entries) > maxBulkEntries:
		return nil, seserr.TooManyBulkDestinations(maxBulkEntries)
	case base.template == nil:
		return nil, seserr.MissingParameter("DefaultContent.Template")
	case base.from == "":
		return nil, seserr.MissingParameter("FromEmailAddress")
	case s.cfg.Sender == nil:
		return nil, seserr.TemporaryFailure().Wrap(errors.New("api: no sender configured"))
	}
	if err := s.checkSendOptions(ctx, &base); err != nil {
		return nil, err
	}
	results := make([]bulkResult, len(entries))
	if !base.template.inline {
		t, err := s.template(ctx, base.template.t.Name)
		if err != nil {
			e := seserr.As(err)
			if e.QueryCode != "TemplateDoesNotExist" {
				return nil, err
			}
			for i := range results {
				results[i] = bulkResult{Status: "TEMPLATE_NOT_FOUND", Error: e.Message}
			}
			return results, nil
		}
		base.template.t = t
	}
	// The entries are submitted concurrently: the spool commits concurrent
	// appends in one fsync, so 50 destinations cost about one.
	var wg sync.WaitGroup
	for i, e := range entries {
		o := base
		o.to, o.cc, o.bcc = e.to, e.cc, e.bcc
		o.tags = mergeTags(base.tags, e.tags)
		tc := *base.template
		tc.data = mergeTemplateData(base.template.data, e.data)
		if len(e.headers) > 0 {
			tc.headers = append(append([]sending.Header(nil), tc.headers...), e.headers...)
		}
		o.template = &tc
		if err := checkMessageTags(o.tags); err != nil {
			results[i] = bulkFailure(err)
			continue
		}
		wg.Go(func() {
			id, err := s.submit(ctx, &o)
			if err != nil {
				results[i] = bulkFailure(err)
				return
			}
			results[i] = bulkResult{Status: "SUCCESS", MessageID: id}
		})
	}
	wg.Wait()
	return results, nil
}

func mergeTags(defaults, replacements []messageTag) []messageTag {
	if len(replacements) == 0 {
		return defaults
	}
	out := append([]messageTag(nil), replacements...)
	for _, d := range defaults {
		replaced := false
		for _, r := range replacements {
			replaced = replaced || r.Name == d.Name
		}
		if !replaced {
			out = append(out, d)
		}
	}
	return out
}

// mergeTemplateData: a destination's data, with the default data's
// top-level fields filling what it does not set ("" and "{}" therefore mean
// the default data). When either is not a JSON object, the destination's
// data is used as it is and rendering reports any problem.
func mergeTemplateData(defaults, replacement string) string {
	r := strings.TrimSpace(replacement)
	if r == "" || r == "{}" {
		return defaults
	}
	d := strings.TrimSpace(defaults)
	if d == "" || d == "{}" {
		return replacement
	}
	var dm, rm map[string]json.RawMessage
	if json.Unmarshal([]byte(d), &dm) != nil || json.Unmarshal([]byte(r), &rm) != nil {
		return replacement
	}
	for k, v := range rm {
		dm[k] = v
	}
	b, err := json.Marshal(dm)
	if err != nil {
		return replacement
	}
	return string(b)
}

// bulkFailure turns a refusal into its BulkEmailStatus.
func bulkFailure(err error) bulkResult {
	e := seserr.As(err)
	return bulkResult{Status: e.BulkStatus(), Error: e.Message}
}

// v1Status is v1's spelling of a BulkEmailStatus (BulkEmailDestinationStatus).
func v1Status(v2 string) string {
	switch v2 {
	case "SUCCESS":
		return "Success"
	case "MAIL_FROM_DOMAIN_NOT_VERIFIED":
		return "MailFromDomainNotVerified"
	case "CONFIGURATION_SET_NOT_FOUND":
		return "ConfigurationSetDoesNotExist"
	case "TEMPLATE_NOT_FOUND":
		return "TemplateDoesNotExist"
	case "INVALID_PARAMETER":
		return "InvalidParameterValue"
	}
	// MESSAGE_REJECTED → MessageRejected, ACCOUNT_THROTTLED → AccountThrottled, …
	var b strings.Builder
	for _, w := range strings.Split(v2, "_") {
		if w == "" {
			continue
		}
		b.WriteString(w[:1])
		b.WriteString(strings.ToLower(w[1:]))
	}
	return b.String()
}
