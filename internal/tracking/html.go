package tracking

import (
	"bytes"
	"html"
	"strings"

	xhtml "golang.org/x/net/html"
)

// MaxLinks is how many links of one message SES tracks; later ones are
// left as they are.
const MaxLinks = 250

// Placeholder marks where the open pixel goes instead of the end of the
// body; placeholders after the first are removed (SES).
const Placeholder = "{{ses:openTracker}}"

// Rewriter is what tracking does to one message.
type Rewriter struct {
	// OpenURL is the pixel's URL; "" = no open tracking.
	OpenURL string
	// ClickURL makes a tracked link's URL of its target and canonical
	// tags; nil = no click tracking.
	ClickURL func(target, tags string) string

	links int // tracked so far in this message (MaxLinks is per message)
	pixel bool
}

// Pixel is the open tracker as SES writes it (spec §6).
func Pixel(src string) string {
	return `<img alt="" style="display:none;width:1px;height:1px" src="` + html.EscapeString(src) + `">`
}

// HTML rewrites one HTML document (decoded bytes, any ASCII-compatible
// charset): links through ClickURL, the pixel at the first placeholder or
// at the end of the body. It returns src itself when there was nothing to
// change. Everything it does not rewrite keeps its bytes.
func (rw *Rewriter) HTML(src []byte) []byte {
	if rw.OpenURL == "" && rw.ClickURL == nil {
		return src
	}
	rw.pixel = false // one pixel per HTML document; links are counted per message
	z := xhtml.NewTokenizer(bytes.NewReader(src))
	var out bytes.Buffer
	out.Grow(len(src) + 512)
	changed := false
	bodyEnd, htmlEnd := -1, -1
	off := 0 // the raw bytes of the tokens partition src: this is where the current one starts
	for {
		tt := z.Next()
		if tt == xhtml.ErrorToken {
			out.Write(src[off:])
			break
		}
		raw := src[off : off+len(z.Raw())]
		off += len(raw)
		switch tt {
		case xhtml.StartTagToken, xhtml.SelfClosingTagToken:
			if isAnchor(raw) {
				if a, ok := rw.anchor(z, tt == xhtml.SelfClosingTagToken); ok {
					out.WriteString(a)
					changed = true
					continue
				}
			}
		case xhtml.EndTagToken:
			if hasTagPrefix(raw, "</body") {
				bodyEnd = out.Len()
			} else if hasTagPrefix(raw, "</html") {
				htmlEnd = out.Len()
			}
		case xhtml.TextToken:
			if bytes.Contains(raw, []byte(Placeholder)) {
				out.WriteString(rw.placeholders(string(raw)))
				changed = true
				continue
			}
		}
		out.Write(raw)
	}
	if rw.OpenURL != "" && !rw.pixel {
		rw.pixel = true
		changed = true
		at := out.Len()
		if bodyEnd >= 0 {
			at = bodyEnd
		} else if htmlEnd >= 0 {
			at = htmlEnd
		}
		b := out.Bytes()
		res := make([]byte, 0, len(b)+300)
		res = append(res, b[:at]...)
		res = append(res, Pixel(rw.OpenURL)...)
		res = append(res, b[at:]...)
		return res
	}
	if !changed {
		return src
	}
	return out.Bytes()
}

// placeholders puts the pixel in place of the message's first placeholder
// and drops the others (with no open tracking, all of them go).
func (rw *Rewriter) placeholders(text string) string {
	var b strings.Builder
	for {
		i := strings.Index(text, Placeholder)
		if i < 0 {
			b.WriteString(text)
			return b.String()
		}
		b.WriteString(text[:i])
		if rw.OpenURL != "" && !rw.pixel {
			b.WriteString(Pixel(rw.OpenURL))
			rw.pixel = true
		}
		text = text[i+len(Placeholder):]
	}
}

// isAnchor: raw is "<a" followed by the end of the tag name.
func isAnchor(raw []byte) bool {
	if len(raw) < 3 || raw[0] != '<' || raw[1]|0x20 != 'a' {
		return false
	}
	switch raw[2] {
	case ' ', '\t', '\n', '\r', '\f', '/', '>':
		return true
	}
	return false
}

// hasTagPrefix: raw starts with prefix (case-insensitive) and the tag
// name ends there.
func hasTagPrefix(raw []byte, prefix string) bool {
	if len(raw) <= len(prefix) || !strings.EqualFold(string(raw[:len(prefix)]), prefix) {
		return false
	}
	switch raw[len(prefix)] {
	case ' ', '\t', '\n', '\r', '\f', '/', '>':
		return true
	}
	return false
}

type attr struct{ key, val string }

// anchor rewrites the current <a> tag: its href through ClickURL when the
// link is tracked, ses:no-track and ses:tags dropped. ok is false when
// the tag stays as it was.
func (rw *Rewriter) anchor(z *xhtml.Tokenizer, selfClosing bool) (string, bool) {
	var attrs []attr
	href, hasHref, noTrack, tags, hasSES := "", false, false, "", false
	for more := true; more; {
		var k, v []byte
		k, v, more = z.TagAttr()
		if len(k) == 0 {
			continue
		}
		a := attr{string(k), string(v)}
		switch a.key {
		case "ses:no-track":
			noTrack, hasSES = true, true
			continue
		case "ses:tags":
			tags, hasSES = a.val, true
			continue
		case "href":
			if !hasHref {
				href, hasHref = a.val, true
			}
		}
		attrs = append(attrs, a)
	}
	target := strings.TrimSpace(href)
	track := hasHref && !noTrack && rw.ClickURL != nil && rw.links < MaxLinks && Trackable(target)
	if !track && !hasSES {
		return "", false
	}
	var b strings.Builder
	b.WriteString("<a")
	replaced := false
	for _, a := range attrs {
		v := a.val
		if track && a.key == "href" && !replaced {
			parsed, ok := ParseTags(tags)
			canon := ""
			if ok {
				canon = CanonicalTags(parsed)
			}
			v, replaced = rw.ClickURL(target, canon), true
			rw.links++
		}
		b.WriteByte(' ')
		b.WriteString(a.key)
		b.WriteString(`="`)
		b.WriteString(html.EscapeString(v))
		b.WriteByte('"')
	}
	if selfClosing {
		b.WriteString("/>")
	} else {
		b.WriteByte('>')
	}
	return b.String(), true
}
