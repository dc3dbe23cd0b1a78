package console

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net/mail"
	"strings"
)

// renderedMessage is what a person reads of a rendered template: the
// decoded subject and the text and HTML parts.
type renderedMessage struct {
	Subject          string
	Text, HTML       string
	HasText, HasHTML bool
}

// maxRenderedParts bounds the walk through a rendered message's parts.
const maxRenderedParts = 16

// parseRendered reads the MIME message TestRenderEmailTemplate answers (a
// single text or HTML part, or multipart/alternative of both).
func parseRendered(raw string) (renderedMessage, error) {
	var m renderedMessage
	msg, err := mail.ReadMessage(strings.NewReader(raw))
	if err != nil {
		return m, fmt.Errorf("read the rendered message: %w", err)
	}
	dec := new(mime.WordDecoder)
	if m.Subject, err = dec.DecodeHeader(msg.Header.Get("Subject")); err != nil {
		m.Subject = msg.Header.Get("Subject")
	}
	n := 0
	err = m.walk(msg.Header.Get("Content-Type"), msg.Header.Get("Content-Transfer-Encoding"), msg.Body, &n)
	return m, err
}

func (m *renderedMessage) walk(contentType, encoding string, body io.Reader, n *int) error {
	if *n++; *n > maxRenderedParts {
		return fmt.Errorf("more than %d parts", maxRenderedParts)
	}
	mt, params, err := mime.ParseMediaType(contentType)
	if err != nil {
		mt = "text/plain" // RFC 2045's default
	}
	if strings.HasPrefix(mt, "multipart/") {
		mr := multipart.NewReader(body, params["boundary"])
		for {
			p, err := mr.NextRawPart()
			if err == io.EOF {
				return nil
			}
			if err != nil {
				return fmt.Errorf("read a part: %w", err)
			}
			if err := m.walk(p.Header.Get("Content-Type"), p.Header.Get("Content-Transfer-Encoding"), p, n); err != nil {
				return err
			}
		}
	}
	switch strings.ToLower(strings.TrimSpace(encoding)) {
	case "quoted-printable":
		body = quotedprintable.NewReader(body)
	case "base64":
		body = base64.NewDecoder(base64.StdEncoding, body) // skips line breaks itself
	}
	b, err := io.ReadAll(io.LimitReader(body, 4<<20))
	if err != nil {
		return fmt.Errorf("decode a %s part: %w", mt, err)
	}
	text := string(bytes.ReplaceAll(b, []byte("\r\n"), []byte("\n")))
	if *n == 1 {
		// A message of one part ends its body with a line break of the
		// message's own (in a multipart the break belongs to the boundary).
		text = strings.TrimSuffix(text, "\n")
	}
	switch mt {
	case "text/plain":
		if !m.HasText {
			m.Text, m.HasText = text, true
		}
	case "text/html":
		if !m.HasHTML {
			m.HTML, m.HasHTML = text, true
		}
	}
	return nil
}
