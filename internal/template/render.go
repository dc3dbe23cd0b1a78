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
// partials including themselves).
const (
	maxPartialDepth = 32
	maxSteps        = 5_000_000
	maxOutputBytes  = 40 << 20 // SES's largest message
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

func (r *renderer) nodes(out *bytes.Buffer, ns []node, stack []frame, depth int) error {
	for _, n := range ns {
		r.steps++
		if r.steps > maxSteps || out.Len() > maxOutputBytes {
			return ErrTooComplex
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
	return nil
}

// block renders #if, #unless, #each, #with and sections. Their argument may
// be missing: that is falsy, not an error (it is how templates test for
// optional data).
func (r *renderer) block(out *bytes.Buffer, n blockNode, stack []frame, depth int) error {
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
func (r *renderer) each(out *bytes.Buffer, n blockNode, v any, stack []frame, depth int) error {
	inner := append(stack[:len(stack):len(stack)], frame{})
	top := &inner[len(inner)-1]
	switch v := v.(type) {
	case []any:
		if len(v) == 0 {
			break
		}
		for i, item := range v {
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

// writeValue prints a value as Handlebars (JavaScript) would, unescaped.
func writeValue(out *bytes.Buffer, v any) {
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
