package policy

import (
	"encoding/json"
	"net/netip"
	"sort"
	"strconv"
	"strings"
	"time"
)

// condition is one operator applied to one key: the statement holds only
// when every condition does (IAM ANDs operators and keys, ORs values).
type condition struct {
	op       string // base operator, e.g. "StringLike"
	set      string // "", "ForAllValues", "ForAnyValue"
	ifExists bool
	key      string // lower-cased
	values   []string
	dates    []time.Time
	prefixes []netip.Prefix
}

type opKind int

const (
	opString opKind = iota
	opDate
	opIP
	opBool
	opNull
)

// operators lists the operators sesame evaluates; negated ones hold when
// their positive twin does not.
var operators = map[string]struct {
	kind    opKind
	negated bool
}{
	"StringEquals": {opString, false}, "StringNotEquals": {opString, true},
	"StringEqualsIgnoreCase": {opString, false}, "StringNotEqualsIgnoreCase": {opString, true},
	"StringLike": {opString, false}, "StringNotLike": {opString, true},
	"DateEquals": {opDate, false}, "DateNotEquals": {opDate, true},
	"DateLessThan": {opDate, false}, "DateLessThanEquals": {opDate, false},
	"DateGreaterThan": {opDate, false}, "DateGreaterThanEquals": {opDate, false},
	"IpAddress": {opIP, false}, "NotIpAddress": {opIP, true},
	"Bool": {opBool, false},
	"Null": {opNull, false},
}

// keys are the condition keys sesame fills in; ses: keys outside it are
// refused (a typo would otherwise never match), other aws: keys are
// accepted and, as in IAM, absent from every request.
var keys = map[string]bool{
	"ses:recipients": true, "ses:fromaddress": true, "ses:fromdisplayname": true,
	"ses:feedbackaddress": true, "ses:apiversion": true,
	"aws:currenttime": true, "aws:epochtime": true, "aws:sourceip": true,
	"aws:securetransport": true, "aws:principalaccount": true,
}

func parseConditions(v json.RawMessage) ([]condition, error) {
	var ops map[string]map[string]json.RawMessage
	if err := json.Unmarshal(v, &ops); err != nil {
		return nil, invalid("Condition must be an object of operators, each an object of keys")
	}
	var out []condition
	for name, byKey := range ops {
		c := condition{}
		base := name
		if s, rest, ok := strings.Cut(base, ":"); ok {
			if s != "ForAllValues" && s != "ForAnyValue" {
				return nil, invalid("Condition operator %q: unknown qualifier %q", name, s)
			}
			c.set, base = s, rest
		}
		if b, ok := strings.CutSuffix(base, "IfExists"); ok && b != "Null" {
			c.ifExists, base = true, b
		}
		op, ok := operators[base]
		if !ok {
			return nil, invalid("Condition operator %q is not one sesame knows", name)
		}
		c.op = base
		if len(byKey) == 0 {
			return nil, invalid("Condition operator %q names no key", name)
		}
		for key, raw := range byKey {
			k := strings.ToLower(key)
			if strings.HasPrefix(k, "ses:") && !keys[k] {
				return nil, invalid("Condition key %q is not an SES condition key", key)
			}
			vals, ok := scalarList(raw)
			if !ok {
				return nil, invalid("Condition %s %s: values must be strings, numbers or booleans", name, key)
			}
			kc := c
			kc.key, kc.values = k, vals
			switch op.kind {
			case opDate:
				for _, v := range vals {
					t, err := parseTime(v)
					if err != nil {
						return nil, invalid("Condition %s %s: %q is not a date (ISO 8601 or epoch seconds)", name, key, v)
					}
					kc.dates = append(kc.dates, t)
				}
			case opIP:
				for _, v := range vals {
					p, err := netip.ParsePrefix(v)
					if err != nil {
						a, aerr := netip.ParseAddr(v)
						if aerr != nil {
							return nil, invalid("Condition %s %s: %q is not an IP address or CIDR block", name, key, v)
						}
						p = netip.PrefixFrom(a, a.BitLen())
					}
					kc.prefixes = append(kc.prefixes, p.Masked())
				}
			case opBool, opNull:
				for _, v := range vals {
					if v != "true" && v != "false" {
						return nil, invalid("Condition %s %s: %q is not true or false", name, key, v)
					}
				}
			}
			out = append(out, kc)
		}
	}
	// Map order is random; a stable order keeps evaluation (and tests)
	// deterministic.
	sort.Slice(out, func(i, j int) bool {
		if out[i].op != out[j].op {
			return out[i].op < out[j].op
		}
		return out[i].key < out[j].key
	})
	return out, nil
}

