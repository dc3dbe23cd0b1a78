package template

import (
	"errors"
	"strings"
	"testing"
)

func TestRender(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, tmpl, data, want string
	}{
		{"text only", "Hello, world", `{}`, "Hello, world"},
		{"variable", "Hi {{name}}!", `{"name":"Ann"}`, "Hi Ann!"},
		{"spaces in tag", "Hi {{ name }}!", `{"name":"Ann"}`, "Hi Ann!"},
		{"no HTML escaping", "{{html}}|{{{html}}}|{{&html}}", `{"html":"<b>&\"'</b>"}`, `<b>&"'</b>|<b>&"'</b>|<b>&"'</b>`},
		{"dotted path", "{{contact.firstName}} {{contact.address.city}}", `{"contact":{"firstName":"Ann","address":{"city":"Oslo"}}}`, "Ann Oslo"},
		{"slash path", "{{contact/firstName}}", `{"contact":{"firstName":"Ann"}}`, "Ann"},
		{"this path", "{{this.name}}{{./name}}", `{"name":"A"}`, "AA"},
		{"number kept as written", "{{price}} {{n}} {{neg}}", `{"price":1.50,"n":3,"neg":-2e3}`, "1.50 3 -2e3"},
		{"bool", "[{{t}}][{{f}}]", `{"t":true,"f":false}`, "[true][false]"},
		{"null tested, not printed", "{{#if z}}z{{else}}no z{{/if}}", `{"z":null}`, "no z"},
		{"array printed", "{{list}}", `{"list":[1,"a",null,true]}`, "1,a,,true"},
		{"object printed", "{{o}}", `{"o":{"a":1}}`, "[object Object]"},
		{"array length", "{{items.length}} {{#if items.length}}some{{/if}}{{#if none.length}}x{{/if}}", `{"items":["a","b"],"none":[]}`, "2 some"},
		{"lookup helper", "{{#each ids}}{{lookup ../names this}} {{/each}}{{lookup names \"b\"}} {{lookup list 1}}{{lookup names \"zz\"}}",
			`{"ids":["a","b"],"names":{"a":"Ann","b":"Bo"},"list":["x","y"]}`, "Ann Bo Bo y"},
		{"log helper", "a{{log \"debug\" x}}b", `{}`, "ab"},
		{"index segment", "{{items.1}} {{items.[0]}}", `{"items":["a","b"]}`, "b a"},
		{"literal segment", "{{[first name]}}", `{"first name":"Ann"}`, "Ann"},
		{"each strings", "{{#each items}}<{{this}}>{{/each}}", `{"items":["a","b","c"]}`, "<a><b><c>"},
		{"each index", "{{#each items}}{{@index}}={{this}}{{#unless @last}},{{/unless}}{{/each}}", `{"items":["a","b"]}`, "0=a,1=b"},
		{"each first", "{{#each items}}{{#if @first}}*{{/if}}{{this}}{{/each}}", `{"items":["a","b"]}`, "*ab"},
		{"each objects fields direct", "{{#each people}}{{name}} ({{age}}); {{/each}}", `{"people":[{"name":"A","age":1},{"name":"B","age":2}]}`, "A (1); B (2); "},
		{"each parent", "{{#each people}}{{name}}@{{../company}} {{/each}}", `{"company":"X","people":[{"name":"A"},{"name":"B"}]}`, "A@X B@X "},
		{"each root", "{{#each people}}{{@root.company}}{{/each}}", `{"company":"X","people":[1,2]}`, "XX"},
		{"each object in order", "{{#each o}}{{@key}}={{this}};{{/each}}", `{"o":{"z":1,"a":2,"m":3}}`, "z=1;a=2;m=3;"},
		{"each empty else", "{{#each items}}x{{else}}none{{/each}}", `{"items":[]}`, "none"},
		{"each missing else", "{{#each items}}x{{else}}none{{/each}}", `{}`, "none"},
		{"nested each", "{{#each rows}}[{{#each this}}{{this}}{{/each}}]{{/each}}", `{"rows":[[1,2],[3]]}`, "[12][3]"},
		{"if true", "{{#if ok}}yes{{/if}}", `{"ok":true}`, "yes"},
		{"if missing is false", "{{#if ok}}yes{{else}}no{{/if}}", `{}`, "no"},
		{"if zero", "{{#if n}}yes{{else}}no{{/if}}", `{"n":0}`, "no"},
		{"if empty string", "{{#if s}}yes{{else}}no{{/if}}", `{"s":""}`, "no"},
		{"if empty list", "{{#if l}}yes{{else}}no{{/if}}", `{"l":[]}`, "no"},
		{"if empty object is true", "{{#if o}}yes{{else}}no{{/if}}", `{"o":{}}`, "yes"},
		{"if string zero is true", "{{#if s}}yes{{else}}no{{/if}}", `{"s":"0"}`, "yes"},
		{"else if chain", "{{#if a}}A{{else if b}}B{{else}}C{{/if}}", `{"b":1}`, "B"},
		{"else if chain last", "{{#if a}}A{{else if b}}B{{else}}C{{/if}}", `{}`, "C"},
		{"unless", "{{#unless a}}no a{{/unless}}", `{}`, "no a"},
		{"inverse else", "{{#if a}}A{{^}}not A{{/if}}", `{}`, "not A"},
		{"with", "{{#with c}}{{name}}{{/with}}", `{"c":{"name":"Ann"}}`, "Ann"},
		{"section object", "{{#c}}{{name}}{{/c}}", `{"c":{"name":"Ann"}}`, "Ann"},
		{"section list", "{{#c}}{{name}}{{/c}}", `{"c":[{"name":"A"},{"name":"B"}]}`, "AB"},
		{"inverted section", "{{^c}}none{{/c}}", `{"c":[]}`, "none"},
		{"comment", "a{{! hidden }}b{{!-- also }} hidden --}}c", `{}`, "abc"},
		{"inline partial", "{{#* inline \"greet\"}}Hi {{name}}{{/inline}}{{> greet}}!", `{"name":"Ann"}`, "Hi Ann!"},
		{"inline partial no space", "{{#*inline 'g'}}<{{this}}>{{/inline}}{{#each l}}{{> g}}{{/each}}", `{"l":[1,2]}`, "<1><2>"},
		{"partial used before defined", "{{> g}}{{#*inline \"g\"}}G{{/inline}}", `{}`, "G"},
		{"partial with context", "{{#*inline \"g\"}}{{name}}{{/inline}}{{> g person}}", `{"person":{"name":"P"}}`, "P"},
		{"standalone block lines", "list:\n{{#each l}}\n- {{this}}\n{{/each}}\nend", `{"l":["a","b"]}`, "list:\n- a\n- b\nend"},
		{"standalone inline", "{{#* inline \"p\"}}\nP\n{{/inline}}\n{{> p}}", `{}`, "P\n"},
		{"standalone crlf", "a\r\n  {{#if x}}\r\nX\r\n  {{/if}}\r\nb", `{"x":1}`, "a\r\nX\r\nb"},
		{"not standalone", "a {{#if x}}X{{/if}} b", `{"x":1}`, "a X b"},
		{"tilde trims", "a  {{~x~}}  b", `{"x":"X"}`, "aXb"},
		{"unmatched braces are text", "a } b { c }}", `{}`, "a } b { c }}"},
		{"escaped mustache", `a \{{name}} b`, `{"name":"x"}`, "a {{name}} b"},
		{"utf-8", "Grüße {{name}} ✓", `{"name":"Zoë"}`, "Grüße Zoë ✓"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			tm, err := Parse(tt.tmpl)
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			data, err := DecodeData(tt.data)
			if err != nil {
				t.Fatalf("DecodeData: %v", err)
			}
			got, err := tm.Render(data)
			if err != nil {
				t.Fatalf("Render: %v", err)
			}
			if got != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}

func TestRenderGoMaps(t *testing.T) {
	t.Parallel()
	tm, err := Parse("{{a.b}} {{#each m}}{{@key}}{{/each}}")
	if err != nil {
		t.Fatal(err)
	}
	got, err := tm.Render(map[string]any{"a": map[string]any{"b": 1.5}, "m": map[string]any{"y": 1, "x": 2}})
	if err != nil {
		t.Fatal(err)
	}
	if got != "1.5 xy" {
		t.Errorf("got %q", got)
	}
}

func TestMissingAttribute(t *testing.T) {
	t.Parallel()
	tests := []struct{ tmpl, data, name string }{
		{"Hi {{name}}", `{}`, "name"},
		{"Hi {{contact.firstName}}", `{"contact":{}}`, "contact.firstName"},
		{"Hi {{contact.firstName}}", `{}`, "contact.firstName"},
		{"{{#each l}}{{name}}{{/each}}", `{"l":[{"name":"a"},{}]}`, "name"},
		{"{{#if x}}{{y}}{{/if}}", `{"x":true}`, "y"},
		{"{{@index}}", `{}`, "@index"},
		{"{{#*inline \"p\"}}{{q}}{{/inline}}{{> p}}", `{}`, "q"},
		{"{{../x}}", `{}`, "../x"},
		{"Hi {{website}}", `{"website":null}`, "website"},
	}
	for _, tt := range tests {
		t.Run(tt.tmpl, func(t *testing.T) {
			t.Parallel()
			tm, err := Parse(tt.tmpl)
			if err != nil {
				t.Fatal(err)
			}
			data, _ := DecodeData(tt.data)
			_, err = tm.Render(data)
			var m *MissingAttributeError
			if !errors.As(err, &m) {
				t.Fatalf("Render error = %v, want a MissingAttributeError", err)
			}
			if m.Name != tt.name {
				t.Errorf("Name = %q, want %q", m.Name, tt.name)
			}
			want := "Attribute '" + tt.name + "' is not present in the rendering data."
			if err.Error() != want {
				t.Errorf("Error() = %q, want %q", err.Error(), want)
			}
		})
	}
}

func TestSyntaxErrors(t *testing.T) {
	t.Parallel()
	tests := []struct{ tmpl, want string }{
		{"{{name", "line 1, column 1: unclosed '{{'"},
		{"a\nb {{{x}}", "line 2, column 3: unclosed '{{{'"},
		{"{{#if x}}", "{{#if} is not closed"},
		{"{{#if x}}{{/each}}", "{{#if} closed by {{/each}}"},
		{"{{/if}}", "closes no open block"},
		{"{{else}}", "{{else}} outside a block"},
		{"{{#if}}x{{/if}}", "needs one argument"},
		{"{{#if a b}}x{{/if}}", "takes one argument"},
		{"{{#if (eq a b)}}x{{/if}}", "takes one argument"},
		{"{{uppercase name}}", "helper 'uppercase' is not supported"},
		{"{{lookup a}}", "helper 'lookup' is not supported"},
		{"{{#if a}}x{{else}}y{{else}}z{{/if}}", "a second {{else}}"},
		{"{{> nope}}", "the partial nope could not be found"},
		{"{{#* inline \"p\"}}x", "not closed by {{/inline}}"},
		{"{{#* inline p}}x{{/inline}}", "quoted string"},
		{"{{#*decorator}}x{{/decorator}}", "only the inline decorator"},
		{"{{}}", "empty expression"},
		{"{{!-- open", "unclosed comment"},
		{"{{a..b}}", "invalid expression"},
		{"{{a.}}", "invalid expression"},
		{"{{[a}}", "invalid expression"},
		{"{{a=b}}", "invalid expression"},
		{"{{#each l as |x|}}{{/each}}", "takes one argument"},
	}
	for _, tt := range tests {
		t.Run(tt.tmpl, func(t *testing.T) {
			t.Parallel()
			_, err := Parse(tt.tmpl)
			var se *SyntaxError
			if !errors.As(err, &se) {
				t.Fatalf("Parse(%q) error = %v, want a SyntaxError", tt.tmpl, err)
			}
			if !strings.Contains(strings.ReplaceAll(err.Error(), "{{#if}}", "{{#if}"), strings.ReplaceAll(tt.want, "{{#if}}", "{{#if}")) {
				t.Errorf("Parse(%q) error = %q, want it to contain %q", tt.tmpl, err, tt.want)
			}
		})
	}
}

func TestRenderBounds(t *testing.T) {
	t.Parallel()
	// A partial that includes itself must end with an error, not a stack overflow.
	tm, err := Parse("{{#*inline \"p\"}}x{{> p}}{{/inline}}{{> p}}")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tm.Render(nil); !errors.Is(err, ErrTooComplex) {
		t.Errorf("self-including partial: err = %v, want ErrTooComplex", err)
	}
	// Nested loops over a long list are bounded in work.
	tm, err = Parse("{{#each l}}{{#each ../l}}{{#each ../../l}}.{{/each}}{{/each}}{{/each}}")
	if err != nil {
		t.Fatal(err)
	}
	data, _ := DecodeData("[" + strings.Repeat("1,", 999) + "1]")
	if _, err := tm.Render(&Object{keys: []string{"l"}, fields: map[string]any{"l": data}}); !errors.Is(err, ErrTooComplex) {
		t.Errorf("1000³ loop: err = %v, want ErrTooComplex", err)
	}
}

func TestDecodeData(t *testing.T) {
	t.Parallel()
	for _, bad := range []string{``, `{`, `{"a":}`, `{} {}`, `nope`, strings.Repeat("[", 300) + strings.Repeat("]", 300)} {
		if _, err := DecodeData(bad); err == nil {
			t.Errorf("DecodeData(%q) succeeded", bad)
		}
	}
	for _, good := range []string{`{}`, `[]`, `"s"`, `1`, ` {"a":[1,{"b":null}]} `} {
		if _, err := DecodeData(good); err != nil {
			t.Errorf("DecodeData(%q): %v", good, err)
		}
	}
}

func FuzzParse(f *testing.F) {
	for _, s := range []string{
		"Hi {{name}}", "{{#each l}}{{@index}}{{this}}{{else}}x{{/each}}", "{{#if a}}A{{else if b}}B{{else}}C{{/if}}",
		"{{#*inline \"p\"}}\n{{x}}\n{{/inline}}\n{{> p}}", "{{!-- c --}}{{~x~}}", "{{{x}}}{{&y}}", "{{^a}}b{{/a}}",
		"{{../a.[b c]/d}}", "{{#with a}}{{b}}{{/with}}",
	} {
		f.Add(s, `{"a":[1,{"b":"c"}],"name":"n","l":[1,2],"x":"y"}`)
	}
	f.Fuzz(func(t *testing.T, tmpl, data string) {
		tm, err := Parse(tmpl)
		if err != nil {
			var se *SyntaxError
			if !errors.As(err, &se) {
				t.Fatalf("Parse error is not a SyntaxError: %T %v", err, err)
			}
			return
		}
		d, err := DecodeData(data)
		if err != nil {
			return
		}
		if _, err := tm.Render(d); err != nil {
			var m *MissingAttributeError
			if !errors.As(err, &m) && !errors.Is(err, ErrTooComplex) {
				t.Fatalf("Render error of an unexpected kind: %T %v", err, err)
			}
		}
	})
}

func BenchmarkRender(b *testing.B) {
	tm, err := Parse("Dear {{contact.firstName}},\n{{#each items}}- {{name}}: {{price}}\n{{/each}}{{#if vip}}VIP{{else}}regular{{/if}}")
	if err != nil {
		b.Fatal(err)
	}
	data, err := DecodeData(`{"contact":{"firstName":"Ann"},"vip":true,"items":[{"name":"a","price":1.5},{"name":"b","price":2}]}`)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := tm.Render(data); err != nil {
			b.Fatal(err)
		}
	}
}
