package template

import (
	"fmt"
	"strconv"
	"strings"
)

// parser builds the node tree from tokens by recursive descent: a block
// reads nodes until its {{else}} or {{/name}}.
type parser struct {
	toks     []token
	i        int
	partials map[string][]node
	uses     []partialUse
}

// partialUse is a {{> name}}, checked once every inline partial is known
// (a partial may be defined after its first use).
type partialUse struct {
	name string
	tok  token
}

func (u partialUse) errorf(format string, args ...any) error { return u.tok.errorf(format, args...) }

// parseRoot parses the whole template.
func (p *parser) parseRoot() ([]node, error) {
	nodes, term, err := p.parseNodes()
	if err != nil {
		return nil, err
	}
	if term != nil {
		if term.kind == tElse {
			return nil, term.errorf("{{else}} outside a block")
		}
		return nil, term.errorf("{{/%s}} closes no open block", term.text)
	}
	return nodes, nil
}

// parseNodes reads nodes up to a terminating {{else}} or {{/…}} tag, which
// it consumes and returns, or to the end (nil).
func (p *parser) parseNodes() ([]node, *token, error) {
	var nodes []node
	for p.i < len(p.toks) {
		t := &p.toks[p.i]
		p.i++
		switch t.kind {
		case tText:
			if t.text != "" {
				nodes = append(nodes, textNode(t.text))
			}
		case tComment:
		case tVar:
			n, err := parseExpr(t)
			if err != nil {
				return nil, nil, err
			}
			if n != nil {
				nodes = append(nodes, n)
			}
		case tOpen, tInverse:
			n, err := p.parseOpen(t)
			if err != nil {
				return nil, nil, err
			}
			nodes = append(nodes, n)
		case tInline:
			if err := p.parseInline(t); err != nil {
				return nil, nil, err
			}
		case tPartial:
			n, err := p.parsePartial(t)
			if err != nil {
				return nil, nil, err
			}
			nodes = append(nodes, n)
		case tClose, tElse:
			return nodes, t, nil
		}
	}
	return nodes, nil, nil
}

// builtinBlocks are the block helpers of SES's subset (plus unless and
// with, stock Handlebars helpers that take one argument the same way).
var builtinBlocks = map[string]bool{"if": true, "unless": true, "each": true, "with": true}

// parseOpen parses a block opened by t: {{#helper arg}}, a mustache-style
// section {{#path}}, or an inverted section {{^path}}.
func (p *parser) parseOpen(t *token) (node, error) {
	fields := fields(t.text)
	if t.kind == tInverse {
		if len(fields) != 1 {
			return nil, t.errorf("an inverted section takes a single path: {{^%s}}", t.text)
		}
		pth, err := parsePath(t, fields[0])
		if err != nil {
			return nil, err
		}
		return p.parseBlock(t, "unless", pth, fields[0])
	}
	name := fields[0]
	if builtinBlocks[name] {
		pth, err := blockArg(t, fields)
		if err != nil {
			return nil, err
		}
		return p.parseBlock(t, name, pth, name)
	}
	if len(fields) != 1 {
		return nil, t.errorf("helper '%s' is not supported", name)
	}
	pth, err := parsePath(t, name)
	if err != nil {
		return nil, err
	}
	return p.parseBlock(t, "section", pth, name)
}

// blockArg is the single path argument of a built-in block helper.
func blockArg(t *token, fields []string) (path, error) {
	switch {
	case len(fields) < 2:
		return path{}, t.errorf("{{#%s}} needs one argument", fields[0])
	case len(fields) > 2:
		return path{}, t.errorf("{{#%s}} takes one argument; got %q", fields[0], strings.Join(fields[1:], " "))
	case strings.HasPrefix(fields[1], "("):
		return path{}, t.errorf("subexpressions are not supported")
	}
	return parsePath(t, fields[1])
}

// parseBlock reads a block's body, its else branch (or an {{else if …}}
// chain) and its close tag, which must name closeName.
func (p *parser) parseBlock(open *token, kind string, pth path, closeName string) (node, error) {
	body, term, err := p.parseNodes()
	if err != nil {
		return nil, err
	}
	n := blockNode{kind: kind, path: pth, body: body}
	if term == nil {
		return nil, open.errorf("{{#%s}} is not closed", closeName)
	}
	if term.kind == tElse {
		if term.text != "" {
			// {{else if x}}: a nested block that shares our close tag.
			fields := fields(term.text)
			if !builtinBlocks[fields[0]] {
				return nil, term.errorf("helper '%s' is not supported", fields[0])
			}
			cp, err := blockArg(term, fields)
			if err != nil {
				return nil, err
			}
			chained, err := p.parseBlock(term, fields[0], cp, closeName)
			if err != nil {
				return nil, err
			}
			n.else_ = []node{chained}
			return n, nil
		}
		n.else_, term, err = p.parseNodes()
		if err != nil {
			return nil, err
		}
		if term == nil {
			return nil, open.errorf("{{#%s}} is not closed", closeName)
		}
		if term.kind == tElse {
			return nil, term.errorf("a second {{else}} in {{#%s}}", closeName)
		}
	}
	if term.text != closeName {
		return nil, term.errorf("{{#%s}} closed by {{/%s}}", closeName, term.text)
	}
	return n, nil
}

