package sending

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/mail"
	"strings"
	"sync"

	"sesame/internal/mailmsg"
	"sesame/internal/seserr"
)

// maxHeaderBytes bounds the header section sending reads: a message whose
// header section is longer is refused rather than buffered without end.
const maxHeaderBytes = 1 << 20

// uniqueHeaders are the fields SES accepts at most once (spec §9, "Must
// appear at most once"), spelled as SES names them in its reply.
var uniqueHeaders = [...]string{
	"Accept-Language", "acceptLanguage", "Archived-At", "Auto-Submitted", "Bounces-to", "Comments",
	"Content-Alternative", "Content-Base", "Content-Class", "Content-Description",
	"Content-Disposition", "Content-Duration", "Content-ID", "Content-Language", "Content-Length",
	"Content-Location", "Content-MD5", "Content-Transfer-Encoding", "Content-Type",
	"Date", "Delivered-To", "Disposition-Notification-Options", "Disposition-Notification-To",
	"DKIM-Signature", "DomainKey-Signature", "Errors-To", "From", "Importance", "In-Reply-To",
	"Keywords", "List-Archive", "List-Help", "List-Id", "List-Owner", "List-Post", "List-Subscribe",
	"List-Unsubscribe", "Message-Context", "Message-ID", "MIME-Version", "Organization",
	"Original-From", "Original-Message-ID", "Original-Recipient", "Original-Subject", "Precedence",
	"Priority", "References", "Reply-To", "Return-Path", "Return-Receipt-To", "Sender",
	"Solicitation", "Sensitivity", "Subject", "Thread-Index", "Thread-Topic", "User-Agent", "VBR-Info",
}

// The seen-set of unique headers is one uint64.
var _ [64 - len(uniqueHeaders)]struct{}

// headerRules is the read-only lookup built once per Sender: lower-case
// field name → index into uniqueHeaders.
type headerRules struct {
	unique map[string]int
}

func newHeaderRules() *headerRules {
	r := &headerRules{unique: make(map[string]int, len(uniqueHeaders))}
	for i, name := range uniqueHeaders {
		r.unique[strings.ToLower(name)] = i
	}
	return r
}

// header is what Submit needs to know about a message's header section.
type header struct {
	from, sender, returnPath       string // unfolded raw values
	hasFrom, hasSender, hasRetPath bool
	lf                             bool // lines end in bare LF (API raw messages may)

	// SES's control headers (control.go), first instance of each.
	configSet, tags       string
	hasConfigSet, hasTags bool
	// Sending authorization's (authorize.go); "" when absent.
	sourceArn, fromArn, returnPathArn string
	listMgmt                          string // X-SES-LIST-MANAGEMENT-OPTIONS
	hasListMgmt                       bool
}

// bufPool recycles header read buffers: Submit is on the hot path.
var bufPool = sync.Pool{New: func() any { b := make([]byte, 0, 8<<10); return &b }}

var errHeaderTooLong = errors.New("sending: header section longer than 1 MiB")

// readHeaderSection reads r up to the blank line ending the header section
// (RFC 5322 §2.1) and returns the section without that blank line, in
// *buf. A message without a body is all header.
func readHeaderSection(r io.Reader, buf *[]byte) ([]byte, error) {
	b := (*buf)[:0]
	scanned := 0
	for {
		if len(b) == cap(b) {
			if cap(b) >= maxHeaderBytes+4 {
				return nil, errHeaderTooLong
			}
			b = append(b, 0)[:len(b)]
		}
		n, err := r.Read(b[len(b):min(cap(b), maxHeaderBytes+4)])
		b = b[:len(b)+n]
		*buf = b
		if end := mailmsg.HeaderEnd(b, scanned); end >= 0 {
			return b[:end], nil
		}
		scanned = max(0, len(b)-3)
		if err == io.EOF {
			return b, nil
		}
		if err != nil {
			return nil, fmt.Errorf("sending: reading header section: %w", err)
		}
		if len(b) > maxHeaderBytes {
			return nil, errHeaderTooLong
		}
	}
}

// parse scans the fields of a header section: it refuses repeated unique
// fields and keeps the values Submit needs. It allocates only for the From,
// Sender and Return-Path values.
func (hr *headerRules) parse(sec []byte) (header, error) {
	var h header
	var seen uint64
	first := true
	for len(sec) > 0 {
		// One field: a name line and its continuation lines.
		end := mailmsg.FieldEnd(sec)
		field := sec[:end]
		sec = sec[end:]
		if first {
			h.lf = !bytes.Contains(field, []byte("\r\n"))
			first = false
		}
		colon := bytes.IndexByte(field, ':')
		if colon <= 0 || bytes.IndexByte(field[:colon], '\n') >= 0 {
			// Not a field (no name): the header section ends here, as
			// lenient parsers do; what follows is body to us.
			break
		}
		name := bytes.TrimRight(field[:colon], " \t")
		if len(name) > mailmsg.MaxNameLen {
			continue
		}
		var lower [mailmsg.MaxNameLen]byte
		for i, c := range name {
			if 'A' <= c && c <= 'Z' {
				c += 'a' - 'A'
			}
			lower[i] = c
		}
		idx, ok := hr.unique[string(lower[:len(name)])]
		if !ok {
			if mailmsg.IsControlHeader(lower[:len(name)]) {
				h.control(string(lower[:len(name)]), field[colon+1:])
			}
			continue
		}
		if seen&(1<<idx) != 0 {
			return h, seserr.DuplicateHeader(uniqueHeaders[idx])
		}
		seen |= 1 << idx
		switch uniqueHeaders[idx] {
		case "From":
			h.from, h.hasFrom = unfold(field[colon+1:]), true
		case "Sender":
			h.sender, h.hasSender = unfold(field[colon+1:]), true
		case "Return-Path":
			h.returnPath, h.hasRetPath = unfold(field[colon+1:]), true
		}
	}
	return h, nil
}

