package e2e

import (
	"bufio"
	"crypto/tls"
	"fmt"
	"net"
	"strings"
	"testing"
	"time"

	"sesame/internal/testenv"
)

// tlsEndpoint opens a connection ready for a TLS handshake: at once for the
// TLS wrapper, after EHLO and STARTTLS for the others.
type tlsEndpoint struct {
	name     string
	addr     string
	startTLS bool
}

func (e tlsEndpoint) handshake(cfg *tls.Config) (*tls.ConnectionState, error) {
	conn, err := net.DialTimeout("tcp", e.addr, 10*time.Second)
	if err != nil {
		return nil, err
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(30 * time.Second))
	if e.startTLS {
		r := bufio.NewReader(conn)
		read := func() (string, error) {
			for {
				l, err := r.ReadString('\n')
				if err != nil || len(l) < 4 || l[3] != '-' {
					return l, err
				}
			}
		}
		if _, err := read(); err != nil {
			return nil, err
		}
		fmt.Fprintf(conn, "EHLO tls.example\r\n")
		if _, err := read(); err != nil {
			return nil, err
		}
		fmt.Fprintf(conn, "STARTTLS\r\n")
		if l, err := read(); err != nil || !strings.HasPrefix(l, "220") {
			return nil, fmt.Errorf("STARTTLS: %q %v", l, err)
		}
	}
	tc := tls.Client(conn, cfg)
	if err := tc.Handshake(); err != nil {
		return nil, err
	}
	st := tc.ConnectionState()
	return &st, nil
}

// TestTLSNoOldProtocolsNoWeakCiphers: on the STARTTLS listener, the TLS
// wrapper and the feedback MX's STARTTLS, a client offering only TLS 1.0 or
// 1.1, or only the cipher suites Go calls insecure (RC4, 3DES, CBC with
// SHA-256, RSA key exchange among them) gets no session; TLS 1.2 with an
// AEAD suite and TLS 1.3 do. testssl.sh checks the same from outside
// (reliability/testssl.sh, report in docs/reliability/).
func TestTLSNoOldProtocolsNoWeakCiphers(t *testing.T) {
	d := testenv.StartDNS(t)
	_, port := testenv.StartSinks(t, testenv.SinkOptions{})
	fbAddr := testenv.FreeAddr(t)
	s := startMXServer(t, d, port, fmt.Sprintf("[feedback]\nlisten = [%q]\n", fbAddr))
	endpoints := []tlsEndpoint{
		{"STARTTLS listener", s.SMTP, true},
		{"TLS wrapper", s.SMTPS, false},
		{"feedback MX", fbAddr, true},
	}
	var insecure []uint16
	for _, cs := range tls.InsecureCipherSuites() {
		insecure = append(insecure, cs.ID)
	}
	var rsaKex []uint16 // static RSA key exchange: no forward secrecy
	for _, cs := range tls.CipherSuites() {
		if strings.HasPrefix(cs.Name, "TLS_RSA_") {
			rsaKex = append(rsaKex, cs.ID)
		}
	}
	base := func() *tls.Config { return &tls.Config{InsecureSkipVerify: true, ServerName: "localhost"} }
	for _, e := range endpoints {
		t.Run(e.name, func(t *testing.T) {
			for _, v := range []uint16{tls.VersionTLS10, tls.VersionTLS11} {
				cfg := base()
				cfg.MinVersion, cfg.MaxVersion = v, v
				if st, err := e.handshake(cfg); err == nil {
					t.Errorf("%s: a session on %s", e.name, tls.VersionName(st.Version))
				}
			}
			for _, suites := range [][]uint16{insecure, rsaKex} {
				if len(suites) == 0 {
					continue // an empty list would mean Go's defaults
				}
				cfg := base()
				cfg.MaxVersion = tls.VersionTLS12
				cfg.CipherSuites = suites
				if st, err := e.handshake(cfg); err == nil {
					t.Errorf("%s: a session with %s", e.name, tls.CipherSuiteName(st.CipherSuite))
				}
			}
			cfg := base()
			cfg.MaxVersion = tls.VersionTLS12
			st, err := e.handshake(cfg)
			if err != nil {
				t.Fatalf("%s: TLS 1.2: %v", e.name, err)
			}
			if name := tls.CipherSuiteName(st.CipherSuite); !strings.Contains(name, "GCM") && !strings.Contains(name, "CHACHA20") {
				t.Errorf("%s: TLS 1.2 chose %s, not an AEAD suite", e.name, name)
			}
			if st, err := e.handshake(base()); err != nil || st.Version != tls.VersionTLS13 {
				t.Errorf("%s: default handshake: %v, %v (want TLS 1.3)", e.name, st, err)
			}
		})
	}
}
