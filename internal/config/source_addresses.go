package config

import (
	"fmt"
	"net/netip"
)

// SourceAddress is one [[delivery.source_addresses]] entry: an address of
// this machine that mail may be sent from, and the name it introduces
// itself with (EHLO) from there. The API shows them as dedicated IPs that
// accounts put in their pools (docs/api.md); delivery binds its
// connections to them (internal/delivery, sources.go).
type SourceAddress struct {
	// Address is an IP literal, v4 or v6.
	Address string `toml:"address"`
	// EHLOName is the host name given in EHLO from this address (its
	// reverse DNS name, for receivers that check).
	EHLOName string `toml:"ehlo_name"`
}

// Addr is the address parsed (valid after Validate).
func (a SourceAddress) Addr() netip.Addr {
	ip, _ := netip.ParseAddr(a.Address)
	return ip.Unmap()
}

// validateSourceAddresses checks the [[delivery.source_addresses]] entries:
// an IP literal each (no zone), a host name each, no address twice.
func validateSourceAddresses(list []SourceAddress, bad func(key, format string, args ...any) error) error {
	seen := map[netip.Addr]int{}
	for i, a := range list {
		key := fmt.Sprintf("delivery.source_addresses[%d]", i)
		ip, err := netip.ParseAddr(a.Address)
		if a.Address == "" {
			return bad(key+".address", "is missing: give an IP address of this machine")
		}
		if err != nil || ip.Zone() != "" {
			return bad(key+".address", "must be an IPv4 or IPv6 address, got %q", a.Address)
		}
		ip = ip.Unmap()
		if j, dup := seen[ip]; dup {
			return bad(key+".address", "%s is also delivery.source_addresses[%d]", ip, j)
		}
		seen[ip] = i
		if a.EHLOName == "" {
			return bad(key+".ehlo_name", "is missing: give the host name %s introduces itself with (its reverse DNS name)", ip)
		}
		if !validDomain(a.EHLOName) {
			return bad(key+".ehlo_name", "must be a host name like \"mail1.example.net\", got %q", a.EHLOName)
		}
	}
	return nil
}

// SourceIPs are the source addresses' IPs, canonical, in the file's order
// (the dedicated IPs the API lists; the SPF record `identity records`
// prints).
func (d *Delivery) SourceIPs() []string {
	var ips []string
	for _, a := range d.SourceAddresses {
		ips = append(ips, a.Addr().String())
	}
	return ips
}
