package outcome

import "strings"

// SimulatorDomain is the mailbox simulator's domain (spec §7).
const SimulatorDomain = "simulator.amazonses.com"

// SimulatorUserAgent is the User-Agent of the simulator's complaints, as SES
// names it in its complaint notifications.
const SimulatorUserAgent = "Amazon SES Mailbox Simulator"

// Simulator outcomes, as SES describes them for each simulator address.
const (
	SimDelivered       = "delivered"
	SimBounce          = "bounce"
	SimOutOfOffice     = "ooto"
	SimComplaint       = "complaint"
	SimSuppressionList = "suppressionlist"
)

// Simulated says what SES's mailbox simulator does with rcpt, and
// whether rcpt is a simulator address at all. "name+label@" variants count.
func Simulated(rcpt string) (string, bool) {
	at := strings.LastIndexByte(rcpt, '@')
	if at < 0 || !strings.EqualFold(rcpt[at+1:], SimulatorDomain) {
		return "", false
	}
	local := strings.ToLower(rcpt[:at])
	if plus := strings.IndexByte(local, '+'); plus >= 0 {
		local = local[:plus]
	}
	switch local {
	case "success":
		return SimDelivered, true
	case "bounce":
		return SimBounce, true
	case "ooto":
		return SimOutOfOffice, true
	case "complaint":
		return SimComplaint, true
	case "suppressionlist":
		return SimSuppressionList, true
	}
	// An unknown simulator address: SES has no mailbox there, so it bounces.
	return SimBounce, true
}

// Summarize records what happened to a captured message: "delivered" when
// every recipient was delivered, else "rcpt=outcome" pairs for the others,
// separated by spaces (ParseSummary reads it back).
func Summarize(recipients []string) string {
	var b strings.Builder
	for _, r := range recipients {
		o, ok := Simulated(r)
		if !ok || o == SimDelivered {
			continue
		}
		if b.Len() > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(r)
		b.WriteByte('=')
		b.WriteString(o)
	}
	if b.Len() == 0 {
		return SimDelivered
	}
	return b.String()
}

// ParseSummary gives each recipient's outcome from a recorded Summarize.
func ParseSummary(recipients []string, outcome string) map[string]string {
	out := make(map[string]string, len(recipients))
	for _, r := range recipients {
		out[r] = SimDelivered
	}
	if outcome == SimDelivered {
		return out
	}
	for _, pair := range strings.Fields(outcome) {
		if i := strings.LastIndexByte(pair, '='); i > 0 {
			out[pair[:i]] = pair[i+1:]
		}
	}
	return out
}
