package sending

import (
	"strings"

	"sesame/internal/store"
)

// Custom MAIL FROM policy (spec §6): while an identity's custom MAIL FROM
// domain is not verified, SES uses its default one, unless the behaviour on
// MX failure is REJECT_MESSAGE: then it refuses the identity's mail with
// MailFromDomainNotVerified. The most specific identity with a MAIL FROM
// domain decides (address > subdomain > domain).

// addMailFrom records id's MAIL FROM setting in the set (verified identities only).
func (s *identitySet) addMailFrom(id store.Identity) {
	if id.MailFromDomain == "" {
		return
	}
	if s.mailFrom == nil {
		s.mailFrom = map[string]bool{}
	}
	s.mailFrom[mailFromKey(id.Name)] = id.MailFromRejects
}

// mailFromKey is an identity's key in identitySet.mailFrom: a domain
// lower-case, an address with its local part as given (SES: case-sensitive)
// and its domain lower-case, as verified matches them.
func mailFromKey(name string) string {
	if store.TypeOf(name) == store.Domain {
		return strings.ToLower(strings.TrimSuffix(name, "."))
	}
	local, domain := splitAddress(name)
	return local + "@" + strings.ToLower(domain)
}

// mailFromRefused returns the identity whose unverified custom MAIL FROM
// domain refuses mail from addr, or "".
func (s *identitySet) mailFromRefused(addr string) string {
	if len(s.mailFrom) == 0 {
		return ""
	}
	local, domain := splitAddress(addr)
	if domain == "" {
		return ""
	}
	domain = strings.ToLower(domain)
	candidates := []string{local + "@" + domain}
	if plus := strings.IndexByte(local, '+'); plus > 0 {
		candidates = append(candidates, local[:plus]+"@"+domain)
	}
	for _, c := range candidates {
		if rejects, ok := s.mailFrom[c]; ok {
			return refusedBy(c, rejects)
		}
	}
	for d := domain; d != ""; {
		if rejects, ok := s.mailFrom[d]; ok {
			return refusedBy(d, rejects)
		}
		dot := strings.IndexByte(d, '.')
		if dot < 0 {
			break
		}
		d = d[dot+1:]
	}
	return ""
}

func refusedBy(identity string, rejects bool) string {
	if rejects {
		return identity
	}
	return ""
}

// mailFromRefusal checks every sender address; it returns the first
// refusing identity, or "".
func (s *identitySet) mailFromRefusal(senders []string) string {
	for _, a := range senders {
		if id := s.mailFromRefused(a); id != "" {
			return id
		}
	}
	return ""
}
