package awsauth

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"time"

	"sesame/internal/seserr"
)

// ErrUnknownKey is what a KeyLookup returns for an access key id it does not
// know (or a key that is not active).
var ErrUnknownKey = errors.New("awsauth: unknown access key")

// KeyLookup finds the secret and account of an access key id.
type KeyLookup func(ctx context.Context, accessKeyID string) (secret, accountID string, err error)

// Principal is who signed a request, and in which region namespace.
type Principal struct {
	AccessKeyID string
	AccountID   string
	Region      string // the credential scope's region
	Service     string // the credential scope's service ("ses" or "sns")
}

// MaxSkew is how far a request's signing time may be from the server's
// clock: AWS's SigV4 window of 5 minutes. SES itself has been observed to
// allow 15; the tighter window limits how long a captured request can be
// replayed (issue 9).
const MaxSkew = 5 * time.Minute

// Service is the credential scope's service name: "ses" for both SES APIs
// (v1 Query and v2 REST-JSON sign with the same scope).
const Service = "ses"

// ServiceSNS is the scope's service name of the SNS-compatible topics API,
// signed with the same keys; callers route on Principal.Service.
const ServiceSNS = "sns"

const (
	sigAlgorithm    = "AWS4-HMAC-SHA256"
	scopeEnd        = "aws4_request"
	amzDateFormat   = "20060102T150405Z"
	unsignedPayload = "UNSIGNED-PAYLOAD"
)

// VerifyRequest checks an AWS Signature Version 4 request, in the header form
// (Authorization: AWS4-HMAC-SHA256 …) or the presigned query form, against
// the body the server read, and returns who signed it. Failures are
// *seserr.Error values with AWS's codes (IncompleteSignature,
// MissingAuthenticationToken, InvalidClientTokenId, SignatureDoesNotMatch,
// RequestExpired); a lookup failure other than ErrUnknownKey is an internal
// failure. It derives the signing key afresh; a long-lived Verifier caches it.
func VerifyRequest(ctx context.Context, r *http.Request, body []byte, lookup KeyLookup, now time.Time) (Principal, error) {
	var v *Verifier
	return v.Verify(ctx, r, body, lookup, now)
}

// Verifier is VerifyRequest with a cache of derived signing keys: a key
// depends only on (secret, day, region, service), so a busy client re-uses
// one all day and the four HMACs of the derivation drop out of the hot path.
// The zero value is ready; a nil *Verifier verifies without caching.
type Verifier struct {
	mu   sync.Mutex
	keys map[signingKeyID][32]byte
}

// maxCachedKeys bounds the cache; when full it is emptied (a new day makes
// every entry stale anyway), which keeps it from growing with junk scopes.
const maxCachedKeys = 4096

type signingKeyID struct{ secret, date, region, service string }

// Verify is VerifyRequest using v's key cache: Check, then Finish.
func (v *Verifier) Verify(ctx context.Context, r *http.Request, body []byte, lookup KeyLookup, now time.Time) (Principal, error) {
	p, err := v.Check(ctx, r, lookup, now)
	if err != nil {
		return Principal{}, err
	}
	return v.Finish(p, r, body)
}

// Pending is a request whose signature has been checked in every way that
// needs no body: complete, current, signed by a known key, with a payload
// that will be signed. Finish checks the signature itself over the body.
type Pending struct {
	sig       signature
	secret    string
	principal Principal
}

// Principal is who claims to have signed the request: known key and
// account, not yet proven by the signature.
func (p *Pending) Principal() Principal { return p.principal }

