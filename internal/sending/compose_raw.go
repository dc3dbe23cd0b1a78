package sending

import (
	"bytes"
	"strings"
)

// RawDirectives are what SES reads from the X-SES-* header fields of a raw
// message sent through the API.
type RawDirectives struct {
	ConfigurationSet string   // X-SES-CONFIGURATION-SET
	Tags             []Header // X-SES-MESSAGE-TAGS: name=value, name2=value2
}

// rawDropped are the fields SES removes from a raw API message: its own
// directives (read into RawDirectives), the authorization ARNs, and the
// Message-ID and Date it overwrites (Submit then adds its own).
var rawDropped = map[string]bool{
	"x-ses-configuration-set": true, "x-ses-message-tags": true,
	"x-ses-source-arn": true, "x-ses-from-arn": true, "x-ses-return-path-arn": true,
	"message-id": true, "date": true,
}

// PrepareRaw removes those fields from a raw message's header section and
// returns the message and the directives found. The body is untouched.
func PrepareRaw(msg []byte) ([]byte, RawDirectives) {
	var d RawDirectives
	end := headerEnd(msg, 0)
	if end < 0 {
		end = len(msg) // all header
	}
	sec, rest := msg[:end], msg[end:]
	out := make([]byte, 0, len(msg))
	for len(sec) > 0 {
		n := fieldEnd(sec)
		field := sec[:n]
		sec = sec[n:]
		colon := bytes.IndexByte(field, ':')
		if colon <= 0 {
			out = append(out, field...)
			continue
		}
		name := strings.ToLower(string(bytes.TrimRight(field[:colon], " \t")))
		if !rawDropped[name] {
			out = append(out, field...)
			continue
		}
		value := unfold(field[colon+1:])
		switch name {
		case "x-ses-configuration-set":
			d.ConfigurationSet = value
		case "x-ses-message-tags":
			for _, pair := range strings.Split(value, ",") {
				k, v, ok := strings.Cut(strings.TrimSpace(pair), "=")
				if ok && k != "" {
					d.Tags = append(d.Tags, Header{Name: strings.TrimSpace(k), Value: strings.TrimSpace(v)})
				}
			}
		}
	}
	return append(out, rest...), d
}
