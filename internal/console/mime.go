package console

import (
	"bytes"
	"fmt"
	"io"
	"mime"
	"strings"

	"github.com/emersion/go-message"
	_ "github.com/emersion/go-message/charset" // decode legacy charsets of captured bodies

	"sesame/internal/mailmsg"
)

// maxPart bounds what is decoded of one part of a captured message.
const maxPart = 50 << 20

// mailView is a captured message as its page shows it: the header fields
// as written (mailmsg.Fields, the reader every part of sesame shares),
// the first text and HTML bodies, decoded to UTF-8, and the other parts
// as attachments. go-message reads the MIME structure.
type mailView struct {
	Fields      []headerField
	From        string
	To          string
	Subject     string
	Date        string
	Text        string
	HasText     bool
	HTML        string
	HasHTML     bool
	Attachments []attachment
	Problem     string // why the body could not be read in full
}

type headerField struct{ Name, Value string }

type attachment struct {
	N           int // 1-based, as in its download URL
	Name        string
	ContentType string
	Size        string
	data        []byte
}

// mailSummary is what the mailbox list shows of raw: its header's From,
// To and Subject, decoded (the body is not read).
func mailSummary(raw []byte) (from, to, subject string) {
	mh := message.Header{Header: mailmsg.Fields(mailmsg.HeaderSection(raw))}
	return decoded(mh, "From"), decoded(mh, "To"), decoded(mh, "Subject")
}

// parseMail reads raw; a message that is not MIME at all still shows its
// header and raw text.
func parseMail(raw []byte) *mailView {
	mv := &mailView{}
	hdr := mailmsg.Fields(mailmsg.HeaderSection(raw))
	mh := message.Header{Header: hdr}
	for f := mh.Fields(); f.Next(); {
		v, err := f.Text()
		if err != nil {
			v = f.Value()
		}
		name := f.Key() // canonical ("Message-Id") unless the raw field says how it was written
		if raw, err := f.Raw(); err == nil {
			if n, _, ok := bytes.Cut(raw, []byte(":")); ok {
				name = string(bytes.TrimSpace(n))
			}
		}
		mv.Fields = append(mv.Fields, headerField{Name: showable(name), Value: showable(v)})
	}
	mv.From, mv.To, mv.Subject, mv.Date = decoded(mh, "From"), decoded(mh, "To"), decoded(mh, "Subject"), hdr.Get("Date")

	e, err := message.Read(bytes.NewReader(raw))
	if e == nil {
		mv.Problem = fmt.Sprintf("The message's MIME structure could not be read: %v", err)
		return mv
	}
	err = e.Walk(func(_ []int, part *message.Entity, err error) error {
		if err != nil {
			mv.Problem = fmt.Sprintf("Part of the message could not be read: %v", err)
			return nil
		}
		if part.MultipartReader() != nil {
			return nil
		}
		typ, _, _ := part.Header.ContentType()
		if typ == "" {
			typ = "text/plain"
		}
		disp, dparams, _ := part.Header.ContentDisposition()
		name := dparams["filename"]
		if name == "" {
			_, cparams, _ := part.Header.ContentType()
			name = cparams["name"]
		}
		body, rerr := io.ReadAll(io.LimitReader(part.Body, maxPart))
		if rerr != nil && len(body) == 0 {
			mv.Problem = fmt.Sprintf("Part of the message could not be decoded: %v", rerr)
		}
		isBody := disp != "attachment" && name == ""
		switch {
		case isBody && typ == "text/plain" && !mv.HasText:
			mv.Text, mv.HasText = showable(string(body)), true
		case isBody && typ == "text/html" && !mv.HasHTML:
			mv.HTML, mv.HasHTML = string(body), true
		default:
			if name == "" {
				name = strings.Trim(part.Header.Get("Content-Id"), "<>")
			}
			if name == "" {
				name = fmt.Sprintf("part-%d", len(mv.Attachments)+1)
			}
			mv.Attachments = append(mv.Attachments, attachment{N: len(mv.Attachments) + 1, Name: showable(name),
				ContentType: typ, Size: byteSize(len(body)), data: body})
		}
		return nil
	})
	if err != nil && mv.Problem == "" {
		mv.Problem = fmt.Sprintf("The message's MIME structure could not be read: %v", err)
	}
	return mv
}

// decoded is a header field with its encoded words decoded.
func decoded(h message.Header, name string) string {
	if v, err := h.Text(name); err == nil {
		return showable(v)
	}
	return showable(h.Get(name))
}

// showable is s with bytes that are not UTF-8 (8-bit headers, an encoded
// word or a body whose charset lied) shown as U+FFFD, as a mail reader
// does, rather than sent to the browser as they are.
func showable(s string) string { return strings.ToValidUTF8(s, "\uFFFD") }

// contentDisposition is an attachment's Content-Disposition, its name
// encoded as RFC 2231 says when it is not plain ASCII.
func contentDisposition(name string) string {
	if d := mime.FormatMediaType("attachment", map[string]string{"filename": name}); d != "" {
		return d
	}
	return "attachment"
}