// Check does everything but the signature, so a server can refuse before it
// reads a body: the Authorization header (or presigned query) complete and
// well formed, the signing time within MaxSkew, the key known and active.
// A request that declares UNSIGNED-PAYLOAD, and a presigned request with a
// body, are refused: SES signs every payload, and a presigned URL signs
// only its query, so a body would be parameters nobody signed.
func (v *Verifier) Check(ctx context.Context, r *http.Request, lookup KeyLookup, now time.Time) (*Pending, error) {
	sig, err := parseSignature(r)
	if err != nil {
		return nil, err
	}
	if err := sig.checkTime(now); err != nil {
		return nil, err
	}
	if !sig.presigned && r.Header.Get("X-Amz-Content-Sha256") == unsignedPayload {
		return nil, seserr.UnsignedPayload()
	}
	if sig.presigned && r.ContentLength != 0 {
		return nil, seserr.PresignedWithBody()
	}
	secret, account, lerr := lookup(ctx, sig.accessKeyID)
	switch {
	case errors.Is(lerr, ErrUnknownKey):
		return nil, seserr.InvalidCredentials().Wrap(fmt.Errorf("awsauth: access key %q: %w", sig.accessKeyID, lerr))
	case lerr != nil:
		return nil, seserr.TemporaryFailure().Wrap(fmt.Errorf("awsauth: look up access key %q: %w", sig.accessKeyID, lerr))
	}
	return &Pending{sig: sig, secret: secret,
		principal: Principal{AccessKeyID: sig.accessKeyID, AccountID: account, Region: sig.region, Service: sig.service}}, nil
}

// Finish checks the signature of a request Check passed, over its body.
func (v *Verifier) Finish(p *Pending, r *http.Request, body []byte) (Principal, error) {
	sig := &p.sig
	if sig.presigned && len(body) > 0 {
		return Principal{}, seserr.PresignedWithBody()
	}
	payload, err := sig.payloadHash(r, body)
	if err != nil {
		return Principal{}, err
	}
	id := signingKeyID{p.secret, sig.scopeDate, sig.region, sig.service}
	key, cached := v.cachedKey(id)
	if !cached {
		key = deriveSigningKey(id)
	}
	if !sig.matches(r, body, payload, &key) {
		return Principal{}, seserr.SignatureDoesNotMatch()
	}
	if !cached {
		v.keep(id, key) // only keys that verified: junk scopes never fill the cache
	}
	return p.principal, nil
}

func (v *Verifier) cachedKey(id signingKeyID) ([32]byte, bool) {
	if v == nil {
		return [32]byte{}, false
	}
	v.mu.Lock()
	defer v.mu.Unlock()
	k, ok := v.keys[id]
	return k, ok
}

func (v *Verifier) keep(id signingKeyID, key [32]byte) {
	if v == nil {
		return
	}
	v.mu.Lock()
	defer v.mu.Unlock()
	if v.keys == nil || len(v.keys) >= maxCachedKeys {
		v.keys = make(map[signingKeyID][32]byte)
	}
	v.keys[id] = key
}

// deriveSigningKey is SigV4's kSigning: HMAC chain over the scope, keyed
// first with "AWS4"+secret.
func deriveSigningKey(id signingKeyID) [32]byte {
	var scratch [128]byte
	k := append(scratch[:0], "AWS4"...)
	k = append(k, id.secret...)
	kDate := macSHA256(k, id.date)
	kRegion := macSHA256(kDate[:], id.region)
	kService := macSHA256(kRegion[:], id.service)
	return macSHA256(kService[:], scopeEnd)
}

// payloadHash is the hash the client signed the body with: its declared
// x-amz-content-sha256 (which must then match the body, or a tampered body
// would pass) or the body's own hash. A presigned request carries no body
// (Check refuses one); presigners sign it as UNSIGNED-PAYLOAD or as the
// empty body's hash, and matches tries both.
func (s *signature) payloadHash(r *http.Request, body []byte) (payloadHash, error) {
	declared := r.Header.Get("X-Amz-Content-Sha256")
	if declared == "" && s.presigned {
		declared = s.query.get("X-Amz-Content-Sha256")
	}
	switch declared {
	case unsignedPayload:
		if !s.presigned {
			return payloadHash{}, seserr.UnsignedPayload()
		}
		return payloadHash{declared: unsignedPayload}, nil
	case "":
		if s.presigned {
			return payloadHash{declared: unsignedPayload, bodyAlternative: true}, nil
		}
		return bodyHash(body), nil
	}
	// The body's hash is no secret: a plain comparison will do.
	if h := bodyHash(body); string(h.hex[:]) != declared {
		return payloadHash{}, seserr.SignatureRefused("The provided 'x-amz-content-sha256' header does not match what was computed.")
	}
	return payloadHash{declared: declared}, nil
}

