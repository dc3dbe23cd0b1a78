package seserr

import "fmt"

// Failures of the dedicated IP and dedicated IP pool operations (v2 only:
// v1 has none of them), with SES's exception codes.

// DedicatedIPPoolDoesNotExist: no pool of that name in the account and region.
func DedicatedIPPoolDoesNotExist(name string) *Error {
	return NotFound("NotFoundException", fmt.Sprintf("Pool %s does not exist.", name))
}

// DedicatedIPPoolAlreadyExists: CreateDedicatedIpPool with a name in use.
func DedicatedIPPoolAlreadyExists(name string) *Error {
	return AlreadyExists("AlreadyExistsException", fmt.Sprintf("Pool %s already exists.", name))
}

// DedicatedIPPoolLimitExceeded: the account holds max pools in the region.
func DedicatedIPPoolLimitExceeded(max int) *Error {
	return LimitExceeded(fmt.Sprintf("Maximum number of dedicated IP pools (%d) reached.", max))
}

// InvalidDedicatedIPPoolName: a name outside [a-z0-9_-]{1,64} (SES's
// pattern for pool names).
func InvalidDedicatedIPPoolName(name string) *Error {
	return BadRequest(fmt.Sprintf("Invalid pool name %q: it must be 1 to 64 lower-case ASCII letters, digits, underscores or dashes.", name))
}

// InvalidScalingMode: a ScalingMode SES does not have.
func InvalidScalingMode(mode string) *Error {
	return BadRequest(fmt.Sprintf("Invalid ScalingMode %q: must be STANDARD or MANAGED.", mode))
}

// ManagedPoolsNotSupported: ScalingMode MANAGED. SES manages such a pool's
// addresses itself; sesame sends from the operator's configured addresses
// only, so it has STANDARD pools alone.
func ManagedPoolsNotSupported() *Error {
	return BadRequest("ScalingMode MANAGED is not supported: sesame has no managed dedicated IP pools " +
		"(it sends from the addresses its operator configured); use STANDARD.")
}

// DedicatedIPPoolNotEmpty: DeleteDedicatedIpPool on a STANDARD pool that
// still holds addresses (SES refuses it).
func DedicatedIPPoolNotEmpty(name string) *Error {
	return BadRequest(fmt.Sprintf("Pool %s cannot be deleted: it still contains dedicated IP addresses. "+
		"Move them to another pool first.", name))
}

// DedicatedIPDoesNotExist: an address that is not one of the dedicated IPs
// (sesame's: not among [[delivery.source_addresses]]).
func DedicatedIPDoesNotExist(ip string) *Error {
	return NotFound("NotFoundException", fmt.Sprintf("Dedicated IP %s does not exist.", ip))
}

// WarmupPercentageOutOfRange: PutDedicatedIpWarmupAttributes outside 0–100.
func WarmupPercentageOutOfRange(p int) *Error {
	return BadRequest(fmt.Sprintf("Invalid WarmupPercentage %d: must be between 0 and 100.", p))
}

// SendingPoolDoesNotExist: a configuration set's DeliveryOptions name a
// pool the account does not have.
func SendingPoolDoesNotExist(name string) *Error {
	return NotFound("NotFoundException", fmt.Sprintf("Sending pool %s does not exist.", name))
}
