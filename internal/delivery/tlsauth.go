package delivery

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"log/slog"
	"time"

	"sesame/internal/dane"
	"sesame/internal/mtasts"
	"sesame/internal/outcome"
)

// Outbound TLS authentication: which MX hosts a transaction may use and how
// each one's certificate is checked, as Postfix and mox do.
//
//   - DANE (RFC 7672), when the operator's resolver validates DNSSEC: a
//     host with a secure TLSA RRset must do TLS, and its certificate must
//     match a usable record; otherwise the host is not used now (defer).
//   - MTA-STS (RFC 8461) for the recipient domain: in enforce mode only
//     the MX hosts the policy names are used, TLS is required and the
//     certificate must be valid (WebPKI) for the MX host name; failures
//     defer (§5.1). In testing mode mail goes anyway and failures are
//     logged (sesame sends no TLSRPT reports).
//   - Otherwise opportunistic TLS, unverified, as before.
//
// DANE takes precedence over MTA-STS for a host that has TLSA records
// (RFC 8461 §2): such a host is used under DANE even where the MTA-STS
// policy does not name it. A configuration set's TlsPolicy REQUIRE adds
// "TLS required" to whatever applies.

// TLS modes, as reported in the log ("tls").
const (
	tlsDANE          = "dane"
	tlsMTASTS        = "mta-sts"
	tlsOpportunistic = "opportunistic"
	tlsNone          = "none" // the receiver offered no STARTTLS
)

// TLSAuth finds the TLS policy of a transaction's MX hosts. A nil
// *TLSAuth is opportunistic TLS only.
type TLSAuth struct {
	MTASTS *mtasts.Cache  // nil: MTA-STS off
	DANE   *dane.Resolver // nil: DANE off
	Roots  *x509.CertPool // MTA-STS hosts' trust anchors; nil: the system's
	Logger *slog.Logger
}

// hostTLS is how one MX host's TLS is treated.
type hostTLS struct {
	mode    string
	require bool // no STARTTLS (or a failed handshake) fails the connection
	enforce bool // a certificate that does not verify fails the connection
	// why names what requires TLS, for the failure text.
	why   string
	dane  []dane.Record
	roots *x509.CertPool
}

var opportunistic = hostTLS{mode: tlsOpportunistic}

// tlsResult is what a handshake established.
type tlsResult struct {
	verified bool
	err      error // the verification failure (testing mode: not fatal)
}

// plan decides the TLS policy of each of tx's hops and drops the hops the
// policies forbid. The failure (temporary) is returned when none is left.
func (a *TLSAuth) plan(ctx context.Context, tx *Transaction, hops []Hop) ([]Hop, *outcome.Failure) {
	if a == nil || (a.MTASTS == nil && a.DANE == nil) {
		return hops, nil
	}
	log := a.Logger
	if log == nil {
		log = slog.Default()
	}
	var policy *mtasts.Policy
	if a.MTASTS != nil {
		policy = a.MTASTS.Get(ctx, tx.Domain)
	}
	tx.tls = map[string]hostTLS{}
	kept := hops[:0:0]
	var last *outcome.Failure
	for _, h := range hops {
		if a.DANE != nil {
			p, err := a.DANE.Lookup(ctx, tx.Domain, h.Host)
			if err != nil {
				// RFC 7672 §2.2: a secure host whose TLSA records cannot be
				// looked up is not used now.
				log.Warn("DANE: TLSA lookup failed; MX host skipped", "domain", tx.Domain, "mx", h.Host, "err", err)
				last = &outcome.Failure{Code: 451, Enhanced: "4.7.5", Text: fmt.Sprintf("DANE: %v", err), MTA: h.Host}
				continue
			}
			if p.Required {
				tx.tls[h.Host] = hostTLS{mode: tlsDANE, require: true, enforce: len(p.Records) > 0, why: "its DANE TLSA records", dane: p.Records}
				kept = append(kept, h)
				continue
			}
		}
		if policy != nil {
			enforce := policy.Mode == mtasts.ModeEnforce
			if !policy.Matches(h.Host) {
				if enforce {
					last = &outcome.Failure{Code: 451, Enhanced: "4.7.5", Text: fmt.Sprintf("MX host %s is not in the MTA-STS policy of %s", h.Host, tx.Domain), MTA: h.Host}
					continue
				}
				log.Warn("MTA-STS testing: MX host not in the policy; used all the same", "domain", tx.Domain, "mx", h.Host)
			}
			tx.tls[h.Host] = hostTLS{mode: tlsMTASTS, require: enforce, enforce: enforce, why: "the MTA-STS policy of " + tx.Domain, roots: a.Roots}
		}
		kept = append(kept, h)
	}
	if len(kept) == 0 {
		if last == nil {
			last = &outcome.Failure{Code: 451, Enhanced: "4.4.4", Text: "no mail exchanger to try"}
		}
		return nil, last
	}
	return kept, nil
}

