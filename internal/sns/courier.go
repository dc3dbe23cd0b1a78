package sns

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"time"

	"sesame/internal/store"
)

// courier makes a row's signed envelope and POSTs it: in the server, or in
// the low-priority helper process (helper.go), which has one of its own.
type courier struct {
	sign    *signing
	baseURL string
	client  *http.Client
}

// newHTTPClient is the client subscribers are POSTed to with: keep-alive,
// a 15 s timeout, no redirects.
func newHTTPClient() *http.Client {
	return &http.Client{
		Timeout: 15 * time.Second,
		Transport: &http.Transport{Proxy: nil, MaxIdleConns: 256, MaxIdleConnsPerHost: 64,
			IdleConnTimeout: 90 * time.Second, ResponseHeaderTimeout: 15 * time.Second},
		// SNS does not follow redirects: a 3xx is the subscriber's answer.
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}

// post POSTs one message. 2xx is delivered; 429, 5xx and transport errors
// are retried; any other status is the endpoint's refusal and drops the
// message (SNS does not retry client errors).
func (c *courier) post(ctx context.Context, p *store.SNSDelivery, body []byte) outcome {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, p.Endpoint, bytes.NewReader(body))
	if err != nil {
		return outcome{drop: true, reason: err.Error()}
	}
	h := req.Header
	h.Set("Content-Type", "text/plain; charset=UTF-8")
	h.Set("User-Agent", "Amazon Simple Notification Service Agent")
	h.Set("Accept-Encoding", "gzip,deflate")
	h.Set("x-amz-sns-message-type", p.Kind)
	h.Set("x-amz-sns-message-id", p.MessageID)
	h.Set("x-amz-sns-topic-arn", p.TopicARN)
	if p.Kind != "SubscriptionConfirmation" {
		h.Set("x-amz-sns-subscription-arn", p.SubscriptionARN)
	}
	if p.Kind == "Notification" {
		if p.Raw {
			h.Set("x-amz-sns-rawdelivery", "true")
		}
	}
	resp, err := c.client.Do(req)
	if err != nil {
		return outcome{reason: err.Error()}
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	resp.Body.Close()
	switch {
	case resp.StatusCode >= 200 && resp.StatusCode < 300:
		return outcome{ok: true}
	case resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode >= 500:
		return outcome{reason: resp.Status}
	}
	return outcome{drop: true, reason: "endpoint answered " + resp.Status}
}

// notificationBody and confirmationBody are SNS's envelopes, fields in the
// order SNS sends them.
type notificationBody struct {
	Type             string
	MessageId        string
	TopicArn         string
	Subject          string `json:",omitempty"`
	Message          string
	Timestamp        string
	SignatureVersion string
	Signature        string
	SigningCertURL   string
	UnsubscribeURL   string
}

type confirmationBody struct {
	Type             string
	MessageId        string
	Token            string
	TopicArn         string
	Message          string
	SubscribeURL     string
	Timestamp        string
	SignatureVersion string
	Signature        string
	SigningCertURL   string
}

// envelope is the POST body for a row: the signed JSON envelope, or the
// bare message for raw delivery.
func (c *courier) envelope(d *store.SNSDelivery) ([]byte, error) {
	if d.Raw && d.Kind == "Notification" {
		return []byte(d.Message), nil
	}
	ts := isoTime(d.Published)
	fields := map[string]string{"Type": d.Kind, "MessageId": d.MessageID, "TopicArn": d.TopicARN,
		"Message": d.Message, "Timestamp": ts}
	var v any
	if d.Kind == "Notification" {
		if d.Subject != "" {
			fields["Subject"] = d.Subject
		}
		sig, err := c.sign.signature(d.SignatureVersion, StringToSign(fields))
		if err != nil {
			return nil, err
		}
		v = notificationBody{Type: d.Kind, MessageId: d.MessageID, TopicArn: d.TopicARN, Subject: d.Subject,
			Message: d.Message, Timestamp: ts, SignatureVersion: d.SignatureVersion, Signature: sig,
			SigningCertURL: c.sign.certURL,
			UnsubscribeURL: c.baseURL + "/?Action=Unsubscribe&SubscriptionArn=" + d.SubscriptionARN}
	} else {
		fields["Token"] = d.Token
		fields["SubscribeURL"] = c.baseURL + "/?Action=ConfirmSubscription&TopicArn=" + d.TopicARN +
			"&Token=" + d.Token
		sig, err := c.sign.signature(d.SignatureVersion, StringToSign(fields))
		if err != nil {
			return nil, err
		}
		v = confirmationBody{Type: d.Kind, MessageId: d.MessageID, Token: d.Token, TopicArn: d.TopicARN,
			Message: d.Message, SubscribeURL: fields["SubscribeURL"], Timestamp: ts,
			SignatureVersion: d.SignatureVersion, Signature: sig, SigningCertURL: c.sign.certURL}
	}
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, fmt.Errorf("sns: envelope: %w", err)
	}
	return bytes.TrimRight(b.Bytes(), "\n"), nil
}
