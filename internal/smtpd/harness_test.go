package smtpd

import (
	"context"
	"crypto/tls"
	"errors"
	"io"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"sesame/internal/sending"
	"sesame/internal/seserr"
	"sesame/internal/smtpd/smtptest"
	"sesame/internal/spool"
)

const (
	testUser     = "AKIDEXAMPLE"
	testPassword = "secret-pass"
	testAccount  = "111122223333"
	testID       = "0100019a1b2c3d4e-5058a2a5-d4ad-407b-92b8-94472f229325-000000"
)

// testBackend is a Backend with one set of credentials that records what it
// is given. It mimics sending's recipient-count check so the 51st-recipient
// dialogue can be pinned here.
type testBackend struct {
	spool *spool.Spool

	mu          sync.Mutex
	failWith    error // returned by Submit when set
	authErr     error // returned by AuthenticateSMTP when set
	authRegions []string
	submissions []submitted
}

type submitted struct {
	sending.Submission
	Body string
}

func newTestBackend(t testing.TB) *testBackend {
	sp, err := spool.Open(t.TempDir(), spool.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sp.Close() })
	return &testBackend{spool: sp}
}

func (b *testBackend) AuthenticateSMTP(ctx context.Context, region, user, password string) (string, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.authRegions = append(b.authRegions, region)
	if b.authErr != nil {
		return "", b.authErr
	}
	if user != testUser || password != testPassword {
		return "", seserr.InvalidCredentials()
	}
	return testAccount, nil
}

// CheckAddress is a small stand-in for sending.CheckAddress.
func (b *testBackend) CheckAddress(addr string) error {
	local, domain, ok := strings.Cut(addr, "@")
	if !ok || local == "" || domain == "" || strings.ContainsAny(addr, " <>()[],;:\\\"") ||
		strings.Contains(domain, "@") {
		return errors.New("bad address")
	}
	for i := 0; i < len(addr); i++ {
		if addr[i] < 0x21 || addr[i] > 0x7e {
			return errors.New("bad address")
		}
	}
	return nil
}

func (b *testBackend) NewDraft() (*spool.Draft, error) { return b.spool.NewDraft() }

func (b *testBackend) Submit(ctx context.Context, sub *sending.Submission) (string, error) {
	defer sub.Draft.Discard()
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.failWith != nil {
		return "", b.failWith
	}
	if len(sub.Recipients) > sending.MaxRecipients {
		return "", seserr.RecipientCountExceeded()
	}
	body, err := io.ReadAll(sub.Draft.Reader())
	if err != nil {
		return "", err
	}
	if strings.Contains(string(body), "NOTVERIFIED") {
		return "", seserr.NotVerified(sub.Region, []string{sub.MailFrom})
	}
	b.submissions = append(b.submissions, submitted{Submission: *sub, Body: string(body)})
	return testID, nil
}

func (b *testBackend) setFail(err error) {
	b.mu.Lock()
	b.failWith = err
	b.mu.Unlock()
}

func (b *testBackend) submitted() []submitted {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]submitted(nil), b.submissions...)
}

// testCert is one self-signed certificate for the whole test binary:
// generating keys per test would only slow the suite.
var testCert = sync.OnceValues(func() (tls.Certificate, error) {
	certPEM, keyPEM, err := selfSigned("localhost")
	if err != nil {
		return tls.Certificate{}, err
	}
	return tls.X509KeyPair(certPEM, keyPEM)
})

// testServer is a Server on loopback listeners, one of each kind.
type testServer struct {
	srv      *Server
	be       *testBackend
	starttls string // address of the STARTTLS listener
	wrapper  string // address of the TLS-wrapper listener
}

func startServer(t testing.TB, be *testBackend, tune func(*Config)) *testServer {
	t.Helper()
	if be == nil {
		be = newTestBackend(t)
	}
	ts := startServerWith(t, be, tune)
	ts.be = be
	return ts
}

// startServerWith starts a Server for any Backend; ts.be is left nil.
func startServerWith(t testing.TB, be Backend, tune func(*Config)) *testServer {
	t.Helper()
	cert, err := testCert()
	if err != nil {
		t.Fatal(err)
	}
	cfg := Config{
		Regions: []string{"us-east-1", "eu-west-1"},
		TLS:     &tls.Config{Certificates: []tls.Certificate{cert}},
	}
	if tune != nil {
		tune(&cfg)
	}
	srv := New(cfg, be)
	ts := &testServer{srv: srv}
	for _, implicit := range []bool{false, true} {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		if implicit {
			ts.wrapper = l.Addr().String()
		} else {
			ts.starttls = l.Addr().String()
		}
		go srv.Serve(l, implicit)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := srv.Shutdown(ctx); err != nil {
			t.Errorf("Shutdown: %v", err)
		}
	})
	return ts
}

// clientTLS trusts anything: the tests are about the dialogue, and the SNI
// name must be free to carry a region.
func clientTLS(serverName string) *tls.Config {
	return &tls.Config{InsecureSkipVerify: true, ServerName: serverName}
}

func (ts *testServer) dialogue(implicitTLS bool, serverName string) smtptest.Dialogue {
	d := smtptest.Dialogue{Addr: ts.starttls, TLS: clientTLS(serverName)}
	if implicitTLS {
		d.Addr, d.ImplicitTLS = ts.wrapper, true
	}
	return d
}
