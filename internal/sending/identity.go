package sending

import (
	"strings"

	"sesame/internal/store"
)

// identitySet is an account's verified identities in one region, shaped for
// lookups that do not allocate on the hot path.
type identitySet struct {
	// addresses: lower-case domain → local part (case kept) → present.
	addresses map[string]map[string]struct{}
	// domains: lower-case verified domains.
	domains map[string]struct{}
	// mailFrom: verified identities with a custom MAIL FROM domain → whether
	// it refuses mail (mailfrom.go).
	mailFrom map[string]bool
	// configSet: verified identities with a default configuration set →
	// its name (defaultconfigset.go), keyed as mailFrom.
	configSet map[string]string
}

// newIdentitySet keeps only the verified identities (Status Success), or
// every identity when all is set (development mode: each counts as
// verified, so its default configuration set applies too).
func newIdentitySet(ids []store.Identity, all bool) *identitySet {
	s := &identitySet{addresses: map[string]map[string]struct{}{}, domains: map[string]struct{}{}}
	for _, id := range ids {
		if id.Status != store.StatusSuccess && !all {
			continue
		}
		s.addMailFrom(id)
		s.addConfigSet(id)
		if strings.Contains(id.Name, "@") {
			local, domain := splitAddress(id.Name)
			d := strings.ToLower(domain)
			if s.addresses[d] == nil {
				s.addresses[d] = map[string]struct{}{}
			}
			s.addresses[d][local] = struct{}{}
			continue
		}
		s.domains[strings.ToLower(strings.TrimSuffix(id.Name, "."))] = struct{}{}
	}
	return s
}

// verified reports whether addr may be used under these identities (SES,
// spec §6): its address is verified (local part case-sensitive, "+label"
// needing no extra verification), or its domain or any parent domain is
// (domains case-insensitive).
func (s *identitySet) verified(addr string) bool {
	local, domain := splitAddress(addr)
	if domain == "" {
		return false
	}
	domain = strings.ToLower(domain) // no allocation when already lower-case
	if locals := s.addresses[domain]; locals != nil {
		if _, ok := locals[local]; ok {
			return true
		}
		if plus := strings.IndexByte(local, '+'); plus > 0 {
			if _, ok := locals[local[:plus]]; ok {
				return true
			}
		}
	}
	for d := domain; d != ""; {
		if _, ok := s.domains[d]; ok {
			return true
		}
		dot := strings.IndexByte(d, '.')
		if dot < 0 {
			break
		}
		d = d[dot+1:]
	}
	return false
}
