package template

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"
)

// Bounds on one Render, so a small template over small data cannot make
// sesame loop or allocate without end (nested #each over the same list,
// partials including themselves). Every node rendered and every loop
// iteration is a step, so an #each with an empty body costs too.
const (
	maxPartialDepth = 32
	maxSteps        = 5_000_000
	// MaxOutputBytes bounds one rendered part: SES's 10 MB for a message
	// sent through v1, which is what SendTemplatedEmail is. A part past it
	// could never be sent. Before, the bound was 40 MiB, checked between
	// nodes, and a 1 KB request took 127 MB (issue 9).
	MaxOutputBytes = 10 << 20
)

// ErrTooComplex: rendering exceeded sesame's bounds on work or output.
var ErrTooComplex = errors.New("template: rendering exceeds the allowed work or output size")

// frame is one context of the stack: #each, #with, sections and partials
// with a context argument push one; `../` walks back.
type frame struct {
	value            any
	index            int
	key              string
	first, last      bool
	hasIndex, hasKey bool
}

type renderer struct {
	t     *Template
	root  any
	steps int
}

// step counts one unit of work and says whether the bounds still hold.
func (r *renderer) step(out *output) error {
	r.steps++
	if r.steps > maxSteps || out.over {
		return ErrTooComplex
	}
	return nil
}

func (r *renderer) nodes(out *output, ns []node, stack []frame, depth int) error {
	for _, n := range ns {
		if err := r.step(out); err != nil {
			return err
		}
		switch n := n.(type) {
		case textNode:
			out.WriteString(string(n))
		case varNode:
			// SES treats a null value as a missing one: the message fails
			// to render (reported by SES users; aws/aws-sdk-js#2239).
			v, ok := r.lookup(n.path, stack)
			if !ok || v == nil {
				return &MissingAttributeError{Name: n.path.raw}
			}
			writeValue(out, v)
		case lookupNode:
			key := n.key.lit
			if n.key.path != nil {
				k, ok := r.lookup(*n.key.path, stack)
				if !ok || k == nil {
					continue
				}
				var b bytes.Buffer
				writeValue(&b, k)
				key = b.String()
			}
			if obj, ok := r.lookup(n.obj, stack); ok {
				if v, ok := walk(obj, []string{key}); ok {
					writeValue(out, v)
				}
			}
		case blockNode:
			if err := r.block(out, n, stack, depth); err != nil {
				return err
			}
		case partialNode:
			if depth >= maxPartialDepth {
				return fmt.Errorf("template: partial %s: %w", n.name, ErrTooComplex)
			}
			inner := stack
			if n.ctx != nil {
				v, _ := r.lookup(*n.ctx, stack)
				inner = append(stack[:len(stack):len(stack)], frame{value: v})
			}
			if err := r.nodes(out, r.t.partials[n.name], inner, depth+1); err != nil {
				return err
			}
		}
	}
	if out.over {
		return ErrTooComplex
	}
	return nil
}

// block renders #if, #unless, #each, #with and sections. Their argument may
// be missing: that is falsy, not an error (it is how templates test for
// optional data).
func (r *renderer) block(out *output, n blockNode, stack []frame, depth int) error {
	v, _ := r.lookup(n.path, stack)
	push := func(f frame) []frame { return append(stack[:len(stack):len(stack)], f) }
	switch n.kind {
	case "if":
		if truthy(v) {
			return r.nodes(out, n.body, stack, depth)
		}
		return r.nodes(out, n.else_, stack, depth)
	case "unless":
		if !truthy(v) {
			return r.nodes(out, n.body, stack, depth)
		}
		return r.nodes(out, n.else_, stack, depth)
	case "with":
		if truthy(v) {
			return r.nodes(out, n.body, push(frame{value: v}), depth)
		}
		return r.nodes(out, n.else_, stack, depth)
	case "each":
		return r.each(out, n, v, stack, depth)
	default: // a mustache section: a list iterates, a truthy value becomes the context
		if _, isList := v.([]any); isList {
			return r.each(out, n, v, stack, depth)
		}
		if truthy(v) {
			return r.nodes(out, n.body, push(frame{value: v}), depth)
		}
		return r.nodes(out, n.else_, stack, depth)
	}
}

