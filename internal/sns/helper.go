package sns

import (
	"context"
	"crypto"
	"crypto/rsa"
	"crypto/x509"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"time"

	"sesame/internal/lowprio"
	"sesame/internal/store"
)

// The helper: signing (RSA, about a quarter of a millisecond of CPU a
// notification) and POSTing HTTP(S) notifications run in a process at the
// lowest CPU priority (internal/lowprio), so under a burst that saturates
// the machine mail goes first and notifications trail, catching up when
// there is CPU to spare. The lanes, retries and the store stay in the
// server; the helper only makes attempts.

// HelperSubcommand is the hidden subcommand of the sesame binary that runs
// ServeHelper.
const HelperSubcommand = "_sns-helper"

// helperInit is the helper's init frame.
type helperInit struct {
	Engine  string // internal/dkim's RSA engine name
	Key     []byte // PKCS#8
	ID      string
	CertURL string
	BaseURL string
}

// Helper requests: an op byte, then the row.
const (
	opEnvelope = 'E' // answer: the envelope
	opPost     = 'P' // answer: the outcome (encodeOutcome)
)

// Engines gives the helper the RSA engine it is named (cmd/sesame passes
// internal/dkim's RSAEngine).
type Engines func(name string) (func(*rsa.PrivateKey) (crypto.Signer, error), error)

// ServeHelper is the helper process's side: it answers the server's
// requests until stdin closes.
func ServeHelper(in io.Reader, out io.Writer, engines Engines) error {
	return lowprio.Serve(in, out, func(init []byte) (lowprio.Handler, error) {
		var hi helperInit
		if err := json.Unmarshal(init, &hi); err != nil {
			return nil, fmt.Errorf("sns helper: init: %w", err)
		}
		k, err := x509.ParsePKCS8PrivateKey(hi.Key)
		if err != nil {
			return nil, fmt.Errorf("sns helper: key: %w", err)
		}
		key, ok := k.(*rsa.PrivateKey)
		if !ok {
			return nil, errors.New("sns helper: the key is not RSA")
		}
		newSigner, err := engines(hi.Engine)
		if err != nil {
			return nil, fmt.Errorf("sns helper: %w", err)
		}
		signer, err := newSigner(key)
		if err != nil {
			return nil, fmt.Errorf("sns helper: %w", err)
		}
		c := &courier{sign: newSigning(hi.ID, nil, hi.CertURL, signer), baseURL: hi.BaseURL, client: newHTTPClient()}
		return func(req []byte, started func()) ([]byte, error) {
			if len(req) == 0 {
				return nil, errors.New("empty request")
			}
			d, err := decodeRow(req[1:])
			if err != nil {
				return nil, err
			}
			body, err := c.envelope(&d)
			started()
			switch {
			case req[0] == opEnvelope:
				return body, err
			case req[0] != opPost:
				return nil, fmt.Errorf("unknown op %q", req[0])
			case err != nil:
				return encodeOutcome(outcome{reason: err.Error()}), nil
			}
			return encodeOutcome(c.post(context.Background(), &d, body)), nil
		}, nil
	})
}

// startHelper starts the helper for the key and checks it works with one
// envelope; nil (and the reason) when it does not.
func startHelper(cfg Config, key *rsa.PrivateKey, sign *signing) (*lowprio.Client, error) {
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, err
	}
	init, err := json.Marshal(helperInit{Engine: cfg.HelperEngine, Key: der, ID: sign.id, CertURL: sign.certURL,
		BaseURL: cfg.BaseURL})
	if err != nil {
		return nil, err
	}
	h := lowprio.New(cfg.Helper[0], cfg.Helper[1:], init, cfg.Logger)
	probe := store.SNSDelivery{Kind: "Notification", MessageID: "probe", TopicARN: "arn:aws:sns:us-east-1:000000000000:probe",
		Message: "probe", SignatureVersion: "2", Published: time.Unix(0, 0)}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	got, err := h.Call(ctx, append([]byte{opEnvelope}, encodeRow(&probe)...))
	if err == nil {
		var want []byte
		if want, err = (&courier{sign: sign, baseURL: cfg.BaseURL}).envelope(&probe); err == nil && string(got) != string(want) {
			err = errors.New("its envelope differs from the server's")
		}
	}
	if err != nil {
		h.Close()
		return nil, err
	}
	return h, nil
}

// viaHelper says whether the helper makes p's attempts (HTTP(S) rows).
func (s *Service) viaHelper(d *store.SNSDelivery) bool {
	return s.helper.Load() != nil && d.Protocol != "email" && d.Protocol != "email-json" && d.Protocol != "sqs"
}

