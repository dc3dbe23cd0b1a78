package main

import (
	"bytes"
	"testing"
)

// The benchmark compares servers at a stated message size, so the size must
// be exact for every value, including the awkward ones near line boundaries.
func TestBuildMessageExactSize(t *testing.T) {
	o := &options{from: "sender@example.com", to: "recipient@example.net"}
	for size := 300; size < 2200; size++ {
		o.size = size
		msg, at, err := buildMessage(o)
		if err != nil {
			t.Fatalf("size %d: %v", size, err)
		}
		if len(msg) != size {
			t.Fatalf("size %d: got %d bytes", size, len(msg))
		}
		if !bytes.HasSuffix(msg, []byte("\r\n")) {
			t.Fatalf("size %d: message does not end in CRLF", size)
		}
		for _, line := range bytes.Split(msg, []byte("\r\n")) {
			if len(line) > 0 && line[0] == '.' {
				t.Fatalf("size %d: line needs dot-stuffing: %q", size, line)
			}
		}
		putSeq(msg[at:at+seqDigits], 123456789)
		if !bytes.Contains(msg, []byte("Message-ID: <000123456789.")) {
			t.Fatalf("size %d: sequence not patched into the Message-ID", size)
		}
	}
	o.size = 50
	if _, _, err := buildMessage(o); err == nil {
		t.Fatal("a size below the headers' must be refused")
	}
}

func TestRcpt(t *testing.T) {
	if got := rcpt("a@example.net", 0); got != "a@example.net" {
		t.Fatal(got)
	}
	if got := rcpt("a@example.net", 3); got != "a+3@example.net" {
		t.Fatal(got)
	}
}
