// Package netaddr says which IP addresses are the public internet: where
// sesame may connect when a tenant's DNS names the destination (MX
// delivery, MTA-STS policy hosts). It never resolves names or connects.
package netaddr

import (
	"net/netip"
)

// Where MX delivery may connect. A recipient domain's DNS is the tenant's
// (or anybody's: it is whatever domain a sender writes to), so without a
// check a tenant who points an MX at 127.0.0.1 or 10.0.0.5 makes sesame
// speak SMTP to internal relays and services (server-side request
// forgery). Delivery therefore refuses, by default, every address that is
// not globally reachable unicast: those of IANA's IPv4 and IPv6
// Special-Purpose Address Registries (RFC 6890), multicast, and IPv6
// outside global unicast (2000::/3), judging an IPv4-mapped, NAT64 or
// 6to4 address by the IPv4 address it carries.
// delivery.allow_private_destinations turns the check off for test setups
// whose MXes are on loopback or a private network.

// specialRange is one entry of the tables below.
type specialRange struct {
	prefix netip.Prefix
	what   string // the registry's name, with its RFC
}

func mustRanges(rs ...[2]string) []specialRange {
	out := make([]specialRange, len(rs))
	for i, r := range rs {
		out[i] = specialRange{netip.MustParsePrefix(r[0]), r[1]}
	}
	return out
}

// specialIPv4 is IANA's IPv4 Special-Purpose Address Registry (as of
// 2025), every entry, whether or not the registry calls it globally
// reachable (no mail exchanger lives in AS112 or AMT anycast space), plus
// multicast and the reserved class E.
var specialIPv4 = mustRanges(
	[2]string{"0.0.0.0/8", `"this network" (RFC 791 §3.2, RFC 1122 §3.2.1.3)`},
	[2]string{"10.0.0.0/8", "private-use (RFC 1918)"},
	[2]string{"100.64.0.0/10", "shared address space, carrier-grade NAT (RFC 6598)"},
	[2]string{"127.0.0.0/8", "loopback (RFC 1122 §3.2.1.3)"},
	[2]string{"169.254.0.0/16", "link-local (RFC 3927)"},
	[2]string{"172.16.0.0/12", "private-use (RFC 1918)"},
	[2]string{"192.0.0.0/24", "IETF protocol assignments (RFC 6890 §2.1; RFC 7335, RFC 7600, RFC 8880)"},
	[2]string{"192.0.2.0/24", "documentation, TEST-NET-1 (RFC 5737)"},
	[2]string{"192.31.196.0/24", "AS112-v4 (RFC 7535)"},
	[2]string{"192.52.193.0/24", "AMT (RFC 7450)"},
	[2]string{"192.88.99.0/24", "deprecated 6to4 relay anycast (RFC 7526)"},
	[2]string{"192.168.0.0/16", "private-use (RFC 1918)"},
	[2]string{"192.175.48.0/24", "direct delegation AS112 service (RFC 7534)"},
	[2]string{"198.18.0.0/15", "benchmarking (RFC 2544)"},
	[2]string{"198.51.100.0/24", "documentation, TEST-NET-2 (RFC 5737)"},
	[2]string{"203.0.113.0/24", "documentation, TEST-NET-3 (RFC 5737)"},
	[2]string{"224.0.0.0/4", "multicast (RFC 5771)"},
	[2]string{"240.0.0.0/4", "reserved (RFC 1112 §4)"},
	[2]string{"255.255.255.255/32", "limited broadcast (RFC 919 §7, RFC 8190)"},
)

// specialIPv6 is IANA's IPv6 Special-Purpose Address Registry (as of
// 2025) and the other ranges outside global unicast a resolver may still
// return. 64:ff9b::/96 (RFC 6052 NAT64) and 2002::/16 (RFC 3056 6to4) are
// not here: they are judged by the IPv4 address they embed.
var specialIPv6 = mustRanges(
	[2]string{"::/128", "unspecified (RFC 4291 §2.5.2)"},
	[2]string{"::1/128", "loopback (RFC 4291 §2.5.3)"},
	[2]string{"::/96", "IPv4-compatible, deprecated (RFC 4291 §2.5.5.1)"},
	[2]string{"64:ff9b:1::/48", "local-use IPv4/IPv6 translation (RFC 8215)"},
	[2]string{"100::/64", "discard-only (RFC 6666)"},
	[2]string{"100:0:0:1::/64", "dummy IPv6 prefix (RFC 9780)"},
	[2]string{"2001::/23", "IETF protocol assignments: Teredo, benchmarking, ORCHID… (RFC 2928, RFC 4380, RFC 5180, RFC 7343)"},
	[2]string{"2001:db8::/32", "documentation (RFC 3849)"},
	[2]string{"3fff::/20", "documentation (RFC 9637)"},
	[2]string{"5f00::/16", "segment routing SIDs (RFC 9602)"},
	[2]string{"fc00::/7", "unique-local (RFC 4193)"},
	[2]string{"fe80::/10", "link-local (RFC 4291 §2.5.6)"},
	[2]string{"fec0::/10", "site-local, deprecated (RFC 3879)"},
	[2]string{"ff00::/8", "multicast (RFC 4291 §2.7)"},
)

var (
	globalUnicast6 = netip.MustParsePrefix("2000::/3") // RFC 4291 §2.4, IANA IPv6 Address Space
	nat64          = netip.MustParsePrefix("64:ff9b::/96")
	sixToFour      = netip.MustParsePrefix("2002::/16")
)

// NonPublic says why addr is no destination for mail ("" when it is one):
// the range it falls in.
func NonPublic(addr netip.Addr) string {
	addr = addr.Unmap() // ::ffff:a.b.c.d is a.b.c.d (RFC 4291 §2.5.5.2)
	if !addr.IsValid() {
		return "invalid address"
	}
	if addr.Is4() {
		for _, r := range specialIPv4 {
			if r.prefix.Contains(addr) {
				return r.what
			}
		}
		return ""
	}
	addr = addr.WithZone("")
	switch {
	case nat64.Contains(addr):
		// RFC 6052 §2.2: the IPv4 address is the last 32 bits.
		b := addr.As16()
		if why := NonPublic(netip.AddrFrom4([4]byte(b[12:16]))); why != "" {
			return "NAT64 of " + why
		}
		return ""
	case sixToFour.Contains(addr):
		// RFC 3056 §2: 2002:V4ADDR::/48.
		b := addr.As16()
		if why := NonPublic(netip.AddrFrom4([4]byte(b[2:6]))); why != "" {
			return "6to4 of " + why
		}
		return ""
	}
	for _, r := range specialIPv6 {
		if r.prefix.Contains(addr) {
			return r.what
		}
	}
	if !globalUnicast6.Contains(addr) {
		return "reserved by the IETF, outside global unicast 2000::/3 (RFC 4291 §2.4)"
	}
	return ""
}
