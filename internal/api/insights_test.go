package api

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/sesv2"
	v2types "github.com/aws/aws-sdk-go-v2/service/sesv2/types"
	"github.com/aws/smithy-go/middleware"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"sesame/internal/events"
	"sesame/internal/metrics"
	"sesame/internal/outcome"
	"sesame/internal/spool"
	"sesame/internal/testenv"
)

// TestGetMessageInsightsV2: a message sent through the API whose courier
// outcomes are recorded by the events Recorder shows, per recipient, its
// Send, Delivery and Bounce events; another account and an unknown id get
// NotFoundException.
func TestGetMessageInsightsV2(t *testing.T) {
	t.Parallel()
	e := newSendEnv(t, true)
	ctx := context.Background()
	sent, err := e.v2.SendEmail(ctx, &sesv2.SendEmailInput{
		FromEmailAddress: aws.String("Me <me@example.org>"),
		Destination:      &v2types.Destination{ToAddresses: []string{"ok@x.test", "Gone@x.test"}},
		EmailTags:        []v2types.MessageTag{{Name: aws.String("campaign"), Value: aws.String("c1")}},
		Content:          textContent("insights subject"),
	})
	if err != nil {
		t.Fatal(err)
	}
	id := aws.ToString(sent.MessageId)

	// Before any event is recorded, the message is unknown to insights.
	_, err = e.v2.GetMessageInsights(ctx, &sesv2.GetMessageInsightsInput{MessageId: aws.String(id)})
	wantErrCode(t, err, "NotFoundException")

	m := e.claim(t, 1)[0]
	header, _, _ := strings.Cut(m.raw, "\r\n\r\n")
	rec := events.NewRecorder(e.st, nil, nil, "mail.test", "", e.clk, quiet())
	rctx, stop := context.WithCancel(ctx)
	defer stop()
	go rec.Run(rctx)
	delivered := e.clk.Now().Add(2 * time.Second).Truncate(time.Millisecond)
	bounced := delivered.Add(time.Second)
	if err := rec.Record(ctx, &spool.Entry{Envelope: m.env}, []byte(header+"\r\n\r\n"), []outcome.Result{
		{Kind: outcome.Sent, Recipients: m.env.Recipients},
		{Kind: outcome.Delivered, Recipients: []string{"ok@x.test"}, Time: delivered, Reply: "250 2.0.0 Ok"},
		{Kind: outcome.Bounced, Recipients: []string{"Gone@x.test"}, Time: bounced,
			BounceType: outcome.BouncePermanent, BounceSubType: outcome.SubNoEmail, FeedbackID: "fb-1",
			Failure: &outcome.Failure{Code: 550, Enhanced: "5.1.1", Text: "no such user", Permanent: true, Remote: true}},
	}); err != nil {
		t.Fatal(err)
	}

	for _, path := range []string{"no slash (Go SDK)", "trailing slash (botocore)"} {
		t.Run(path, func(t *testing.T) {
			var opts []func(*sesv2.Options)
			if strings.HasPrefix(path, "trailing") {
				opts = append(opts, func(o *sesv2.Options) {
					o.APIOptions = append(o.APIOptions, addSlash)
				})
			}
			out, err := e.v2.GetMessageInsights(ctx, &sesv2.GetMessageInsightsInput{MessageId: aws.String(id)}, opts...)
			if err != nil {
				t.Fatal(err)
			}
			if aws.ToString(out.MessageId) != id || aws.ToString(out.Subject) != "insights subject" ||
				aws.ToString(out.FromEmailAddress) != "Me <me@example.org>" {
				t.Errorf("MessageId %q, Subject %q, From %q", aws.ToString(out.MessageId), aws.ToString(out.Subject), aws.ToString(out.FromEmailAddress))
			}
			tags := map[string]string{}
			for _, tg := range out.EmailTags {
				tags[aws.ToString(tg.Name)] = aws.ToString(tg.Value)
			}
			if tags["campaign"] != "c1" || tags["ses:operation"] != "SendEmail" || tags["ses:from-domain"] != "example.org" {
				t.Errorf("EmailTags = %v", tags)
			}
			if len(out.Insights) != 2 {
				t.Fatalf("%d insights, want 2: %+v", len(out.Insights), out.Insights)
			}
			ok, gone := out.Insights[0], out.Insights[1]
			if aws.ToString(ok.Destination) != "ok@x.test" || aws.ToString(gone.Destination) != "Gone@x.test" ||
				aws.ToString(ok.Isp) != "UNKNOWN_ISP" {
				t.Errorf("destinations %q, %q; Isp %q", aws.ToString(ok.Destination), aws.ToString(gone.Destination), aws.ToString(ok.Isp))
			}
			if got := insightTypes(ok.Events); got != "SEND,DELIVERY" {
				t.Errorf("ok@ events = %s", got)
			}
			if got := insightTypes(gone.Events); got != "SEND,BOUNCE" {
				t.Fatalf("gone@ events = %s", got)
			}
			if ts := aws.ToTime(ok.Events[1].Timestamp); !ts.Equal(delivered) {
				t.Errorf("delivery timestamp %v, want %v", ts, delivered)
			}
			if ts := aws.ToTime(ok.Events[0].Timestamp); ts.Sub(m.env.Received).Abs() > time.Millisecond {
				t.Errorf("send timestamp %v, want the acceptance %v", ts, m.env.Received)
			}
			b := gone.Events[1].Details
			if b == nil || b.Bounce == nil || b.Bounce.BounceType != v2types.BounceTypePermanent ||
				aws.ToString(b.Bounce.BounceSubType) != "NoEmail" ||
				aws.ToString(b.Bounce.DiagnosticCode) != "smtp; 550 5.1.1 no such user" {
				t.Errorf("bounce details = %+v", b)
			}
			if ts := aws.ToTime(gone.Events[1].Timestamp); !ts.Equal(bounced) {
				t.Errorf("bounce timestamp %v, want %v", ts, bounced)
			}
		})
	}

	t.Run("unknown id", func(t *testing.T) {
		_, err := e.v2.GetMessageInsights(ctx, &sesv2.GetMessageInsightsInput{MessageId: aws.String("0100000000000000-nope")})
		wantErrCode(t, err, "NotFoundException")
	})
	t.Run("another account", func(t *testing.T) {
		_, key, err := e.st.CreateAccount(ctx)
		if err != nil {
			t.Fatal(err)
		}
		other := sesv2.New(e.v2.Options(), func(o *sesv2.Options) {
			o.Credentials = credentials.StaticCredentialsProvider{Value: aws.Credentials{AccessKeyID: key.ID, SecretAccessKey: key.Secret}}
		})
		_, err = other.GetMessageInsights(ctx, &sesv2.GetMessageInsightsInput{MessageId: aws.String(id)})
		wantErrCode(t, err, "NotFoundException")
	})
}

