package seserr

import "fmt"

// Answers of the SES operations that cannot be real for a self-hosted
// service: the Deliverability dashboard, Virtual Deliverability Manager,
// multi-region endpoints, tenants, reputation entities and —
// until sesame receives mail — receipt rules. Each refusal says why, so a
// tool that calls one learns what sesame offers instead; lookups of things
// that cannot exist are SES's not-found errors.

// NoDeliverabilityDashboard: PutDeliverabilityDashboardOption with
// DashboardEnabled true (or subscribed domains).
func NoDeliverabilityDashboard() *Error {
	return BadRequest("sesame has no Deliverability dashboard: its inbox placement, blocklist and campaign data " +
		"come from Amazon's mailbox-provider partners, which a self-hosted service does not have. " +
		"Delivery outcomes are in event destinations, GetMessageInsights and /metrics.")
}

// NoDeliverabilityTestReports: CreateDeliverabilityTestReport.
func NoDeliverabilityTestReports() *Error {
	return BadRequest("sesame cannot run predictive inbox placement tests: they need seed mailboxes at the " +
		"mailbox providers, which Amazon's Deliverability dashboard provides. Send to the mailbox simulator " +
		"or to test mailboxes of your own instead.")
}

// DeliverabilityTestReportNotFound: GetDeliverabilityTestReport (there are none).
func DeliverabilityTestReportNotFound(id string) *Error {
	return NotFound("NotFoundException", fmt.Sprintf("Deliverability test report <%s> does not exist.", id))
}

// NoBlacklistReports: GetBlacklistReports.
func NoBlacklistReports() *Error {
	return BadRequest("sesame does not monitor blocklists (the Deliverability dashboard's blacklist report); " +
		"look your sending addresses and domains up in the DNS blocklists directly.")
}

// DomainDeliverabilityCampaignNotFound: GetDomainDeliverabilityCampaign.
func DomainDeliverabilityCampaignNotFound(id string) *Error {
	return NotFound("NotFoundException", fmt.Sprintf("Domain deliverability campaign <%s> does not exist.", id))
}

// NoDomainStatisticsReport: GetDomainStatisticsReport counts inbox and
// spam-folder placement, which only the receiving mailbox knows.
func NoDomainStatisticsReport() *Error {
	return BadRequest("sesame cannot tell inbox from spam-folder placement, which the domain statistics report counts. " +
		"GetSendStatistics, GetMessageInsights and /metrics count what was delivered, bounced and complained about.")
}

// NoVirtualDeliverabilityManager: a VDM attribute or option set to ENABLED.
func NoVirtualDeliverabilityManager() *Error {
	return BadRequest("sesame has no Virtual Deliverability Manager; its metrics are at /metrics and GetMessageInsights. " +
		"Only DISABLED is accepted.")
}

// InvalidEnumValue: a parameter outside its enumeration (ENABLED/DISABLED, …).
func InvalidEnumValue(name, value string, allowed string) *Error {
	return BadRequest(fmt.Sprintf("Invalid value <%s> for %s: it must be one of %s.", value, name, allowed))
}

// NoMultiRegionEndpoints: CreateMultiRegionEndpoint.
func NoMultiRegionEndpoints() *Error {
	return BadRequest("sesame has no multi-region endpoints: one sesame serves the regions listed in its " +
		"configuration, and failing over between installations is the operator's (DNS, a load balancer).")
}

// MultiRegionEndpointNotFound: Get/DeleteMultiRegionEndpoint (there are none).
func MultiRegionEndpointNotFound(name string) *Error {
	return NotFound("NotFoundException", fmt.Sprintf("Multi-region endpoint <%s> does not exist.", name))
}

// NoTenants: CreateTenant.
func NoTenants() *Error {
	return BadRequest("sesame has no tenants: give each customer an account of its own " +
		"(sesame admin account create), which keeps its identities, quotas and reputation apart.")
}

// TenantNotFound: an operation naming a tenant (there are none).
func TenantNotFound(name string) *Error {
	return NotFound("NotFoundException", fmt.Sprintf("Tenant <%s> does not exist.", name))
}

// ReputationEntityNotFound: GetReputationEntity (there are none).
func ReputationEntityNotFound(typ, ref string) *Error {
	return NotFound("NotFoundException", fmt.Sprintf("Reputation entity <%s> of type %s does not exist.", ref, typ))
}

// NoReputationEntities: the reputation-entity updates (whose model has no
// not-found error).
func NoReputationEntities(ref string) *Error {
	return BadRequest(fmt.Sprintf("Reputation entity <%s> does not exist: sesame has no reputation entities "+
		"(they belong to SES's tenants). Pause sending with PutConfigurationSetSendingOptions or "+
		"PutAccountSendingAttributes.", ref))
}

// --- Receiving (SES v1 receipt rules) --------------------------------------

// RuleSetDoesNotExist: v1 RuleSetDoesNotExist, SES's text.
func RuleSetDoesNotExist(name string) *Error {
	return NotFound("RuleSetDoesNotExist", "Rule set does not exist: "+name)
}

// NoTenantSuppression: SuppressionScope TENANT (PutConfigurationSetSuppressionOptions,
// CreateConfigurationSet).
func NoTenantSuppression() *Error {
	return BadRequest("SuppressionScope TENANT is not available: sesame has no tenants, and each account has " +
		"one suppression list of its own. Only ACCOUNT is accepted.")
}

// NoAutoValidation: a suppression ConditionThreshold set to ENABLED
// (PutAccountSuppressionAttributes' ValidationAttributes,
// PutConfigurationSetSuppressionOptions' ValidationOptions).
func NoAutoValidation() *Error {
	return BadRequest("sesame has no Auto Validation: it does not score addresses' deliverability, so nothing is " +
		"suppressed by a confidence threshold; addresses are suppressed after a bounce or complaint, or by " +
		"PutSuppressedDestination. Only DISABLED is accepted.")
}