// payloadHash is the canonical request's last line: a declared value, or
// the hex of the body's hash (kept in an array: no allocation).
type payloadHash struct {
	declared        string
	hex             [64]byte
	bodyAlternative bool // presigned, nothing declared: the body's hash may have been signed instead
}

func (p *payloadHash) appendTo(buf []byte) []byte {
	if p.declared != "" {
		return append(buf, p.declared...)
	}
	return append(buf, p.hex[:]...)
}

func bodyHash(body []byte) payloadHash {
	var p payloadHash
	sum := sha256.Sum256(body)
	hex.Encode(p.hex[:], sum[:])
	return p
}

// matches recomputes the signature and compares it in constant time. The
// first try is the canonical form AWS and botocore use; only on a mismatch
// are the variants other real signers produce tried: the path as sent, not
// dot-normalised (aws-sdk-go-v2 signs it so), and for presigned requests the
// body's hash instead of UNSIGNED-PAYLOAD.
func (s *signature) matches(r *http.Request, body []byte, payload payloadHash, key *[32]byte) bool {
	want, ok := decodeHexSignature(s.signature)
	if !ok {
		return false
	}
	raw := rawPath(r)
	norm := normalizePath(raw)
	uris := [2]string{norm, raw}
	nURI := 1
	if raw != norm {
		nURI = 2
	}
	payloads := [2]payloadHash{payload}
	nPayload := 1
	if payload.bodyAlternative {
		payloads[1] = bodyHash(body)
		nPayload = 2
	}
	var scratch [1024]byte
	for i := range nURI {
		for j := range nPayload {
			cr := s.canonicalRequest(scratch[:0], r, body, uris[i], &payloads[j])
			got := s.sign(key, sha256.Sum256(cr))
			if subtle.ConstantTimeCompare(got[:], want[:]) == 1 {
				return true
			}
		}
	}
	return false
}

// sign is hex-free: HMAC(key, StringToSign) as raw bytes, compared with the
// decoded client signature.
func (s *signature) sign(key *[32]byte, canonicalHash [32]byte) [32]byte {
	var scratch [256]byte
	sts := append(scratch[:0], sigAlgorithm...)
	sts = append(sts, '\n')
	sts = append(sts, s.amzDate...)
	sts = append(sts, '\n')
	sts = append(sts, s.scope...)
	sts = append(sts, '\n')
	sts = hex.AppendEncode(sts, canonicalHash[:])
	return macSHA256Bytes(key[:], sts)
}

// decodeHexSignature turns the client's 64 hex digits into bytes; anything
// else cannot match.
func decodeHexSignature(sig string) ([32]byte, bool) {
	var out [32]byte
	if len(sig) != 64 {
		return out, false
	}
	for i := range 32 {
		hi, ok1 := fromHex(sig[2*i])
		lo, ok2 := fromHex(sig[2*i+1])
		if !ok1 || !ok2 {
			return out, false
		}
		out[i] = hi<<4 | lo
	}
	return out, true
}

func fromHex(c byte) (byte, bool) {
	switch {
	case c >= '0' && c <= '9':
		return c - '0', true
	case c >= 'a' && c <= 'f':
		return c - 'a' + 10, true
	case c >= 'A' && c <= 'F':
		return c - 'A' + 10, true
	}
	return 0, false
}

// macSHA256 is HMAC-SHA256 (RFC 2104) over a string message without heap
// allocations: crypto/hmac allocates two hash states per call, and a request
// needs up to five MACs.
func macSHA256(key []byte, msg string) [32]byte {
	var scratch [128]byte
	return macSHA256Bytes(key, append(scratch[:0], msg...))
}

func macSHA256Bytes(key, msg []byte) [32]byte {
	const block = 64
	var k [block]byte
	if len(key) > block {
		sum := sha256.Sum256(key)
		copy(k[:], sum[:])
	} else {
		copy(k[:], key)
	}
	var inner [block + 320]byte
	in := inner[:0]
	for _, b := range k {
		in = append(in, b^0x36)
	}
	in = append(in, msg...)
	innerSum := sha256.Sum256(in)
	var outer [block + 32]byte
	for i, b := range k {
		outer[i] = b ^ 0x5c
	}
	copy(outer[block:], innerSum[:])
	return sha256.Sum256(outer[:])
}