func insightTypes(evs []v2types.InsightsEvent) string {
	var l []string
	for _, ev := range evs {
		l = append(l, string(ev.Type))
	}
	return strings.Join(l, ",")
}

// addSlash adds a trailing slash to the request's path before it is
// signed, as botocore's model writes GetMessageInsights's URI.
func addSlash(stack *middleware.Stack) error {
	return stack.Serialize.Add(middleware.SerializeMiddlewareFunc("addSlash",
		func(ctx context.Context, in middleware.SerializeInput, next middleware.SerializeHandler) (middleware.SerializeOutput, middleware.Metadata, error) {
			if r, ok := in.Request.(*smithyhttp.Request); ok {
				r.URL.Path += "/"
			}
			return next.HandleSerialize(ctx, in)
		}), middleware.After)
}

// TestMetricsRoute: GET /metrics is served unauthenticated when the
// server has a metrics handler, and counts real sends; without one it is
// an ordinary (signed) route.
func TestMetricsRoute(t *testing.T) {
	t.Parallel()
	e := newSendEnv(t, false)
	// Queue readings are cached for a second of this clock.
	var now atomic.Int64
	now.Store(time.Now().UnixNano())
	srv := New(Config{Store: e.st, Regions: []string{e.region}, Logger: quiet(),
		Metrics: metrics.Handler(metrics.Sources{Queue: func() metrics.QueueStats {
			s := e.sp.Stats()
			return metrics.QueueStats{Pending: s.Pending, Deferred: s.Deferred, Oldest: e.sp.Oldest()}
		}, Now: func() time.Time { return time.Unix(0, now.Load()) }})})
	hs := httptest.NewServer(srv.Handler())
	t.Cleanup(hs.Close)

	before := testenv.ScrapeMetrics(t, hs.URL+"/metrics")
	ctx := context.Background()
	if _, err := e.v2.SendEmail(ctx, &sesv2.SendEmailInput{FromEmailAddress: aws.String("me@example.org"),
		Destination: &v2types.Destination{ToAddresses: []string{"me@example.org"}},
		Content:     textContent("metrics")}); err != nil {
		t.Fatal(err)
	}
	// The sandbox refuses an unverified recipient.
	_, err := e.v2.SendEmail(ctx, &sesv2.SendEmailInput{FromEmailAddress: aws.String("me@example.org"),
		Destination: &v2types.Destination{ToAddresses: []string{"stranger@elsewhere.test"}},
		Content:     textContent("metrics")})
	wantErrCode(t, err, "MessageRejected")
	now.Add(int64(time.Second))
	after := testenv.ScrapeMetrics(t, hs.URL+"/metrics")
	for k, min := range map[string]float64{
		`sesame_messages_accepted_total{protocol="api"}`:           1,
		`sesame_messages_rejected_total{reason="MessageRejected"}`: 1,
	} {
		if d := after[k] - before[k]; d < min {
			t.Errorf("%s moved by %v, want at least %v", k, d, min)
		}
	}
	if got := after["sesame_queue_messages"]; got != 1 {
		t.Errorf("sesame_queue_messages = %v, want 1", got)
	}

	// No handler: /metrics is not sesame's open route.
	plain := httptest.NewServer(New(Config{Store: e.st, Regions: []string{e.region}, Logger: quiet()}).Handler())
	t.Cleanup(plain.Close)
	resp, err := http.Get(plain.URL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode == http.StatusOK {
		t.Error("GET /metrics answered 200 on a server without a metrics handler")
	}
}

func textContent(subject string) *v2types.EmailContent {
	return &v2types.EmailContent{Simple: &v2types.Message{Subject: &v2types.Content{Data: aws.String(subject)},
		Body: &v2types.Body{Text: &v2types.Content{Data: aws.String("body")}}}}
}
