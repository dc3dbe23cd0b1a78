// Package mailmsg holds the conventions of a message's header section that
// sending, delivery and events share: where the header section and a field
// end, SES's control headers and what leaves sesame of a message
// (StripForDelivery), and SES's MessageIds; the one way a header section is
// read off the hot path (read.go); the one MIME composer every message
// sesame writes goes through (compose.go), and the one DSN and report
// composer on top of it (report.go). It decides no policy (sending
// does) and imports nothing of sesame's.
package mailmsg
