package tracking

import (
	"bufio"
	"bytes"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"mime"
	"mime/quotedprintable"
	"slices"
	"strings"

	"github.com/emersion/go-message/textproto"
)

// maxDepth bounds multipart nesting (go-message's own limit is similar).
const maxDepth = 20

// Message rewrites the HTML parts of a whole message (header section and
// body) and returns the new message, or nil when nothing changed (no HTML
// part, nothing to track). Headers, parts other than HTML, preambles,
// epilogues and boundaries keep their bytes; a rewritten HTML part keeps
// its header and its Content-Transfer-Encoding (quoted-printable and
// base64 parts are decoded, rewritten and encoded again). Forwarded
// messages (message/rfc822 parts) and attachments are left alone.
func (rw *Rewriter) Message(msg []byte) ([]byte, error) {
	if rw.OpenURL == "" && rw.ClickURL == nil {
		return nil, nil
	}
	return RewriteParts(msg, []string{"text/html"}, func(_ string, body []byte) []byte { return rw.HTML(body) })
}

// RewriteParts is Message's walk for any rewrite of text parts: fn gets
// each part of one of the media types (text/plain, text/html) that is not
// an attachment, decoded, and returns it, changed or not; other parts are
// not even decoded. It returns the new message, or nil when fn changed
// nothing. The same rules hold: only changed parts are re-encoded, in
// their own Content-Transfer-Encoding.
func RewriteParts(msg []byte, types []string, fn func(mediaType string, decoded []byte) []byte) ([]byte, error) {
	out, changed, err := partWalk{types, fn}.entity(msg, 0)
	if err != nil || !changed {
		return nil, err
	}
	return out, nil
}

// partWalk rewrites the decoded text parts of the given media types.
type partWalk struct {
	types []string
	fn    func(mediaType string, decoded []byte) []byte
}

// MayHaveHTML says whether msg could have an HTML part to rewrite: whether
// "/html" appears in it in any case. Most mail sent in bulk is HTML, but a
// text-only message is then passed by without parsing or signing links.
func MayHaveHTML(msg []byte) bool {
	for i := 0; ; {
		j := bytes.IndexByte(msg[i:], '/')
		if j < 0 {
			return false
		}
		i += j + 1
		if len(msg)-i >= 4 && bytes.EqualFold(msg[i:i+4], []byte("html")) {
			return true
		}
	}
}

// entity rewrites one MIME entity (header + body).
func (rw partWalk) entity(b []byte, depth int) ([]byte, bool, error) {
	hdrLen, h, err := readHeader(b)
	if err != nil {
		// Not a header section go-message reads: nothing to rewrite safely.
		return nil, false, nil
	}
	body := b[hdrLen:]
	ct := h.Get("Content-Type")
	if ct == "" {
		ct = "text/plain" // RFC 2045 §5.2's default
	}
	mt, params, err := mime.ParseMediaType(ct)
	if err != nil {
		return nil, false, nil // unreadable: left alone
	}
	switch {
	case strings.HasPrefix(mt, "multipart/"):
		if depth >= maxDepth || params["boundary"] == "" {
			return nil, false, nil
		}
		nb, changed, err := rw.multipart(body, params["boundary"], depth)
		if err != nil || !changed {
			return nil, false, err
		}
		return concat(b[:hdrLen], nb), true, nil
	case slices.Contains(rw.types, mt):
		if disp, _, err := mime.ParseMediaType(h.Get("Content-Disposition")); err == nil && disp == "attachment" {
			return nil, false, nil
		}
		cs := strings.ToLower(params["charset"])
		if strings.HasPrefix(cs, "utf-16") || strings.HasPrefix(cs, "utf-32") || cs == "ucs-2" {
			return nil, false, nil
		}
		cte := strings.ToLower(strings.TrimSpace(h.Get("Content-Transfer-Encoding")))
		decoded, err := decode(cte, body)
		if err != nil {
			return nil, false, nil // broken encoding: sent as it came
		}
		out := rw.fn(mt, decoded)
		if bytes.Equal(out, decoded) {
			return nil, false, nil
		}
		enc, err := encode(cte, out, eolOf(b[:hdrLen]))
		if err != nil {
			return nil, false, err
		}
		return concat(b[:hdrLen], enc), true, nil
	}
	return nil, false, nil
}

// readHeader parses the header section with go-message and says how many
// bytes it took (blank line included).
func readHeader(b []byte) (int, textproto.Header, error) {
	r := bytes.NewReader(b)
	br := bufio.NewReader(r)
	h, err := textproto.ReadHeader(br)
	if err != nil {
		return 0, textproto.Header{}, fmt.Errorf("tracking: header: %w", err)
	}
	return len(b) - r.Len() - br.Buffered(), h, nil
}

