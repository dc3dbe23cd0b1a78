package seserr

import "fmt"

// Failures of composing a message from an API request's parts (Simple
// content: headers, attachments, addresses), with SES's texts.

// TooManyHeaders: a message has more custom headers than SES allows.
func TooManyHeaders(max int) *Error {
	return BadRequest(fmt.Sprintf("The number of headers exceeds the limit of %d.", max))
}

// InvalidHeaderName: a custom header's name is empty or not printable ASCII without ':'.
func InvalidHeaderName(name string) *Error {
	return BadRequest(fmt.Sprintf("Invalid header name %q.", name))
}

// InvalidContentDisposition: an attachment's ContentDisposition is neither ATTACHMENT nor INLINE.
func InvalidContentDisposition(disposition string) *Error {
	return BadRequest(fmt.Sprintf("Invalid ContentDisposition %q: ATTACHMENT or INLINE.", disposition))
}

// InvalidContentTransferEncoding: an attachment's ContentTransferEncoding is not one SES knows.
func InvalidContentTransferEncoding(encoding string) *Error {
	return BadRequest(fmt.Sprintf("Invalid ContentTransferEncoding %q: BASE64, QUOTED_PRINTABLE or SEVEN_BIT.", encoding))
}

// InvalidAddress: an address of an API request's field (To, From, …) does not parse or is not a valid address.
func InvalidAddress(field, addr string) *Error {
	return BadRequest(fmt.Sprintf("Invalid %s address: %s", field, addr))
}
