// Package dkim signs outgoing mail with its sender's DKIM key (RFC 6376), as
// SES does, and lists the Easy DKIM public keys sesame must publish.
//
// A Signer finds the signing identity of a message from its From address
// (the address, then its domain and parent domains: the most specific
// identity with DKIM set up wins, spec §6), and signs relaxed/relaxed with
// rsa-sha256 over the header fields SES signs. It never changes the message:
// it returns the DKIM-Signature field for the caller to prepend, so a
// message is read and signed once whatever the number of recipients.
// Deciding whether to deliver, and where, is the delivery package's job.
package dkim

import (
	"bufio"
	"bytes"
	"context"
	"crypto"
	"crypto/rsa"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/mail"
	"strings"
	"sync"
	"time"

	msgdkim "github.com/emersion/go-msgauth/dkim"

	"sesame/internal/clock"
	"sesame/internal/store"
	"sesame/internal/ttlcache"
)

// signedHeaders is the header set SES signs, in its order (spec §6 wire
// form; §9: h= includes Feedback-ID), and the list management fields,
// which RFC 8058 §4 requires the signature to cover for a one-click
// unsubscribe to be honoured. Only fields present are listed in h=.
var signedHeaders = []string{"From", "To", "Subject", "Message-ID", "Date", "MIME-Version",
	"Content-Type", "Cc", "Reply-To", "Feedback-ID", "List-Unsubscribe", "List-Unsubscribe-Post"}

// resolveTTL is how long a From address's signing identity is remembered:
// the same second of staleness the rest of sesame allows after an API or
// admin change.
const resolveTTL = time.Second

// maxCached bounds each cache; past it the cache starts over.
const maxCached = 10000

// maxHeaderBytes bounds the header block read before signing starts.
const maxHeaderBytes = 1 << 20

// Signer signs messages with their sender's DKIM key. It is safe for
// concurrent use.
type Signer struct {
	st  Store
	clk clock.Clock
	log *slog.Logger

	engine engine // set before the first Sign
	auto   bool   // engine chosen by "auto": a key it refuses falls back to Go

	mu   sync.Mutex
	keys map[string]crypto.Signer // identity + key generation → parsed key
	// resolved: account/region/From address → its signing key (nil: none).
	resolved *ttlcache.Cache[string, *signingKey]
}

// signingKey is what signs one identity's mail: d=, s= and the key.
type signingKey struct {
	domain   string
	selector string
	key      crypto.Signer
}

// New returns a Signer reading identities from st.
func New(st Store, clk clock.Clock, logger *slog.Logger) *Signer {
	if clk == nil {
		clk = clock.Real{}
	}
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	return &Signer{st: st, clk: clk, log: logger, engine: goEngine,
		keys: map[string]crypto.Signer{}, resolved: ttlcache.New[string, *signingKey](clk, resolveTTL, maxCached)}
}

// UseRSA chooses the RSA engine (RSAAuto, RSAOpenSSL or RSAGo) before the
// first Sign and returns the one in effect. RSAOpenSSL fails when libcrypto
// cannot be loaded; RSAAuto then takes Go's and logs why.
func (s *Signer) UseRSA(name string) (string, error) {
	switch name {
	case RSAGo:
		s.engine, s.auto = goEngine, false
	case RSAOpenSSL:
		e, err := opensslEngine()
		if err != nil {
			return "", err
		}
		s.engine, s.auto = e, false
	case "", RSAAuto:
		e, err := opensslEngine()
		if err != nil {
			s.log.Info("dkim: signing with Go's RSA; OpenSSL's is faster but unavailable", "reason", err)
			e = goEngine
		}
		s.engine, s.auto = e, true
	default:
		return "", fmt.Errorf("dkim: unknown RSA engine %q (want %q, %q or %q)", name, RSAAuto, RSAOpenSSL, RSAGo)
	}
	return s.engine.name, nil
}