// postViaHelper makes one attempt at an HTTP(S) row in the helper, or in
// the server when no helper can be started.
func (s *Service) postViaHelper(ctx context.Context, d *store.SNSDelivery) outcome {
	b, err := s.helper.Load().Call(ctx, append([]byte{opPost}, encodeRow(d)...))
	if s.helperUnavailable(err) {
		body, err := s.courier.envelope(d)
		if err != nil {
			return outcome{reason: err.Error()}
		}
		return s.courier.post(ctx, d, body)
	}
	if err != nil {
		return outcome{reason: err.Error()}
	}
	o, err := decodeOutcome(b)
	if err != nil {
		return outcome{reason: err.Error()}
	}
	return o
}

// envelope is a row's signed envelope, made by the helper when there is one.
func (s *Service) envelope(d *store.SNSDelivery) ([]byte, error) {
	h := s.helper.Load()
	if h == nil {
		return s.courier.envelope(d)
	}
	b, err := h.Call(context.Background(), append([]byte{opEnvelope}, encodeRow(d)...))
	if s.helperUnavailable(err) {
		return s.courier.envelope(d)
	}
	return b, err
}

// helperUnavailable says whether err means no helper could be started (the
// server then does the work itself), warning about it once a minute.
func (s *Service) helperUnavailable(err error) bool {
	if !errors.Is(err, lowprio.ErrUnavailable) {
		return false
	}
	if last := s.helperWarned.Load(); time.Since(time.Unix(0, last)) > time.Minute &&
		s.helperWarned.CompareAndSwap(last, time.Now().UnixNano()) {
		s.log.Warn("sns: no low-priority helper; the server signs and posts itself", "err", err)
	}
	return true
}

// HelperStarved says whether the helper has a queue of attempts it has no
// CPU for: the server is busy with mail, and feeding it more only costs.
// The events publisher holds back while it is.
func (s *Service) HelperStarved() bool {
	h := s.helper.Load()
	return h != nil && h.Queued() >= helperStarvedAt
}

// helperStarvedAt: attempts sent to the helper and not yet signed.
const helperStarvedAt = 8

// encodeRow: the row's fields as length-prefixed strings, in a fixed order.
func encodeRow(d *store.SNSDelivery) []byte {
	fields := []string{d.SubscriptionARN, d.Endpoint, d.Protocol, d.Kind, d.MessageID, d.TopicARN, d.Subject,
		d.Message, d.Token, d.SignatureVersion}
	n := 1 + 8
	for _, f := range fields {
		n += 4 + len(f)
	}
	b := make([]byte, 0, n)
	raw := byte(0)
	if d.Raw {
		raw = 1
	}
	b = append(b, raw)
	b = binary.BigEndian.AppendUint64(b, uint64(d.Published.UnixNano()))
	for _, f := range fields {
		b = binary.BigEndian.AppendUint32(b, uint32(len(f)))
		b = append(b, f...)
	}
	return b
}

func decodeRow(b []byte) (store.SNSDelivery, error) {
	var d store.SNSDelivery
	if len(b) < 9 {
		return d, errors.New("sns helper: short row")
	}
	d.Raw = b[0] == 1
	d.Published = time.Unix(0, int64(binary.BigEndian.Uint64(b[1:9]))).UTC()
	b = b[9:]
	for _, f := range []*string{&d.SubscriptionARN, &d.Endpoint, &d.Protocol, &d.Kind, &d.MessageID, &d.TopicARN,
		&d.Subject, &d.Message, &d.Token, &d.SignatureVersion} {
		if len(b) < 4 {
			return d, errors.New("sns helper: short row")
		}
		n := binary.BigEndian.Uint32(b)
		if uint64(len(b)-4) < uint64(n) {
			return d, errors.New("sns helper: short row")
		}
		*f, b = string(b[4:4+n]), b[4+n:]
	}
	return d, nil
}

func encodeOutcome(o outcome) []byte {
	k := byte(0)
	switch {
	case o.ok:
		k = 1
	case o.drop:
		k = 2
	}
	return append([]byte{k}, o.reason...)
}

func decodeOutcome(b []byte) (outcome, error) {
	if len(b) == 0 {
		return outcome{}, errors.New("sns helper: empty outcome")
	}
	return outcome{ok: b[0] == 1, drop: b[0] == 2, reason: string(b[1:])}, nil
}