// tlsFor is the policy for one of tx's hosts, with the configuration
// set's TLS requirement added.
func (tx *Transaction) tlsFor(host string) hostTLS {
	h, ok := tx.tls[host]
	if !ok {
		h = opportunistic
	}
	if tx.RequireTLS && !h.require {
		h.require, h.why = true, "the configuration set"
	}
	return h
}

// accepts reports whether the pooled connection c may carry a transaction
// under h: opened under the same policy, with TLS when required and
// verified when verification is enforced.
func (h hostTLS) accepts(c *conn) bool {
	return c.mode == h.mode && (!h.require || c.tls) && (!h.enforce || c.verified)
}

// config is the TLS client configuration for host under h; res receives
// the verification's result. Go's own verification is off because what
// "valid" means depends on the policy (DANE's rules are not WebPKI's).
func (h hostTLS) config(host string, res *tlsResult) *tls.Config {
	return &tls.Config{
		ServerName:         host,
		InsecureSkipVerify: true, // #nosec G402 -- VerifyConnection checks what the policy asks
		VerifyConnection: func(cs tls.ConnectionState) error {
			res.verified, res.err = h.verify(cs, host)
			if res.err != nil && h.enforce {
				return res.err
			}
			return nil
		},
	}
}

// verify checks cs under h: verified says the certificate was
// authenticated; err why not, when the policy wanted it.
func (h hostTLS) verify(cs tls.ConnectionState, host string) (bool, error) {
	switch h.mode {
	case tlsDANE:
		if len(h.dane) == 0 {
			return false, nil // RFC 7672 §2.2: only unusable records: TLS, unauthenticated
		}
		if err := dane.Verify(h.dane, cs, host, time.Now()); err != nil {
			return false, err
		}
		return true, nil
	case tlsMTASTS:
		if len(cs.PeerCertificates) == 0 {
			return false, fmt.Errorf("mta-sts: no certificate presented")
		}
		inter := x509.NewCertPool()
		for _, c := range cs.PeerCertificates[1:] {
			inter.AddCert(c)
		}
		if _, err := cs.PeerCertificates[0].Verify(x509.VerifyOptions{DNSName: host, Roots: h.roots, Intermediates: inter}); err != nil {
			return false, fmt.Errorf("mta-sts: %w", err)
		}
		return true, nil
	}
	return false, nil
}

// logSession reports how a new connection's TLS went: at Info for the
// authenticated policies, Warn for a testing-mode failure, Debug for
// opportunistic TLS.
func (h hostTLS) logSession(log *slog.Logger, host, addr string, c *conn, res *tlsResult) {
	mode := c.mode
	if !c.tls {
		mode = tlsNone
	}
	args := []any{"mx", host, "addr", addr, "tls", mode, "verified", c.verified}
	switch {
	case res.err != nil:
		log.Warn("TLS certificate not verified (MTA-STS testing mode: delivering anyway)", append(args, "err", res.err)...)
	case h.mode == tlsOpportunistic:
		log.Debug("MX session", args...)
	default:
		log.Info("MX session", args...)
	}
}
