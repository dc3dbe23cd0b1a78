// Package template renders SES email templates: the subset of Handlebars SES
// documents (spec §4) — `{{var}}` with dotted paths, `{{#each}}` (with
// `this`, `@index`, `@key`, `@first`, `@last`), `{{#if}}…{{else}}…{{/if}}`
// (also `{{else if …}}` chains and `{{#unless}}`, `{{#with}}`), inline
// partials `{{#* inline "n"}}…{{/inline}}` used as `{{> n}}`, the lookup and
// log helpers, comments and `~` whitespace control — over TemplateData
// decoded from JSON. Custom helpers do not exist in SES, so not here either.
//
// SES does not HTML-escape values, so neither does this package: `{{x}}`
// and `{{{x}}}` render the same. A variable missing from the data (or
// null, as SES treats it) is a *MissingAttributeError carrying SES's text; a malformed template is a
// *SyntaxError. The package knows nothing of SES's API or its limits: the
// callers (api, sending) map these errors to SES's codes.
package template

import "fmt"

// Template is a parsed template part (a subject, a text or an HTML body).
// Inline partials belong to the part that defines them, as in SES.
type Template struct {
	root     []node
	partials map[string][]node
}

// MissingAttributeError: a `{{var}}` names data that is not there.
type MissingAttributeError struct {
	Name string // as written in the template, e.g. "contact.firstName"
}

// Error is SES's RenderingFailure errorMessage.
func (e *MissingAttributeError) Error() string {
	return fmt.Sprintf("Attribute '%s' is not present in the rendering data.", e.Name)
}

// SyntaxError: the template is not valid Handlebars (of SES's subset).
type SyntaxError struct {
	Line, Column int // 1-based position of the offending tag
	Msg          string
}

func (e *SyntaxError) Error() string {
	return fmt.Sprintf("line %d, column %d: %s", e.Line, e.Column, e.Msg)
}

// Parse parses a template part.
func Parse(text string) (*Template, error) {
	toks, err := lex(text)
	if err != nil {
		return nil, err
	}
	p := &parser{toks: toks, partials: map[string][]node{}}
	root, err := p.parseRoot()
	if err != nil {
		return nil, err
	}
	for _, use := range p.uses {
		if _, ok := p.partials[use.name]; !ok {
			return nil, use.errorf("the partial %s could not be found", use.name)
		}
	}
	return &Template{root: root, partials: p.partials}, nil
}

// Render renders the template over data: decoded JSON (map[string]any,
// []any, string, float64 or json.Number, bool, nil), as DecodeData returns.
// Output past MaxOutputBytes, or work past a fixed number of steps, is
// ErrTooComplex.
func (t *Template) Render(data any) (string, error) {
	r := &renderer{t: t, root: data}
	var out output
	if err := r.nodes(&out, t.root, []frame{{value: data}}, 0); err != nil {
		return "", err
	}
	return string(out.b), nil
}

// node kinds of the parse tree.
type node interface{ isNode() }

type (
	textNode string
	// varNode prints a path's value.
	varNode struct {
		path path
	}
	// lookupNode is the lookup helper: {{lookup obj key}} prints obj[key]
	// (nothing when absent: a helper's result is not checked as a path is).
	lookupNode struct {
		obj path
		key argument
	}
	// argument is a helper argument: a path or a literal.
	argument struct {
		path *path
		lit  string
	}
	// blockNode is #if, #unless, #each or #with with its else branch.
	blockNode struct {
		kind        string
		path        path
		body, else_ []node
	}
	// partialNode renders an inline partial with the current (or a given) context.
	partialNode struct {
		name string
		ctx  *path
	}
)

func (textNode) isNode()    {}
func (varNode) isNode()     {}
func (lookupNode) isNode()  {}
func (blockNode) isNode()   {}
func (partialNode) isNode() {}
