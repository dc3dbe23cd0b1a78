package sending

import (
	"strings"

	"sesame/internal/seserr"
	"sesame/internal/spool"
)

// Message tags: SES's one rule for every way tags arrive — an API call's
// EmailTags / Tags.member.N / DefaultEmailTags / ReplacementTags, and the
// X-SES-MESSAGE-TAGS header over SMTP or in a raw message. The texts were
// recorded on SES (spec §9); the API answers them as InvalidParameterValue
// (v1) / BadRequestException (v2), SMTP as "554 Transaction failed: …".

// maxTagLen is SES's limit on a tag name and on a tag value.
const maxTagLen = 255

// ValidateMessageTag checks one message tag as SES does, the name before
// the value: each must be given, at most 255 characters, and made of ASCII
// letters, digits, '_' and '-'; a value may also hold '.' and '@'.
func ValidateMessageTag(name, value string) error {
	switch {
	case name == "":
		return seserr.TagNameMissing()
	case len(name) > maxTagLen:
		return seserr.TagNameTooLong()
	case !tagChars(name, false):
		return seserr.InvalidTagName(name)
	case value == "":
		return seserr.TagValueMissing()
	case len(value) > maxTagLen:
		return seserr.TagValueTooLong()
	case !tagChars(value, true):
		return seserr.InvalidTagValue(value)
	}
	return nil
}

func tagChars(s string, value bool) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-' ||
			value && (c == '.' || c == '@')) {
			return false
		}
	}
	return true
}

// ParseMessageTags reads an X-SES-MESSAGE-TAGS value ("n1=v1, n2=v2") and
// checks each tag with ValidateMessageTag; the first bad one refuses the
// message, as SES does. Blank pairs (a trailing comma) are skipped; a pair
// without "=" has an empty value.
func ParseMessageTags(v string) ([]Header, error) {
	var tags []Header
	for _, pair := range strings.Split(v, ",") {
		if strings.TrimSpace(pair) == "" {
			continue
		}
		k, val, _ := strings.Cut(pair, "=")
		k, val = strings.TrimSpace(k), strings.TrimSpace(val)
		if err := ValidateMessageTag(k, val); err != nil {
			return nil, err
		}
		tags = append(tags, Header{Name: k, Value: val})
	}
	return tags, nil
}

// checkHeaderTags refuses a message whose X-SES-MESSAGE-TAGS would be used
// (the submission gave no tags of its own) and holds a tag SES refuses.
func checkHeaderTags(m spool.Meta, h *header) error {
	if !h.hasTags || len(m.Tags) > 0 {
		return nil
	}
	_, err := ParseMessageTags(h.tags)
	return err
}
