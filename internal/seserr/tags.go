package seserr

import (
	"fmt"
	"strings"
)

// --- Resource tags (TagResource, UntagResource, ListTagsForResource and the
// Tags of the create operations) ---------------------------------------------
//
// The texts are SES v2's as observed from it; all are BadRequestException
// (v1 has no tagging) but a missing resource, which is NotFoundException.

// TagsTooMany: a create operation given more than max tags.
func TagsTooMany(max int) *Error {
	return BadRequest(fmt.Sprintf("Maximum of %d user tags are allowed per resource, consider reducing the number of tags in the request", max))
}

// TagsTooManyAfterMerge: TagResource would leave the resource with more
// than max tags (its own and the new ones together).
func TagsTooManyAfterMerge(max int) *Error {
	return BadRequest(fmt.Sprintf("Maximum of %d user tags are allowed per resource, consider reducing the number of tags in the request or delete existing tags and retry", max))
}

// TagCharacters: a tag key or value with a character SES does not allow.
func TagCharacters() *Error {
	return BadRequest("Tags can only contain letters, numbers, spaces, and the following special characters: _ . : / = + - @")
}

// TagReservedPrefix: a tag key starting with "aws:" (any case).
func TagReservedPrefix() *Error {
	return BadRequest("Caller is an end user and not allowed to mutate system tags")
}

// TagLength is one tag member outside its length bounds; TagLengths puts
// them together as SES's validation message does.
type TagLength struct {
	Index  int    // 1-based position in the request's list
	Member string // "key" or "value"
	Max    int    // 0: too short (an empty key)
}

// TagLengths: keys or values too long (or a key empty).
func TagLengths(errs []TagLength) *Error {
	parts := make([]string, 0, len(errs))
	for _, e := range errs {
		constraint := fmt.Sprintf("Member must have length less than or equal to %d", e.Max)
		if e.Max == 0 {
			constraint = "Member must have length greater than or equal to 1"
		}
		parts = append(parts, fmt.Sprintf("Value at 'tags.%d.member.%s' failed to satisfy constraint: %s", e.Index, e.Member, constraint))
	}
	noun := "error"
	if len(parts) > 1 {
		noun = "errors"
	}
	return BadRequest(fmt.Sprintf("%d validation %s detected: %s", len(parts), noun, strings.Join(parts, "; ")))
}

// TagDuplicateKey: the request names one key twice.
func TagDuplicateKey() *Error {
	return BadRequest("Cannot provide multiple tags with the same key")
}

// InvalidResourceArn: a ResourceArn that is not an SES resource's ARN.
func InvalidResourceArn(arn string) *Error {
	return BadRequest(fmt.Sprintf("Invalid resource ARN: %s", arn))
}

// TagForeignResource: TagResource or UntagResource (op "tag" / "untag")
// with the ARN of another region or account than the caller's.
func TagForeignResource(op string) *Error {
	return BadRequest(fmt.Sprintf("Failed to %s resource", op))
}

// TaggedResourceNotFound: no resource of that kind and name; kind is SES's
// name of the type ("ConfigurationSet", "EmailIdentity", "Template", …).
func TaggedResourceNotFound(kind, name string) *Error {
	return NotFound("NotFoundException", fmt.Sprintf("No %s present with name: %s", kind, name))
}
