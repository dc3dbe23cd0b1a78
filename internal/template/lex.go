package template

import (
	"fmt"
	"strings"
)

// tokKind is what a token is: literal text or one kind of mustache tag.
type tokKind int

const (
	tText    tokKind = iota
	tVar             // {{x}}, {{{x}}}, {{&x}}
	tComment         // {{! …}}, {{!-- … --}}
	tOpen            // {{#name arg}}
	tInverse         // {{^name}} (an inverted section: unless)
	tInline          // {{#* inline "name"}}
	tClose           // {{/name}}
	tElse            // {{else}}, {{^}}, {{else if x}}
	tPartial         // {{> name}}
)

// token is one piece of the template.
type token struct {
	kind         tokKind
	text         string // literal text, or the tag's content after its sigil, trimmed
	line, col    int
	trimL, trimR bool // `~` whitespace control
}

func (t *token) errorf(format string, args ...any) error {
	return &SyntaxError{Line: t.line, Column: t.col, Msg: fmt.Sprintf(format, args...)}
}

// lex splits text into literal text and tags, then applies Handlebars'
// whitespace rules: a block tag alone on its line takes the line with it
// ("standalone"), and `~` trims the neighbouring whitespace.
func lex(text string) ([]token, error) {
	var toks []token
	pos := 0
	for pos < len(text) {
		i := strings.Index(text[pos:], "{{")
		if i < 0 {
			toks = append(toks, token{kind: tText, text: text[pos:]})
			break
		}
		// \{{ is an escaped mustache: the text "{{" (Handlebars).
		if i > 0 && text[pos+i-1] == '\\' && (i < 2 || text[pos+i-2] != '\\') {
			toks = append(toks, token{kind: tText, text: text[pos:pos+i-1] + "{{"})
			pos += i + 2
			continue
		}
		if i > 0 {
			toks = append(toks, token{kind: tText, text: text[pos : pos+i]})
		}
		start := pos + i
		line, col := position(text, start)
		tok, end, err := lexTag(text, start)
		if err != nil {
			return nil, &SyntaxError{Line: line, Column: col, Msg: err.Error()}
		}
		tok.line, tok.col = line, col
		toks = append(toks, tok)
		pos = end
	}
	standalone(toks)
	trimWhitespace(toks)
	return toks, nil
}

// lexTag reads the tag starting at text[start] ("{{") and returns it and the
// offset just past it.
func lexTag(text string, start int) (token, int, error) {
	rest := text[start+2:]
	var tok token
	var inner string
	var end int
	switch {
	case strings.HasPrefix(rest, "{"):
		// Triple mustache: the unescaped form; SES escapes nothing anyway.
		j := strings.Index(rest, "}}}")
		if j < 0 {
			return tok, 0, fmt.Errorf("unclosed '{{{'")
		}
		inner, end = rest[1:j], start+2+j+3
		if strings.HasPrefix(inner, "~") {
			tok.trimL, inner = true, inner[1:]
		}
		if strings.HasSuffix(inner, "~") {
			tok.trimR, inner = true, inner[:len(inner)-1]
		}
		tok.kind, tok.text = tVar, strings.TrimSpace(inner)
		if tok.text == "" {
			return tok, 0, fmt.Errorf("empty expression")
		}
		return tok, end, nil
	case strings.HasPrefix(rest, "!--") || strings.HasPrefix(rest, "~!--"):
		j := strings.Index(rest, "--}}")
		k := strings.Index(rest, "--~}}")
		switch {
		case k >= 0 && (j < 0 || k < j):
			tok.trimR, end = true, start+2+k+5
		case j >= 0:
			end = start + 2 + j + 4
		default:
			return tok, 0, fmt.Errorf("unclosed comment")
		}
		tok.kind, tok.trimL = tComment, strings.HasPrefix(rest, "~")
		return tok, end, nil
	}
	j := strings.Index(rest, "}}")
	if j < 0 {
		return tok, 0, fmt.Errorf("unclosed '{{'")
	}
	inner, end = rest[:j], start+2+j+2
	if strings.HasPrefix(inner, "~") {
		tok.trimL, inner = true, inner[1:]
	}
	if strings.HasSuffix(inner, "~") {
		tok.trimR, inner = true, inner[:len(inner)-1]
	}
	sigil := byte(0)
	if len(inner) > 0 {
		sigil = inner[0]
	}
	switch sigil {
	case '!':
		tok.kind = tComment
		return tok, end, nil
	case '#':
		body := strings.TrimSpace(inner[1:])
		if strings.HasPrefix(body, "*") {
			tok.kind, tok.text = tInline, strings.TrimSpace(body[1:])
		} else {
			tok.kind, tok.text = tOpen, body
		}
	case '^':
		tok.kind, tok.text = tInverse, strings.TrimSpace(inner[1:])
		if tok.text == "" {
			tok.kind = tElse
		}
	case '/':
		tok.kind, tok.text = tClose, strings.TrimSpace(inner[1:])
	case '>':
		tok.kind, tok.text = tPartial, strings.TrimSpace(inner[1:])
	case '&':
		tok.kind, tok.text = tVar, strings.TrimSpace(inner[1:])
	default:
		body := strings.TrimSpace(inner)
		if body == "else" || strings.HasPrefix(body, "else ") {
			tok.kind, tok.text = tElse, strings.TrimSpace(body[len("else"):])
		} else {
			tok.kind, tok.text = tVar, body
		}
	}
	if tok.text == "" && tok.kind != tElse {
		return tok, 0, fmt.Errorf("empty expression")
	}
	return tok, end, nil
}