// each iterates a list (with @index, @first, @last) or an object's fields in
// order (with @key too); an empty one renders the else branch.
func (r *renderer) each(out *output, n blockNode, v any, stack []frame, depth int) error {
	inner := append(stack[:len(stack):len(stack)], frame{})
	top := &inner[len(inner)-1]
	switch v := v.(type) {
	case []any:
		if len(v) == 0 {
			break
		}
		for i, item := range v {
			if err := r.step(out); err != nil {
				return err
			}
			*top = frame{value: item, index: i, hasIndex: true, first: i == 0, last: i == len(v)-1}
			if err := r.nodes(out, n.body, inner, depth); err != nil {
				return err
			}
		}
		return nil
	case *Object:
		if len(v.keys) == 0 {
			break
		}
		for i, k := range v.keys {
			if err := r.step(out); err != nil {
				return err
			}
			*top = frame{value: v.fields[k], index: i, key: k, hasIndex: true, hasKey: true,
				first: i == 0, last: i == len(v.keys)-1}
			if err := r.nodes(out, n.body, inner, depth); err != nil {
				return err
			}
		}
		return nil
	case map[string]any:
		if len(v) == 0 {
			break
		}
		keys := make([]string, 0, len(v))
		for k := range v {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for i, k := range keys {
			if err := r.step(out); err != nil {
				return err
			}
			*top = frame{value: v[k], index: i, key: k, hasIndex: true, hasKey: true,
				first: i == 0, last: i == len(keys)-1}
			if err := r.nodes(out, n.body, inner, depth); err != nil {
				return err
			}
		}
		return nil
	}
	return r.nodes(out, n.else_, stack, depth)
}

// lookup resolves a path against the context stack; ok is false when some
// segment is absent.
func (r *renderer) lookup(p path, stack []frame) (any, bool) {
	if p.depth >= len(stack) {
		return nil, false
	}
	f := stack[len(stack)-1-p.depth]
	if !p.data {
		return walk(f.value, p.segs)
	}
	var v any
	switch p.segs[0] {
	case "root":
		v = r.root
	case "index":
		if !f.hasIndex {
			return nil, false
		}
		v = json.Number(strconv.Itoa(f.index))
	case "key":
		if !f.hasKey {
			return nil, false
		}
		v = f.key
	case "first":
		if !f.hasIndex {
			return nil, false
		}
		v = f.first
	case "last":
		if !f.hasIndex {
			return nil, false
		}
		v = f.last
	default:
		return nil, false
	}
	return walk(v, p.segs[1:])
}

// walk follows segments through objects (and list indexes).
func walk(v any, segs []string) (any, bool) {
	for _, s := range segs {
		switch c := v.(type) {
		case *Object:
			f, ok := c.fields[s]
			if !ok {
				return nil, false
			}
			v = f
		case map[string]any:
			f, ok := c[s]
			if !ok {
				return nil, false
			}
			v = f
		case map[string]string:
			f, ok := c[s]
			if !ok {
				return nil, false
			}
			v = f
		case []any:
			if s == "length" { // a JavaScript array's property, which Handlebars templates use
				v = json.Number(strconv.Itoa(len(c)))
				continue
			}
			i, err := strconv.Atoi(s)
			if err != nil || i < 0 || i >= len(c) {
				return nil, false
			}
			v = c[i]
		default:
			return nil, false
		}
	}
	return v, true
}

// truthy is Handlebars' test: false, null, "", 0 and [] are false; anything
// else (an empty object included) is true.
func truthy(v any) bool {
	switch v := v.(type) {
	case nil:
		return false
	case bool:
		return v
	case string:
		return v != ""
	case json.Number:
		f, err := v.Float64()
		return err != nil || f != 0
	case float64:
		return v != 0
	case int:
		return v != 0
	case []any:
		return len(v) > 0
	}
	return true
}

// writer is where values are printed: the output, or a buffer for a key.
type writer interface {
	WriteString(string) (int, error)
	WriteByte(byte) error
}

// writeValue prints a value as Handlebars (JavaScript) would, unescaped.
func writeValue(out writer, v any) {
	switch v := v.(type) {
	case nil:
	case string:
		out.WriteString(v)
	case bool:
		out.WriteString(strconv.FormatBool(v))
	case json.Number:
		out.WriteString(v.String())
	case float64:
		out.WriteString(strconv.FormatFloat(v, 'f', -1, 64))
	case int:
		out.WriteString(strconv.Itoa(v))
	case []any:
		// Array.prototype.toString: elements joined by commas.
		for i, e := range v {
			if i > 0 {
				out.WriteByte(',')
			}
			if _, nested := e.([]any); nested || e != nil {
				writeValue(out, e)
			}
		}
	case *Object, map[string]any, map[string]string:
		out.WriteString("[object Object]")
	default:
		out.WriteString(strings.TrimSpace(fmt.Sprint(v)))
	}
}

// output is a Render's result, bounded: a write that would take it past
// MaxOutputBytes is dropped and marks it over, so no buffer ever grows
// beyond the bound (bytes.Buffer would double past it first).
type output struct {
	b    []byte
	over bool
}

func (o *output) WriteString(s string) (int, error) {
	if o.over || len(o.b)+len(s) > MaxOutputBytes {
		o.over = true
		return 0, nil
	}
	if len(o.b)+len(s) > cap(o.b) {
		// Doubling, capped at the bound: what a Render allocates in all
		// stays below twice the bound.
		nb := make([]byte, len(o.b), min(max(2*cap(o.b), len(o.b)+len(s), 512), MaxOutputBytes))
		copy(nb, o.b)
		o.b = nb
	}
	o.b = append(o.b, s...)
	return len(s), nil
}

func (o *output) WriteByte(c byte) error {
	_, err := o.WriteString(string([]byte{c}))
	return err
}

func (o *output) Len() int { return len(o.b) }