// Sign returns the DKIM-Signature header field (with CRLF) to prepend, or nil
// when the message has no signing identity. r is the whole message (CRLF
// line endings, as spooled); it is read once, to the end when signed.
func (s *Signer) Sign(ctx context.Context, accountID, region string, r io.Reader) ([]byte, error) {
	br := bufio.NewReader(r)
	header, err := readHeader(br)
	if err != nil {
		return nil, fmt.Errorf("dkim: reading the header: %w", err)
	}
	if len(header) > 0 && (header[0] == ' ' || header[0] == '\t') {
		// A message that begins with a continuation line (no header field
		// to continue, RFC 5322 §2.2.3) would fold it into the
		// DKIM-Signature put before it and break the signature: leave it
		// unsigned.
		return nil, nil
	}
	fields := parseFields(header)
	from := fromAddress(fields)
	if from == "" {
		return nil, nil
	}
	key, err := s.keyFor(ctx, accountID, region, from)
	if err != nil || key == nil {
		return nil, err
	}
	var keys []string
	for _, name := range signedHeaders {
		if fields.has(name) {
			keys = append(keys, name)
		}
	}
	signer, err := msgdkim.NewSigner(&msgdkim.SignOptions{
		Domain: key.domain, Selector: key.selector, Signer: key.key, Hash: crypto.SHA256,
		HeaderCanonicalization: msgdkim.CanonicalizationRelaxed,
		BodyCanonicalization:   msgdkim.CanonicalizationRelaxed,
		HeaderKeys:             keys,
	})
	if err != nil {
		return nil, fmt.Errorf("dkim: signer for %s: %w", key.domain, err)
	}
	if !headerEnded(header) {
		// A message that is all header has an empty body (RFC 5322 §3.5);
		// the empty line that would separate them is implied.
		header = append(header, "\r\n"...)
	}
	if _, err := signer.Write(header); err != nil {
		signer.Close()
		return nil, fmt.Errorf("dkim: signing for %s: %w", key.domain, err)
	}
	if _, err := io.Copy(signer, br); err != nil {
		signer.Close()
		return nil, fmt.Errorf("dkim: signing for %s: %w", key.domain, err)
	}
	if err := signer.Close(); err != nil {
		return nil, fmt.Errorf("dkim: signing for %s: %w", key.domain, err)
	}
	return []byte(signer.Signature()), nil
}

// keyFor returns the key that signs mail from address for the account in
// region, nil for none, through a cache of one second.
func (s *Signer) keyFor(ctx context.Context, accountID, region, address string) (*signingKey, error) {
	return s.resolved.Get(ctx, accountID+"\x00"+region+"\x00"+address, func(ctx context.Context) (*signingKey, error) {
		return s.lookup(ctx, accountID, region, address)
	})
}

// lookup walks from the address to its domain and parent domains; the first
// identity with DKIM set up decides (spec §6: the most specific identity's
// settings win). An identity without a DKIM setup of its own — a plain
// address identity, say — inherits its parent's, unless it is an address
// whose owner set signing off.
func (s *Signer) lookup(ctx context.Context, accountID, region, address string) (*signingKey, error) {
	for _, name := range store.IdentityNames(address) {
		d, err := s.st.IdentityDetails(ctx, accountID, region, name)
		if errors.Is(err, store.ErrNotFound) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("dkim: identity for %s: %w", address, err)
		}
		if d.DKIM.Origin == "" {
			// An address identity whose owner turned DKIM off sends
			// unsigned even under a signing domain (SetIdentityDkimEnabled
			// works per identity, addresses included).
			if d.Type == store.EmailAddress && d.DKIM.SigningSet && !d.DKIM.SigningEnabled {
				return nil, nil
			}
			continue
		}
		if !d.DKIM.SigningEnabled || d.DKIM.Status != store.StatusSuccess || len(d.DKIM.PrivateKey) == 0 {
			return nil, nil
		}
		return s.keyOf(d, address)
	}
	return nil, nil
}

// keyOf builds the signing key of identity d (which has DKIM set up),
// parsing the private key once per identity and key generation.
func (s *Signer) keyOf(d store.IdentityDetails, address string) (*signingKey, error) {
	domain := d.Name
	if d.Type == store.EmailAddress {
		// An address signs with its domain's name: d= must be a domain
		// (RFC 6376 §3.5) and the From domain must be it or under it.
		domain = strings.ToLower(address[strings.LastIndexByte(address, '@')+1:])
	}
	selector := d.DKIM.Selector
	if d.DKIM.Origin == store.DKIMOriginAWS {
		if len(d.DKIM.Tokens) == 0 {
			return nil, nil
		}
		// Easy DKIM: SES signs with its first token as the selector;
		// <token>._domainkey.<domain> is a CNAME to the published key.
		selector = d.DKIM.Tokens[0]
	}
	if selector == "" {
		return nil, nil
	}
	kk := d.AccountID + "\x00" + d.Region + "\x00" + d.Name + "\x00" + d.DKIM.Origin + "\x00" +
		selector + "\x00" + d.DKIM.KeyGenerated.UTC().Format(time.RFC3339Nano)
	s.mu.Lock()
	key, ok := s.keys[kk]
	s.mu.Unlock()
	if !ok {
		parsed, err := ParsePrivateKey(d.DKIM.PrivateKey)
		if err != nil {
			return nil, fmt.Errorf("dkim: key of %s: %w", d.Name, err)
		}
		key = parsed
		if rk, ok := parsed.(*rsa.PrivateKey); ok {
			wrapped, err := s.engine.wrap(rk)
			switch {
			case err == nil:
				key = wrapped
			case s.auto:
				s.log.Warn("dkim: signing with Go's RSA for this key", "identity", d.Name, "err", err)
			default:
				return nil, fmt.Errorf("dkim: key of %s: %w", d.Name, err)
			}
		}
		s.mu.Lock()
		if len(s.keys) >= maxCached {
			clear(s.keys)
		}
		s.keys[kk] = key
		s.mu.Unlock()
	}
	return &signingKey{domain: domain, selector: selector, key: key}, nil
}