// parseInline reads {{#* inline "name"}}…{{/inline}} into the partials.
func (p *parser) parseInline(t *token) error {
	fields := fields(t.text)
	if len(fields) != 2 || fields[0] != "inline" {
		return t.errorf("only the inline decorator is supported: {{#* inline \"name\"}}")
	}
	name, ok := unquote(fields[1])
	if !ok || name == "" {
		return t.errorf("an inline partial's name is a quoted string: {{#* inline \"name\"}}")
	}
	body, term, err := p.parseNodes()
	if err != nil {
		return err
	}
	if term == nil || term.kind != tClose || term.text != "inline" {
		return t.errorf("{{#* inline %s}} is not closed by {{/inline}}", fields[1])
	}
	p.partials[name] = body
	return nil
}

// parsePartial reads {{> name}} or {{> name contextPath}}.
func (p *parser) parsePartial(t *token) (node, error) {
	fields := fields(t.text)
	name, ok := unquote(fields[0])
	if !ok {
		name = fields[0]
	}
	n := partialNode{name: name}
	switch {
	case len(fields) == 2 && !strings.Contains(fields[1], "="):
		pth, err := parsePath(t, fields[1])
		if err != nil {
			return nil, err
		}
		n.ctx = &pth
	case len(fields) > 1:
		return nil, t.errorf("partial parameters are not supported: {{> %s}}", t.text)
	}
	p.uses = append(p.uses, partialUse{name: name, tok: *t})
	return n, nil
}

// fields splits a tag's content at whitespace outside [literal] segments
// and quoted strings.
func fields(s string) []string {
	var out []string
	start, quote := -1, byte(0)
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case quote != 0:
			if c == quote {
				quote = 0
			}
		case c == '[':
			quote = ']'
		case c == '"' || c == '\'':
			quote = c
		case c == ' ' || c == '\t' || c == '\r' || c == '\n':
			if start >= 0 {
				out = append(out, s[start:i])
				start = -1
			}
			continue
		}
		if start < 0 {
			start = i
		}
	}
	if start >= 0 {
		out = append(out, s[start:])
	}
	return out
}

func unquote(s string) (string, bool) {
	if len(s) >= 2 && (s[0] == '"' || s[0] == '\'') && s[len(s)-1] == s[0] {
		return s[1 : len(s)-1], true
	}
	return s, false
}

// path is a variable reference: "name", "a.b.c", "this", "this.x", "./x",
// "../x", "@index", "@root.x", "items.[0]".
type path struct {
	raw   string // as written: SES names it so in its errors
	depth int    // how many "../"
	data  bool   // an @ variable: segs[0] is its name
	segs  []string
}

// parseExpr parses a {{…}} expression: a path, or one of Handlebars'
// built-in helpers lookup and log (which prints nothing); a nil node is
// nothing to render.
func parseExpr(t *token) (node, error) {
	fields := fields(t.text)
	switch {
	case fields[0] == "log":
		return nil, nil
	case fields[0] == "lookup" && len(fields) == 3:
		obj, err := parsePath(t, fields[1])
		if err != nil {
			return nil, err
		}
		n := lookupNode{obj: obj}
		if lit, ok := unquote(fields[2]); ok {
			n.key.lit = lit
		} else if _, err := strconv.ParseFloat(fields[2], 64); err == nil {
			n.key.lit = fields[2]
		} else {
			key, err := parsePath(t, fields[2])
			if err != nil {
				return nil, err
			}
			n.key.path = &key
		}
		return n, nil
	case len(fields) > 1:
		return nil, t.errorf("helper '%s' is not supported", fields[0])
	}
	pth, err := parsePath(t, fields[0])
	if err != nil {
		return nil, err
	}
	return varNode{path: pth}, nil
}

// parsePath parses one path expression.
func parsePath(t *token, s string) (path, error) {
	p := path{raw: s}
	for strings.HasPrefix(s, "../") {
		p.depth++
		s = s[3:]
	}
	if strings.HasPrefix(s, "@") {
		p.data = true
		s = s[1:]
	}
	if s == "" {
		return p, t.errorf("invalid expression %q", p.raw)
	}
	for i, seg := 0, ""; len(s) > 0; i++ {
		var err error
		seg, s, err = nextSegment(s)
		if err != nil {
			return p, t.errorf("invalid expression %q: %v", p.raw, err)
		}
		if i == 0 && !p.data && (seg == "this" || seg == ".") {
			continue
		}
		p.segs = append(p.segs, seg)
	}
	if p.data && len(p.segs) == 0 {
		return p, t.errorf("invalid expression %q", p.raw)
	}
	return p, nil
}

// nextSegment splits the first segment off a path: an identifier or a
// [literal], followed by "." or "/" or the end.
func nextSegment(s string) (seg, rest string, err error) {
	if s[0] == '[' {
		j := strings.IndexByte(s, ']')
		if j < 0 {
			return "", "", fmt.Errorf("unclosed '['")
		}
		seg, rest = s[1:j], s[j+1:]
	} else {
		j := strings.IndexAny(s, "./")
		if j == 0 {
			if strings.HasPrefix(s, "./") || s == "." {
				return ".", s[min(2, len(s)):], nil
			}
			return "", "", fmt.Errorf("empty segment")
		}
		if j < 0 {
			j = len(s)
		}
		seg, rest = s[:j], s[j:]
		if k := strings.IndexAny(seg, "!\"#%&'()*+,;<=>@[\\]^`{|}~"); k >= 0 {
			return "", "", fmt.Errorf("character %q not allowed", seg[k])
		}
	}
	if rest != "" {
		if rest[0] != '.' && rest[0] != '/' {
			return "", "", fmt.Errorf("expected '.' after a segment")
		}
		rest = rest[1:]
		if rest == "" {
			return "", "", fmt.Errorf("trailing separator")
		}
	}
	return seg, rest, nil
}
