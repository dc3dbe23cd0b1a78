package seserr

import (
	"fmt"
	"strings"
)

// Failures of SES v1's receipt rule sets, receipt rules and IP filters.
// The codes are botocore's ses 2010-12-01 error shapes (AlreadyExists,
// CannotDelete, RuleDoesNotExist, InvalidSnsTopic, InvalidS3Configuration,
// InvalidLambdaFunction, LimitExceeded; all 400, Sender). The texts are
// SES's as recorded against AWS where a recording exists: "Rule set does
// not exist: NAME", "Could not write to bucket: NAME" (AWS CloudFormation
// logs quoted in aws-cdk#30375), and the name, reorder, CIDR, stop-action,
// bounce-sender and limit texts probed on SES by the floci emulator (floci-io/floci
// SesReceiptRuleService, 2026). Where sesame refuses what SES would accept
// (WorkMail, Connect, an unmapped function), the text says why.

// RuleDoesNotExist: a rule named in the request is not in the set.
func RuleDoesNotExist(name string) *Error {
	return NotFound("RuleDoesNotExist", "Rule does not exist: "+name)
}

// RuleSetAlreadyExists: CreateReceiptRuleSet/CloneReceiptRuleSet with a
// name in use.
func RuleSetAlreadyExists(name string) *Error {
	return AlreadyExists("AlreadyExists", "Rule set already exists: "+name)
}

// RuleAlreadyExists: CreateReceiptRule with a name in use in the set.
func RuleAlreadyExists(name string) *Error {
	return AlreadyExists("AlreadyExists", "Rule already exists: "+name)
}

// FilterAlreadyExists: CreateReceiptFilter with a name in use.
func FilterAlreadyExists(name string) *Error {
	return AlreadyExists("AlreadyExists", "Filter already exists: "+name)
}

// CannotDeleteActiveRuleSet: DeleteReceiptRuleSet of the active set.
func CannotDeleteActiveRuleSet(name string) *Error {
	e := BadRequest("Cannot delete active rule set: " + name)
	e.QueryCode = "CannotDelete"
	return e
}

// TooManyRuleSets, TooManyRules, TooManyActions, TooManyFilters: SES's
// receiving limits (40 sets, 200 rules a set, 10 actions a rule, 100
// filters).
func TooManyRuleSets() *Error { return LimitExceeded("Too many rule sets") }
func TooManyRules() *Error    { return LimitExceeded("Too many rules") }
func TooManyActions() *Error  { return LimitExceeded("Too many actions") }
func TooManyFilters() *Error  { return LimitExceeded("Too many filters") }

// TooManyRecipients: a rule with more recipient conditions than SES's
// quota (100 a rule).
func TooManyRecipients(max int) *Error {
	return LimitExceeded(fmt.Sprintf("Too many recipients: a receipt rule has at most %d.", max))
}

// ReceiptValidation is the Smithy-model face of malformed members:
// ValidationError, "1 validation error detected: Value at 'path' failed to
// satisfy constraint: …" (several joined with "; ", as SES lists them).
func ReceiptValidation(violations ...string) *Error {
	label := "1 validation error detected: "
	if len(violations) > 1 {
		label = fmt.Sprintf("%d validation errors detected: ", len(violations))
	}
	e := BadRequest(label + strings.Join(violations, "; "))
	e.QueryCode = "ValidationError"
	return e
}

// ViolationPattern: a rule or rule set name with characters outside
// [a-zA-Z0-9_.-] (path is the wire member: "ruleSetName", "rule.name").
func ViolationPattern(path string) string {
	return fmt.Sprintf("Value at '%s' failed to satisfy constraint: "+
		"Member must satisfy regular expression pattern: ^[a-zA-Z0-9_.-]+$", path)
}

// ViolationEnum: a member outside its enum (TlsPolicy, Encoding, Scope,
// InvocationType, Policy); values as SES lists them, e.g. "[Optional, Require]".
func ViolationEnum(path, values string) string {
	return fmt.Sprintf("Value at '%s' failed to satisfy constraint: Member must satisfy enum value set: %s", path, values)
}