// ParsePrivateKey reads a stored DKIM key (PKCS#8 DER, PKCS#1 accepted).
func ParsePrivateKey(der []byte) (crypto.Signer, error) {
	if k, err := x509.ParsePKCS8PrivateKey(der); err == nil {
		signer, ok := k.(crypto.Signer)
		if !ok {
			return nil, fmt.Errorf("unsupported key type %T", k)
		}
		return signer, nil
	}
	k, err := x509.ParsePKCS1PrivateKey(der)
	if err != nil {
		return nil, fmt.Errorf("not a PKCS#8 or PKCS#1 private key: %w", err)
	}
	return k, nil
}

// readHeader returns the header block up to and including the empty line
// that ends it (or the whole message when it has no body).
func readHeader(br *bufio.Reader) ([]byte, error) {
	var header []byte
	for {
		line, err := br.ReadSlice('\n')
		header = append(header, line...)
		if len(header) > maxHeaderBytes {
			return nil, fmt.Errorf("header longer than %d bytes", maxHeaderBytes)
		}
		if errors.Is(err, bufio.ErrBufferFull) {
			continue
		}
		if err == io.EOF {
			return header, nil
		}
		if err != nil {
			return nil, err
		}
		if len(line) == 1 || (len(line) == 2 && line[0] == '\r') {
			return header, nil
		}
	}
}

// headerEnded reports whether header ends with the empty line.
func headerEnded(header []byte) bool {
	return bytes.HasSuffix(header, []byte("\n\r\n")) || bytes.HasSuffix(header, []byte("\n\n")) ||
		string(header) == "\r\n" || string(header) == "\n"
}

// fields are a header's fields: lower-case name → unfolded values.
type fields map[string][]string

func (f fields) has(name string) bool { return len(f[strings.ToLower(name)]) > 0 }

// parseFields splits a raw header block into fields, unfolding
// continuation lines (RFC 5322 §2.2.3).
func parseFields(header []byte) fields {
	out := fields{}
	var name string
	var value []byte
	flush := func() {
		if name != "" {
			out[name] = append(out[name], strings.TrimSpace(string(value)))
		}
		name, value = "", nil
	}
	for _, line := range bytes.SplitAfter(header, []byte("\n")) {
		trimmed := bytes.TrimRight(line, "\r\n")
		if len(trimmed) == 0 {
			continue
		}
		if trimmed[0] == ' ' || trimmed[0] == '\t' {
			value = append(value, trimmed...)
			continue
		}
		flush()
		colon := bytes.IndexByte(trimmed, ':')
		if colon <= 0 {
			continue
		}
		name = strings.ToLower(strings.TrimSpace(string(trimmed[:colon])))
		value = append([]byte(nil), trimmed[colon+1:]...)
	}
	flush()
	return out
}

// fromAddress is the first address of the From field, "" when there is none
// or it does not parse.
func fromAddress(f fields) string {
	values := f["from"]
	if len(values) == 0 {
		return ""
	}
	list, err := mail.ParseAddressList(values[0])
	if err == nil && len(list) > 0 {
		return list[0].Address
	}
	// A display name net/mail cannot decode (an unknown charset in an
	// encoded word) still has its address in angle brackets.
	v := values[0]
	if lt, gt := strings.LastIndexByte(v, '<'), strings.LastIndexByte(v, '>'); lt >= 0 && gt > lt {
		if a, err := mail.ParseAddress(v[lt : gt+1]); err == nil {
			return a.Address
		}
	}
	return ""
}
