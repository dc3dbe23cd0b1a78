// Package tracking is SES's open and click tracking, as pure functions:
// it rewrites a message's HTML parts (a 1×1 pixel at the end of the body
// or at the first {{ses:openTracker}}, every trackable link through a
// redirect), makes the tracking URLs and checks them when they come back,
// and serves them over HTTP (a GIF for an open, a 302 for a click).
//
// It never decides whether a message is tracked (sending does, from the
// configuration set's event destinations) and never records anything
// itself: a hit goes to a Sink (events turns it into an Open or Click
// record). URLs carry everything a hit needs (message id, target, link
// tags) under an HMAC, so nothing is stored per link and an edited or
// forged URL is refused.
//
// Limits: HTML is rewritten with a tokenizer, not a full parser, so
// everything but the rewritten <a> tags and the inserted pixel is kept
// byte for byte; HTML in charsets that are not ASCII-compatible (UTF-16)
// is left alone; a 7bit/8bit part whose lines grow past SMTP's 998
// characters is sent as it is.
package tracking