// ViolationNull: a required member of a structure is absent.
func ViolationNull(path string) string {
	return fmt.Sprintf("Value at '%s' failed to satisfy constraint: Member must not be null", path)
}

// InvalidReceiptName: a name longer than 64 or not alphanumeric at both
// ends; kind is SES's member name ("ruleSetName", "ruleName",
// "filterName").
func InvalidReceiptName(kind, name string) *Error {
	return BadRequest(fmt.Sprintf("Not a valid %s: %s", kind, name))
}

// EmptyReceiptName: an empty name ("ruleSetName must not be empty").
func EmptyReceiptName(kind string) *Error {
	return BadRequest(kind + " must not be empty")
}

// InvalidCidr: a filter's Cidr that is neither an address nor a CIDR block.
func InvalidCidr(cidr string) *Error {
	return BadRequest("Invalid CIDR block: " + cidr)
}

// StopActionNotLast: a StopAction before another action.
func StopActionNotLast() *Error {
	return BadRequest("Stop action, if any, must be placed at the end of the actions list")
}

// InvalidAddHeaderName: an AddHeaderAction's HeaderName that is not 1 to 50
// letters, digits and dashes.
func InvalidAddHeaderName(name string) *Error {
	return BadRequest("Invalid header name: " + name)
}

// InvalidAddHeaderValue: an AddHeaderAction's HeaderValue of 2048 characters
// or more, or with a CR or LF.
func InvalidAddHeaderValue() *Error {
	return BadRequest("Invalid header value: it must be shorter than 2048 characters and contain no carriage return or line feed.")
}

// InvalidBounceField: a BounceAction's SmtpReplyCode, StatusCode or
// Message that is empty or malformed (what is SES's Message, e.g. "Invalid
// SMTP reply code: 2x0").
func InvalidBounceField(what, value string) *Error {
	return BadRequest(fmt.Sprintf("Invalid %s: %s", what, value))
}

// ActionMembers: a receipt action with no member or more than one (SES's
// ReceiptAction is a union).
func ActionMembers(n int) *Error {
	return BadRequest(fmt.Sprintf("A receipt action must have exactly one action type; action %d has none or several.", n))
}

// UnsupportedReceiptAction: WorkmailAction and ConnectAction, which hand
// mail to AWS services sesame cannot reach.
func UnsupportedReceiptAction(action string) *Error {
	return BadRequest(fmt.Sprintf("sesame does not support %s: it hands mail to an AWS service sesame cannot reach. "+
		"Use an S3Action, SNSAction or a LambdaAction mapped in [receiving] functions instead.", action))
}

// InvalidSnsTopic: a TopicArn that is not an SNS topic of the account in
// sesame.
func InvalidSnsTopic(arn string) *Error {
	e := BadRequest("Could not publish to SNS topic: " + arn)
	e.QueryCode = "InvalidSnsTopic"
	return e
}

// InvalidLambdaFunction: a FunctionArn the configuration does not map.
func InvalidLambdaFunction(arn string) *Error {
	e := BadRequest("Could not invoke Lambda function: " + arn +
		" (sesame invokes only the functions mapped in its configuration's [receiving] functions)")
	e.QueryCode = "InvalidLambdaFunction"
	return e
}

// InvalidS3Configuration: an S3Action while sesame has no [s3] endpoint,
// or without a bucket.
func InvalidS3Configuration(bucket string) *Error {
	e := BadRequest("Could not write to bucket: " + bucket +
		" (sesame writes received mail only to the object store configured in [s3] endpoint)")
	e.QueryCode = "InvalidS3Configuration"
	return e
}

// BounceSenderNotVerified: a BounceAction's Sender that is not a verified
// identity (address or domain) of the account.
func BounceSenderNotVerified(sender string) *Error {
	return BadRequest("Identity is not verified: " + sender)
}

// ReorderDuplicate: ReorderReceiptRuleSet naming a rule twice.
func ReorderDuplicate(name string) *Error {
	return BadRequest("Multiple positions found for rule: " + name)
}

// ReorderMissing: ReorderReceiptRuleSet leaving out rules of the set.
func ReorderMissing(names []string) *Error {
	return BadRequest("Positions for rules not found: " + strings.Join(names, ", "))
}
