package awsauth

import (
	"context"
	"strings"
	"testing"
	"time"
)

func TestVerifyReplayedClientRequests(t *testing.T) {
	t.Parallel()
	secrets := replaySecrets()
	for _, rr := range replayedRequests() {
		t.Run(rr.client, func(t *testing.T) {
			t.Parallel()
			r, body := readWire(t, strings.ReplaceAll(rr.header, "\n", "\r\n")+"\r\n\r\n"+rr.body)
			if int64(len(body)) != r.ContentLength && r.ContentLength >= 0 {
				t.Fatalf("capture damaged: body %d bytes, Content-Length %d", len(body), r.ContentLength)
			}
			signed, err := time.Parse(amzDateFormat, r.Header.Get("X-Amz-Date"))
			if err != nil {
				t.Fatal(err)
			}
			var keyID string
			lookup := func(_ context.Context, id string) (string, string, error) {
				keyID = id
				if s, ok := secrets[id]; ok {
					return s, "000000000001", nil
				}
				return "", "", ErrUnknownKey
			}
			p, err := VerifyRequest(context.Background(), r, body, lookup, signed.Add(3*time.Minute))
			if err != nil {
				t.Fatalf("captured request refused: %v", err)
			}
			if p.AccessKeyID != keyID || p.Service != Service || p.Region == "" {
				t.Fatalf("principal = %+v", p)
			}
			wrong := func(_ context.Context, id string) (string, string, error) {
				return secrets[id] + "x", "000000000001", nil
			}
			_, err = VerifyRequest(context.Background(), r, body, wrong, signed)
			checkRefused(t, err, "SignatureDoesNotMatch", 403, "")
			_, err = VerifyRequest(context.Background(), r, body, lookup, signed.Add(MaxSkew+time.Minute))
			checkRefused(t, err, "RequestExpired", 400, "")
		})
	}
}
