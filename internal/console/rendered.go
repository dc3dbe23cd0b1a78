package console

import (
	"errors"
	"strings"
)

// renderedMessage is what a person reads of a rendered template: the
// decoded subject and the text and HTML parts.
type renderedMessage struct {
	Subject          string
	Text, HTML       string
	HasText, HasHTML bool
}

// parseRendered reads the MIME message TestRenderEmailTemplate answers (a
// single text or HTML part, or multipart/alternative of both) with the
// reader captured mail is shown with (parseMail).
func parseRendered(raw string) (renderedMessage, error) {
	mv := parseMail([]byte(raw))
	if mv.Problem != "" && !mv.HasText && !mv.HasHTML {
		return renderedMessage{}, errors.New(mv.Problem)
	}
	return renderedMessage{Subject: mv.Subject, Text: shownPart(mv.Text), HTML: shownPart(mv.HTML),
		HasText: mv.HasText, HasHTML: mv.HasHTML}, nil
}

// shownPart is a rendered part as the editor shows it: LF line ends, and
// without the line break that ends a one-part message's body (the
// template's own text has none).
func shownPart(s string) string {
	return strings.TrimSuffix(strings.ReplaceAll(s, "\r\n", "\n"), "\n")
}