// control keeps the value of a control header SES reads (spec §9: the
// first instance is the one used).
func (h *header) control(name string, value []byte) {
	switch name {
	case "x-ses-configuration-set":
		if !h.hasConfigSet {
			h.configSet, h.hasConfigSet = unfold(value), true
		}
	case "x-ses-message-tags":
		if !h.hasTags {
			h.tags, h.hasTags = unfold(value), true
		}
	case "x-ses-source-arn":
		if h.sourceArn == "" {
			h.sourceArn = unfold(value)
		}
	case "x-ses-from-arn":
		if h.fromArn == "" {
			h.fromArn = unfold(value)
		}
	case "x-ses-return-path-arn":
		if h.returnPathArn == "" {
			h.returnPathArn = unfold(value)
		}
	case "x-ses-list-management-options":
		if !h.hasListMgmt {
			h.listMgmt, h.hasListMgmt = unfold(value), true
		}
	}
}

// unfold returns a field body without its line breaks, trimmed.
func unfold(v []byte) string {
	v = bytes.TrimSpace(v)
	if bytes.IndexByte(v, '\n') < 0 {
		return string(v)
	}
	var sb strings.Builder
	sb.Grow(len(v))
	for _, c := range v {
		if c != '\r' && c != '\n' {
			sb.WriteByte(c)
		}
	}
	return sb.String()
}

// addressParser parses header addresses. Encoded words in display names
// need no decoding here (only the addr-spec matters), so an unknown charset
// is passed through instead of failing the message.
var addressParser = mail.AddressParser{WordDecoder: &mime.WordDecoder{
	CharsetReader: func(_ string, input io.Reader) (io.Reader, error) { return input, nil },
}}

// senderAddresses returns the From addresses, then Sender and Return-Path
// when present, each checked; failures are SES's "Transaction failed" replies.
func (h *header) senderAddresses() ([]string, error) {
	if !h.hasFrom {
		return nil, seserr.MissingFrom()
	}
	from, err := parseHeaderAddresses(h.from, true)
	if err != nil {
		return nil, err
	}
	if len(from) == 0 {
		return nil, seserr.MissingFrom()
	}
	out := from
	if h.hasSender && h.sender != "" {
		a, err := parseHeaderAddresses(h.sender, false)
		if err != nil {
			return nil, err
		}
		out = append(out, a...)
	}
	// "Return-Path: <>" is the null reverse-path: nothing to verify.
	if h.hasRetPath && h.returnPath != "" && h.returnPath != "<>" {
		a, err := parseHeaderAddresses(h.returnPath, false)
		if err != nil {
			return nil, err
		}
		out = append(out, a...)
	}
	return out, nil
}

// parseHeaderAddresses parses an address (list) field value and checks
// every addr-spec as an envelope address would be.
func parseHeaderAddresses(v string, list bool) ([]string, error) {
	if a, ok := simpleAddress(v); ok {
		return []string{a}, nil
	}
	var addrs []*mail.Address
	var err error
	if list {
		addrs, err = addressParser.ParseList(v)
	} else {
		var a *mail.Address
		a, err = addressParser.Parse(v)
		addrs = []*mail.Address{a}
	}
	if err != nil {
		return nil, addressError(v)
	}
	out := make([]string, 0, len(addrs))
	for _, a := range addrs {
		if err := CheckAddress(a.Address); err != nil {
			return nil, addressError(a.Address)
		}
		out = append(out, a.Address)
	}
	return out, nil
}

// simpleAddress is the fast path for the common forms "addr-spec" and
// "Display Name <addr-spec>" (a plain unquoted phrase): it gives net/mail's
// answer without its allocations. Anything else (quotes, comments, groups,
// lists, and encoded words, which net/mail decodes and may refuse) is left
// to net/mail.
func simpleAddress(v string) (string, bool) {
	if v == "" || v[0] == '"' {
		return "", false // net/mail unquotes quoted local parts; let it
	}
	if CheckAddress(v) == nil {
		return v, true
	}
	if len(v) < 2 || v[len(v)-1] != '>' {
		return "", false
	}
	lt := strings.IndexByte(v, '<')
	if lt < 0 {
		return "", false
	}
	for i := 0; i < lt; i++ {
		c := v[i]
		if c < ' ' || c > '~' || strings.IndexByte(`"(),:;<>@[\]`, c) >= 0 {
			return "", false
		}
	}
	if strings.Contains(v[:lt], "=?") {
		return "", false
	}
	addr := v[lt+1 : len(v)-1]
	if CheckAddress(addr) != nil || addr[0] == '"' {
		return "", false
	}
	return addr, true
}

// addressError picks SES's reply for an address it cannot use.
func addressError(v string) error {
	at := strings.LastIndexByte(v, '@')
	switch {
	case at < 0:
		return seserr.MissingFrom() // SES: "Missing final '@domain'"
	case at == 0 || strings.ContainsAny(v[at-1:at], "<:, \t"):
		return seserr.UserNameMissing(v)
	default:
		return seserr.IllegalAddress(v)
	}
}