// multipart rewrites the parts of a multipart body. go-message's
// MultipartReader hides where each part lies, and writing the parts out
// again with its writer would re-encode the ones left alone, so the
// delimiter lines (RFC 2046 §5.1.1) are found here and only the rewritten
// parts' bytes change.
func (rw partWalk) multipart(body []byte, boundary string, depth int) ([]byte, bool, error) {
	parts := partSpans(body, boundary)
	var out []byte
	last, changed := 0, false
	for _, p := range parts {
		nb, ch, err := rw.entity(body[p[0]:p[1]], depth+1)
		if err != nil {
			return nil, false, err
		}
		if !ch {
			continue
		}
		if out == nil {
			out = make([]byte, 0, len(body)+1024)
		}
		out = append(out, body[last:p[0]]...)
		out = append(out, nb...)
		last, changed = p[1], true
	}
	if !changed {
		return nil, false, nil
	}
	return append(out, body[last:]...), true, nil
}

// partSpans returns [start, end) of each body part: from the line after a
// delimiter line to the line break before the next one (that line break
// belongs to the delimiter). A body without its close delimiter ends its
// last part at the end.
func partSpans(body []byte, boundary string) [][2]int {
	dash := "--" + boundary
	var spans [][2]int
	start := -1
	for pos := 0; pos < len(body); {
		end := bytes.IndexByte(body[pos:], '\n')
		next := len(body)
		if end >= 0 {
			next = pos + end + 1
		}
		line := strings.TrimRight(string(body[pos:next]), " \t\r\n")
		if strings.HasPrefix(line, dash) {
			rest := line[len(dash):]
			if rest == "" || rest == "--" {
				if start >= 0 {
					e := pos
					if e > start && body[e-1] == '\n' {
						e--
						if e > start && body[e-1] == '\r' {
							e--
						}
					}
					spans = append(spans, [2]int{start, e})
				}
				if rest == "--" {
					return spans
				}
				start = next
			}
		}
		pos = next
	}
	if start >= 0 && start < len(body) {
		spans = append(spans, [2]int{start, len(body)})
	}
	return spans
}

var errEncoding = errors.New("tracking: unknown Content-Transfer-Encoding")

func decode(cte string, body []byte) ([]byte, error) {
	switch cte {
	case "", "7bit", "8bit", "binary":
		return body, nil
	case "quoted-printable":
		return io.ReadAll(quotedprintable.NewReader(bytes.NewReader(body)))
	case "base64":
		clean := make([]byte, 0, len(body))
		for _, c := range body {
			if c != '\r' && c != '\n' && c != ' ' && c != '\t' {
				clean = append(clean, c)
			}
		}
		out := make([]byte, base64.StdEncoding.DecodedLen(len(clean)))
		n, err := base64.StdEncoding.Decode(out, clean)
		return out[:n], err
	}
	return nil, errEncoding
}

// encode writes body in cte with eol line breaks (quoted-printable and
// base64 lines of at most 76 characters, RFC 2045).
func encode(cte string, body []byte, eol string) ([]byte, error) {
	var out bytes.Buffer
	switch cte {
	case "", "7bit", "8bit", "binary":
		return body, nil
	case "quoted-printable":
		w := quotedprintable.NewWriter(&out)
		if _, err := w.Write(body); err != nil {
			return nil, fmt.Errorf("tracking: quoted-printable: %w", err)
		}
		if err := w.Close(); err != nil {
			return nil, fmt.Errorf("tracking: quoted-printable: %w", err)
		}
		if eol == "\n" {
			return bytes.ReplaceAll(out.Bytes(), []byte("\r\n"), []byte("\n")), nil
		}
		return out.Bytes(), nil
	case "base64":
		enc := base64.StdEncoding.EncodeToString(body)
		for len(enc) > 76 {
			out.WriteString(enc[:76])
			out.WriteString(eol)
			enc = enc[76:]
		}
		out.WriteString(enc)
		out.WriteString(eol)
		return out.Bytes(), nil
	}
	return nil, errEncoding
}

// eolOf is the line ending a header section uses.
func eolOf(header []byte) string {
	if i := bytes.IndexByte(header, '\n'); i > 0 && header[i-1] == '\r' {
		return "\r\n"
	}
	if i := bytes.IndexByte(header, '\n'); i < 0 {
		return "\r\n"
	}
	return "\n"
}

func concat(a, b []byte) []byte {
	out := make([]byte, 0, len(a)+len(b))
	return append(append(out, a...), b...)
}