// position gives the 1-based line and column of text[off].
func position(text string, off int) (int, int) {
	line := 1 + strings.Count(text[:off], "\n")
	col := off + 1
	if nl := strings.LastIndexByte(text[:off], '\n'); nl >= 0 {
		col = off - nl
	}
	return line, col
}

// standaloneKinds are the tags that take their line with them when alone
// on it (Handlebars' "standalone" rule; partial uses are left as they are).
func standaloneKind(k tokKind) bool {
	switch k {
	case tComment, tOpen, tInverse, tInline, tClose, tElse:
		return true
	}
	return false
}

// standalone removes the indentation and line ending around block tags that
// stand alone on their line. Decisions are made on the original text first,
// so two such tags on consecutive lines are both recognised.
func standalone(toks []token) {
	type cut struct{ head, tail int } // keep text[head:tail]
	cuts := make([]cut, len(toks))
	for i := range toks {
		cuts[i] = cut{0, len(toks[i].text)}
	}
	for i, t := range toks {
		if !standaloneKind(t.kind) {
			continue
		}
		// Before: the start of the template, or text whose last line is blank.
		tail := -1
		switch {
		case i == 0:
			tail = 0
		case toks[i-1].kind == tText:
			prev := toks[i-1].text
			nl := strings.LastIndexByte(prev, '\n')
			if isBlank(prev[nl+1:]) && (nl >= 0 || i-1 == 0) {
				tail = nl + 1
			}
		}
		if tail < 0 {
			continue
		}
		// After: the end of the template, or text whose first line is blank.
		head := -1
		switch {
		case i == len(toks)-1:
			head = 0
		case toks[i+1].kind == tText:
			next := toks[i+1].text
			nl := strings.IndexByte(next, '\n')
			switch {
			case nl >= 0 && isBlank(next[:nl]):
				head = nl + 1
			case nl < 0 && i+1 == len(toks)-1 && isBlank(next):
				head = len(next)
			}
		}
		if head < 0 {
			continue
		}
		if i > 0 {
			cuts[i-1].tail = min(cuts[i-1].tail, tail)
		}
		if i < len(toks)-1 {
			cuts[i+1].head = max(cuts[i+1].head, head)
		}
	}
	for i := range toks {
		if toks[i].kind != tText {
			continue
		}
		c := cuts[i]
		if c.head >= c.tail {
			toks[i].text = ""
		} else {
			toks[i].text = toks[i].text[c.head:c.tail]
		}
	}
}

func isBlank(s string) bool { return strings.Trim(s, " \t\r") == "" }

// trimWhitespace applies `~`: {{~x}} trims the whitespace before the tag,
// {{x~}} the whitespace after it.
func trimWhitespace(toks []token) {
	for i, t := range toks {
		if t.kind == tText {
			continue
		}
		if t.trimL && i > 0 && toks[i-1].kind == tText {
			toks[i-1].text = strings.TrimRight(toks[i-1].text, " \t\r\n")
		}
		if t.trimR && i+1 < len(toks) && toks[i+1].kind == tText {
			toks[i+1].text = strings.TrimLeft(toks[i+1].text, " \t\r\n")
		}
	}
}
