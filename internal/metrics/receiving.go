package metrics

// The inbound MX's counters (docs/metrics.md).
var (
	received = counter("sesame_received_messages_total",
		"Messages the inbound MX accepted for the accounts' receipt rules (spooled durably).")
	receivedRefused = counterVec("sesame_received_recipients_refused_total",
		"Recipients the inbound MX refused at RCPT, by reason: unknown (no verified domain or no matching rule), filter (an IP address filter), tls (a rule requires TLS).", "reason")
	receiptActions = counterVec("sesame_receipt_actions_total",
		"Receipt rule actions run, by action type (S3, SNS, Lambda, Bounce, AddHeader, Stop, WorkMail, Connect) and result (ok, failed, retry).", "type", "result")
)

// Receiving refusal reasons.
const (
	RefusedUnknown = "unknown"
	RefusedFilter  = "filter"
	RefusedTLS     = "tls"
)

// Received counts a message the inbound MX accepted.
func Received() { received.Inc() }

// ReceivedRefused counts a recipient refused at RCPT; reason is one of the
// Refused constants.
func ReceivedRefused(reason string) { receivedRefused.WithLabelValues(reason).Inc() }

// ReceiptAction counts one receipt action's run; result is "ok", "failed"
// (given up) or "retry" (to be tried again).
func ReceiptAction(actionType, result string) {
	switch actionType {
	case "S3", "SNS", "Lambda", "Bounce", "AddHeader", "Stop", "WorkMail", "Connect":
	default:
		actionType = other
	}
	receiptActions.WithLabelValues(actionType, result).Inc()
}
