package seserr

import "fmt"

// Failures of the open and click tracking options (v1
// Create/Update/DeleteConfigurationSetTrackingOptions; v2's
// PutConfigurationSetTrackingOptions answers BadRequestException). The
// codes are SES's (botocore's SES model); the texts are sesame's, worded
// as SES's descriptions of the exceptions.

// TrackingOptionsAlreadyExist: v1 TrackingOptionsAlreadyExistsException,
// a create on a set that has tracking options.
func TrackingOptionsAlreadyExist(set string) *Error {
	e := AlreadyExists("TrackingOptionsAlreadyExistsException",
		fmt.Sprintf("Configuration set <%s> already contains a TrackingOptions object.", set))
	return e
}

// TrackingOptionsDoNotExist: v1 TrackingOptionsDoesNotExistException, an
// update or delete on a set without tracking options.
func TrackingOptionsDoNotExist(set string) *Error {
	return NotFound("TrackingOptionsDoesNotExistException",
		fmt.Sprintf("Configuration set <%s> does not contain a TrackingOptions object.", set))
}

// InvalidTrackingOptions: a custom redirect domain that is not a valid
// domain name (v1 InvalidTrackingOptions, v2 BadRequestException).
func InvalidTrackingOptions(domain string) *Error {
	e := BadRequest(fmt.Sprintf("Invalid custom redirect domain <%s>: it must be a valid domain or subdomain.", domain))
	e.QueryCode = "InvalidTrackingOptions"
	return e
}
