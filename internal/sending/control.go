package sending

import (
	"sesame/internal/spool"
)

// controlMeta returns what a submission carries once its control headers
// (and Return-Path) are read: the submission's own values win (an API
// call's ConfigurationSetName, Tags, ReturnPath), the headers fill in what
// they lack.
func controlMeta(m spool.Meta, h *header) spool.Meta {
	if h.hasConfigSet && h.configSet != "" && m.ConfigurationSet == "" {
		m.ConfigurationSet = h.configSet
	}
	if h.hasTags && len(m.Tags) == 0 {
		// admit has refused a message with a bad tag (checkHeaderTags).
		tags, _ := ParseMessageTags(h.tags)
		for _, t := range tags {
			m.Tags = append(m.Tags, spool.Tag{Name: t.Name, Value: t.Value})
		}
	}
	if h.hasRetPath && h.returnPath != "" && h.returnPath != "<>" && m.FeedbackTo == "" {
		// senderAddresses has checked the value: one addr-spec, or "<>".
		if a, err := parseHeaderAddresses(h.returnPath, false); err == nil && len(a) == 1 {
			m.FeedbackTo = a[0]
		}
	}
	return m
}
