package sns

import (
	"context"
	"crypto"
	"crypto/rsa"
	"crypto/sha1"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"sesame/internal/clock"
	"sesame/internal/lowprio"
	"sesame/internal/store"
)

// The test binary is its own low-priority helper: with helperEnv set,
// TestMain serves (signing with crypto/rsa) instead of testing.
const helperEnv = "SESAME_SNS_TEST_HELPER"

func TestMain(m *testing.M) {
	if os.Getenv(helperEnv) == "1" {
		goRSA := func(string) (func(*rsa.PrivateKey) (crypto.Signer, error), error) {
			return func(k *rsa.PrivateKey) (crypto.Signer, error) { return k, nil }, nil
		}
		if err := ServeHelper(os.Stdin, os.Stdout, goRSA); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

func TestRowEncoding(t *testing.T) {
	d := store.SNSDelivery{SubscriptionARN: "arn:aws:sns:eu-west-1:123456789012:t:1", Endpoint: "http://x/hook",
		Protocol: "http", Raw: true, Kind: "Notification", MessageID: "id", TopicARN: "arn:aws:sns:eu-west-1:123456789012:t",
		Subject: "", Message: "ünïcode \x00 and a long tail " + string(make([]byte, 70000)), Token: "tok",
		SignatureVersion: "2", Published: time.Date(2026, 3, 1, 10, 0, 0, 123456789, time.UTC)}
	got, err := decodeRow(encodeRow(&d))
	if err != nil {
		t.Fatal(err)
	}
	if got != d {
		t.Errorf("decoded row differs:\n got %+v\nwant %+v", got, d)
	}
	for _, n := range []int{0, 5, 9, 20} {
		if _, err := decodeRow(encodeRow(&d)[:n]); err == nil {
			t.Errorf("a row cut at %d bytes decodes", n)
		}
	}
}

// With a helper, HTTP notifications are signed and POSTed by it: the
// subscriber gets the same envelope the server would have made, and its
// signature verifies against the served certificate.
func TestHelperDelivers(t *testing.T) {
	t.Setenv(helperEnv, "1")
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	st := openStore(t, t.TempDir())
	clk := clock.NewFake(time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC))
	svc, err := New(Config{Store: st, BaseURL: "http://sesame.test", Clock: clk, PollInterval: 5 * time.Millisecond,
		Helper: []string{exe}, HelperEngine: "go"})
	if err != nil {
		t.Fatal(err)
	}
	<-svc.helperReady
	h := svc.helper.Load()
	if h == nil {
		t.Fatal("the helper did not start")
	}
	t.Cleanup(func() { h.Close() })
	e := &env{st: st, clk: clk, svc: svc, c: Caller{AccountID: "123456789012", Region: "eu-west-1"}}
	e.run(t)
	sub := newSubscriber(t)
	topic := e.confirmedSubscription(t, sub)
	if _, err := svc.Publish(context.Background(), []Publication{{TopicArn: topic, Subject: "hi", Message: `{"eventType":"Send"}`}}); err != nil {
		t.Fatal(err)
	}
	got := sub.waitFor(2)
	for _, r := range got {
		if err := verifyV1(svc, r.body); err != nil {
			t.Errorf("%s: %v", r.body["Type"], err)
		}
	}
	n := got[1]
	if n.body["Type"] != "Notification" || n.body["Message"] != `{"eventType":"Send"}` || n.body["Subject"] != "hi" ||
		n.header.Get("x-amz-sns-message-type") != "Notification" || n.header.Get("x-amz-sns-subscription-arn") == "" {
		t.Errorf("notification = %v %v", n.header, n.body)
	}
	waitEmpty(t, st)
}

// verifyV1 checks a SignatureVersion 1 signature as SNS's validators do.
func verifyV1(s *Service, body map[string]string) error {
	block, _ := pem.Decode(s.sign.certPEM)
	cert, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		return err
	}
	if body["SigningCertURL"] != s.SigningCertURL() || body["SignatureVersion"] != "1" {
		return fmt.Errorf("SigningCertURL %q, SignatureVersion %q", body["SigningCertURL"], body["SignatureVersion"])
	}
	sig, err := base64.StdEncoding.DecodeString(body["Signature"])
	if err != nil {
		return err
	}
	sum := sha1.Sum([]byte(StringToSign(body)))
	return rsa.VerifyPKCS1v15(cert.PublicKey.(*rsa.PublicKey), crypto.SHA1, sum[:], sig)
}

// A helper that cannot be started again (the program's file gone) costs no
// notification: the server makes the attempt itself.
func TestHelperUnavailableFallsBack(t *testing.T) {
	st := openStore(t, t.TempDir())
	e := newEnv(t, st, clock.NewFake(time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)))
	e.svc.helper.Store(lowprio.New(filepath.Join(t.TempDir(), "gone"), nil, nil, nil))
	e.run(t)
	sub := newSubscriber(t)
	topic := e.confirmedSubscription(t, sub)
	if _, err := e.svc.Publish(context.Background(), []Publication{{TopicArn: topic, Message: "still here"}}); err != nil {
		t.Fatal(err)
	}
	got := sub.waitFor(2)
	if got[1].body["Message"] != "still here" {
		t.Errorf("notification = %v", got[1].body)
	}
	if err := verifyV1(e.svc, got[1].body); err != nil {
		t.Error(err)
	}
	waitEmpty(t, st)
}

// The server does not wait for its helper's first answer: a helper that
// gets no CPU (here one that never answers) leaves the server signing and
// posting itself from the start.
func TestHelperProbeDoesNotHoldBackStart(t *testing.T) {
	sleep, err := exec.LookPath("sleep")
	if err != nil {
		t.Fatal(err)
	}
	st := openStore(t, t.TempDir())
	clk := clock.NewFake(time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC))
	start := time.Now()
	svc, err := New(Config{Store: st, BaseURL: "http://sesame.test", Clock: clk, PollInterval: 5 * time.Millisecond,
		Helper: []string{sleep, "60"}, HelperEngine: "go"})
	if err != nil {
		t.Fatal(err)
	}
	if took := time.Since(start); took > 10*time.Second {
		t.Fatalf("New took %v: it waited for the helper's probe", took)
	}
	if svc.helper.Load() != nil {
		t.Fatal("a helper that never answered is in use")
	}
	e := &env{st: st, clk: clk, svc: svc, c: Caller{AccountID: "123456789012", Region: "eu-west-1"}}
	e.run(t)
	sub := newSubscriber(t)
	topic := e.confirmedSubscription(t, sub)
	if _, err := svc.Publish(context.Background(), []Publication{{TopicArn: topic, Message: "inline"}}); err != nil {
		t.Fatal(err)
	}
	if got := sub.waitFor(2); got[1].body["Message"] != "inline" {
		t.Errorf("notification = %v", got[1].body)
	}
}
