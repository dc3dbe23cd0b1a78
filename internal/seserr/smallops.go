package seserr

import "fmt"

// Refusals of SES v2 features that need an AWS service sesame cannot use:
// S/MIME signing with certificates kept in AWS Certificate Manager, mail
// archiving into a MailManager archive, AWS's pricing plans and Virtual
// Deliverability Manager's metrics. Each says
// why and what to do instead, so a tool that calls one learns it was not
// done rather than believing it was.

// NoSmimeCertificates: AssociateEmailIdentityCertificate.
func NoSmimeCertificates() *Error {
	return BadRequest("sesame cannot use S/MIME certificates: they are kept in AWS Certificate Manager, which a " +
		"self-hosted service cannot read. Sign the message yourself and send it as Raw content (SendRawEmail).")
}

// NoSmimeSigning: a configuration set's MessageSecurityOptions asking for
// the S/MIME signing scheme.
func NoSmimeSigning() *Error {
	return BadRequest("sesame cannot S/MIME-sign messages (the certificates are kept in AWS Certificate Manager); " +
		"only the DefaultScheme signing scheme is accepted. Sign the message yourself and send it as Raw content.")
}

// NoMailManagerArchive: an ArchiveArn for a configuration set.
func NoMailManagerArchive() *Error {
	return BadRequest("sesame cannot archive to a MailManager archive, an AWS service a self-hosted SES cannot reach; " +
		"only an empty ArchiveArn (no archiving) is accepted. To keep a copy of what is sent, add an archive " +
		"mailbox as a BCC recipient.")
}

// NoPricingPlans: PutAccountPricingAttributes with a plan other than NONE.
func NoPricingPlans(plan string) *Error {
	return BadRequest(fmt.Sprintf("sesame has no pricing plans, so none can be <%s>: it bills nothing and every "+
		"feature it has is open to every account. Only NONE is accepted.", plan))
}

// NoVdmMetrics: BatchGetMetricData. Its metrics are Virtual Deliverability
// Manager's, defined per message (a message to more than one recipient
// counts nowhere, opens and clicks once); sesame has no VDM and counts per
// recipient, so answering with its counts would pass them off as VDM's.
func NoVdmMetrics() *Error {
	return BadRequest("sesame has no Virtual Deliverability Manager, whose metrics BatchGetMetricData returns. " +
		"Its own counts, per recipient and 15 minutes, are in GetSendStatistics; per message in GetMessageInsights " +
		"and event destinations; totals at /metrics.")
}

// MetricQueriesOutOfRange: BatchGetMetricData with no query or more than
// the model allows, in AWS's validation wording.
func MetricQueriesOutOfRange(n, max int) *Error {
	e := BadRequest(fmt.Sprintf("1 validation error detected: Value at 'queries' failed to satisfy constraint: "+
		"Member must have length less than or equal to %d and greater than or equal to 1 (got %d)", max, n))
	e.QueryCode = "ValidationError"
	return e
}
