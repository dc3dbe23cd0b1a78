// Package events gives outcomes their SES meaning and tells subscribers.
//
// The courier (internal/delivery) and the feedback MX report what became of
// a message as outcome.Results; the Recorder turns them into SES event
// records (record.go, mail.go: SES's JSON, field for field) and appends them
// to the durable outbox (store.event_outbox) in group-committed batches, so
// a stage moves on (the spool marks the message done, the feedback MX says
// 250) only once its events are on disk. The Publisher reads the outbox in
// order behind a cursor and publishes each record to the SNS topics its
// configuration set's event destinations and its identity's notification
// settings name (notification.go has the older identity-notification
// shape). Sending never waits for a subscriber: a slow or dead one only
// lets the outbox (and SNS's own queue) grow.
//
// Delivery is at least once: a crash between publishing a batch and
// recording the cursor publishes that batch again. Events are kept once
// each (an idempotency key per event), so a stage replayed after a crash
// does not make duplicates.
package events