func scalarList(raw json.RawMessage) ([]string, bool) {
	items, err := oneOrMany(raw)
	if err != nil || len(items) == 0 {
		return nil, false
	}
	out := make([]string, 0, len(items))
	for _, it := range items {
		var v any
		d := json.NewDecoder(strings.NewReader(string(it)))
		d.UseNumber()
		if d.Decode(&v) != nil {
			return nil, false
		}
		switch x := v.(type) {
		case string:
			out = append(out, x)
		case json.Number:
			out = append(out, x.String())
		case bool:
			out = append(out, strconv.FormatBool(x))
		default:
			return nil, false
		}
	}
	return out, true
}

func parseTime(v string) (time.Time, error) {
	if n, err := strconv.ParseInt(v, 10, 64); err == nil {
		return time.Unix(n, 0).UTC(), nil
	}
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05Z0700", "2006-01-02T15:04Z07:00", "2006-01-02"} {
		if t, err := time.Parse(layout, v); err == nil {
			return t, nil
		}
	}
	return time.Time{}, strconv.ErrSyntax
}

// requestValues returns the request's values for key; ok is false when the
// request has no such key.
func requestValues(r *Request, key string) ([]string, bool) {
	one := func(s string) ([]string, bool) {
		if s == "" {
			return nil, false
		}
		return []string{s}, true
	}
	switch key {
	case "ses:recipients":
		return r.Recipients, len(r.Recipients) > 0
	case "ses:fromaddress":
		return one(r.FromAddress)
	case "ses:fromdisplayname":
		return one(r.FromDisplayName)
	case "ses:feedbackaddress":
		return one(r.FeedbackAddress)
	case "ses:apiversion":
		return one(r.APIVersion)
	case "aws:currenttime":
		if r.Time.IsZero() {
			return nil, false
		}
		return []string{r.Time.UTC().Format(time.RFC3339)}, true
	case "aws:epochtime":
		if r.Time.IsZero() {
			return nil, false
		}
		return []string{strconv.FormatInt(r.Time.Unix(), 10)}, true
	case "aws:sourceip":
		if !r.SourceIP.IsValid() {
			return nil, false
		}
		return []string{r.SourceIP.Unmap().String()}, true
	case "aws:securetransport":
		return []string{strconv.FormatBool(r.SecureTransport)}, true
	case "aws:principalaccount":
		return one(r.Principal)
	}
	return nil, false
}

func (c *condition) holds(r *Request) bool {
	vals, present := requestValues(r, c.key)
	op := operators[c.op]
	if op.kind == opNull {
		// {"Null": {"key": "true"}}: the key is absent.
		want := c.values[0] == "true"
		return want == !present
	}
	if !present {
		switch {
		case c.ifExists:
			return true
		case c.set == "ForAllValues":
			return true // vacuously: every one of no values matches
		case c.set == "ForAnyValue":
			return false
		}
		// IAM: a negated operator on an absent key holds, a positive one
		// does not.
		return op.negated
	}
	switch c.set {
	case "ForAllValues":
		for _, v := range vals {
			if !c.one(v, op.negated) {
				return false
			}
		}
		return true
	case "ForAnyValue":
		for _, v := range vals {
			if c.one(v, op.negated) {
				return true
			}
		}
		return false
	}
	// A single-valued use: the positive operator holds when any request
	// value matches; the negated one when none does.
	matched := false
	for _, v := range vals {
		if c.one(v, false) {
			matched = true
			break
		}
	}
	return matched != op.negated
}

// one tests a single request value against the condition's values: the
// positive operator holds when any value matches; negated flips it.
func (c *condition) one(v string, negated bool) bool {
	return c.positive(v) != negated
}

func (c *condition) positive(v string) bool {
	switch c.op {
	case "StringEquals", "StringNotEquals":
		for _, want := range c.values {
			if v == want {
				return true
			}
		}
	case "StringEqualsIgnoreCase", "StringNotEqualsIgnoreCase":
		for _, want := range c.values {
			if strings.EqualFold(v, want) {
				return true
			}
		}
	case "StringLike", "StringNotLike":
		return anyMatch(c.values, v, false)
	case "Bool":
		for _, want := range c.values {
			if strings.EqualFold(v, want) {
				return true
			}
		}
	case "IpAddress", "NotIpAddress":
		a, err := netip.ParseAddr(v)
		if err != nil {
			return false
		}
		for _, p := range c.prefixes {
			if p.Contains(a) {
				return true
			}
		}
	default: // dates
		t, err := parseTime(v)
		if err != nil {
			return false
		}
		for _, want := range c.dates {
			if dateHolds(c.op, t, want) {
				return true
			}
		}
	}
	return false
}

func dateHolds(op string, t, want time.Time) bool {
	switch op {
	case "DateEquals", "DateNotEquals":
		return t.Equal(want)
	case "DateLessThan":
		return t.Before(want)
	case "DateLessThanEquals":
		return !t.After(want)
	case "DateGreaterThan":
		return t.After(want)
	case "DateGreaterThanEquals":
		return !t.Before(want)
	}
	return false
}
