package seserr

import "fmt"

// Refusals of SES v2 features that need an AWS service sesame cannot use:
// S/MIME signing with certificates kept in AWS Certificate Manager, mail
// archiving into a MailManager archive, and AWS's pricing plans. Each says
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
