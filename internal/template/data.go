package template

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
)

// Object is a decoded JSON object that keeps its fields' order, so
// {{#each obj}} walks them as written, as Handlebars does.
type Object struct {
	keys   []string
	fields map[string]any
}

// Get returns a field.
func (o *Object) Get(name string) (any, bool) { v, ok := o.fields[name]; return v, ok }

// DecodeData decodes TemplateData, a JSON string: objects become *Object,
// numbers json.Number (so "1.50" renders as 1.50), the rest as encoding/json
// decodes them.
func DecodeData(s string) (any, error) {
	dec := json.NewDecoder(bytes.NewReader([]byte(s)))
	dec.UseNumber()
	v, err := decodeValue(dec, 0)
	if err != nil {
		return nil, fmt.Errorf("template: decoding data: %w", err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, errors.New("template: decoding data: content after the JSON value")
	}
	return v, nil
}

// maxNesting bounds JSON nesting (the decoder recurses).
const maxNesting = 200

func decodeValue(dec *json.Decoder, depth int) (any, error) {
	if depth > maxNesting {
		return nil, errors.New("nested too deeply")
	}
	tok, err := dec.Token()
	if err != nil {
		if err == io.EOF {
			return nil, io.ErrUnexpectedEOF
		}
		return nil, err
	}
	switch t := tok.(type) {
	case json.Delim:
		switch t {
		case '{':
			o := &Object{fields: map[string]any{}}
			for dec.More() {
				kt, err := dec.Token()
				if err != nil {
					return nil, err
				}
				k, ok := kt.(string)
				if !ok {
					return nil, fmt.Errorf("object key is not a string")
				}
				v, err := decodeValue(dec, depth+1)
				if err != nil {
					return nil, err
				}
				if _, dup := o.fields[k]; !dup {
					o.keys = append(o.keys, k)
				}
				o.fields[k] = v
			}
			if _, err := dec.Token(); err != nil { // '}'
				return nil, err
			}
			return o, nil
		case '[':
			list := []any{}
			for dec.More() {
				v, err := decodeValue(dec, depth+1)
				if err != nil {
					return nil, err
				}
				list = append(list, v)
			}
			if _, err := dec.Token(); err != nil { // ']'
				return nil, err
			}
			return list, nil
		}
		return nil, fmt.Errorf("unexpected %v", t)
	default:
		return t, nil
	}
}
