package main

import (
	"context"
	"crypto/tls"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"

	"sesame/internal/api"
	"sesame/internal/backup"
	"sesame/internal/clock"
	"sesame/internal/config"
	"sesame/internal/delivery"
	"sesame/internal/dkim"
	"sesame/internal/dnsx"
	"sesame/internal/events"
	"sesame/internal/feedback"
	"sesame/internal/importexport"
	"sesame/internal/inbound"
	"sesame/internal/lease"
	"sesame/internal/lowprio"
	"sesame/internal/mailmsg"
	"sesame/internal/objstore"
	"sesame/internal/queuectl"
	"sesame/internal/quota"
	"sesame/internal/receiving/bounce"
	"sesame/internal/sdnotify"
	"sesame/internal/sending"
	"sesame/internal/smtpd"
	"sesame/internal/sns"
	"sesame/internal/spool"
	"sesame/internal/store"
	"sesame/internal/verify"
)

const serveUsage = `Usage: sesame serve [-c FILE] [--data DIR]

Runs the SMTP endpoint, the SES and SNS APIs, the web console
([console] listen, default http://127.0.0.1:8788: sign in with an access
key id and secret, or as the operator with a token from
sesame admin console-token), delivery and, with [receiving] listen, the
inbound MX that receives mail by receipt rules, with the data in data_dir
(the first start creates an account: see
<data_dir>/first-start-credentials.txt). With [store] url =
"postgres://…" the state is in PostgreSQL instead, shared by the nodes of
a cluster; each node keeps its own queue (docs/cluster.md).

Signals: SIGHUP reloads log.level and the TLS certificate files ([tls],
[api], [console]; other keys need a restart); SIGTERM and SIGINT drain —
in-flight SMTP transactions (submission and inbound MX) and API requests
finish within shutdown_timeout — and exit 0. With $NOTIFY_SOCKET set
(systemd Type=notify) it reports READY, RELOADING and STOPPING.
docs/guide-operating.md says more.

Flags:
`

// storeOptions say where cfg keeps the state: the embedded database in the
// data dir, or the PostgreSQL database [store] url names.
func storeOptions(cfg config.Config) store.Options {
	return store.Options{DataDir: cfg.DataDir, URL: cfg.Store.URL, SecretKeyFile: cfg.Store.SecretKeyFile}
}

func serve(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	var cf configFlags
	cf.register(fs)
	if err := parseFlags(fs, args, func() string { return serveUsage + flagDefaults(fs) }, stdout); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usageError{fmt.Errorf("unexpected argument %q", fs.Arg(0))}
	}
	cfg, err := cf.load()
	cf.container = os.Getenv("SESAME_CONTAINER") != ""
	if err != nil {
		return err
	}
	log, logLevel := newServeLogger(cfg.Log, stderr)
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	hup, stopHup := reloadSignals()
	defer stopHup()
	notify := sdnotify.FromEnv()

	if err := os.MkdirAll(cfg.DataDir, 0o700); err != nil {
		return fmt.Errorf("data dir: %w", err)
	}
	// One server per data dir; `admin restore` refuses while it is held.
	dirLock, err := backup.LockDataDir(cfg.DataDir)
	if err != nil {
		return err
	}
	defer dirLock.Close()
	st, err := store.OpenWith(ctx, storeOptions(cfg))
	if err != nil {
		return err
	}
	defer st.Close()
	if err := firstStartSecret(ctx, st, cfg, cf, stdout, log); err != nil {
		return err
	}
	warnDevelopment(cfg, log)

	sp, err := spool.Open(filepath.Join(cfg.DataDir, "spool"), spool.Options{Logger: log})
	if err != nil {
		return err
	}
	defer sp.Close()

	clk := clock.Real{}
	limiter := quota.New(st, clk, log)
	tracks, trackHandler, err := newTracking(ctx, cfg, st, clk, log)
	if err != nil {
		return err
	}
	lists, unsubHandler, err := newListManagement(ctx, cfg, st, clk, log)
	if err != nil {
		return err
	}
	bareLF, err := mailmsg.ParseBareLF(cfg.SMTP.BareLF)
	if err != nil {
		return fmt.Errorf("smtp.bare_lf: %w", err)
	}
	sender := sending.New(sending.Config{
		Store: st, Spool: sp, Quota: limiter, Clock: clk,
		Hostname: cfg.Hostname, MaxMessageBytes: cfg.SMTP.MaxMessageBytes, Logger: log,
		Tracking: tracks, ListManagement: lists, BareLF: bareLF, Development: cfg.Accounts.Development,
	})
	defer sender.Close()
	// Changes made through another node or `sesame admin` (account
	// settings, configuration sets, identities, access keys) drop what
	// the sender cached of them at once (store.Watch).
	st.Watch(ctx, sender.Changed)
	// events: what outcomes mean (records, DSNs, suppression) and their
	// event records; the feedback MX reports there too.
	recorder := events.NewRecorder(st, sender, sp, cfg.Hostname, cfg.Delivery.BounceDomain, clk, log.With("component", "events"))
	recorder.Development = cfg.Accounts.Development
	deliver, err := newDeliverer(cfg, sp, st, recorder, clk, log)
	if err != nil {
		return err
	}

	cert, err := loadSMTPCert(cfg)
	if err != nil {
		return err
	}
	// A reload (SIGHUP) replaces the certificate for new handshakes.
	smtpCert := newCertSource(cert)
	tlsConf := &tls.Config{GetCertificate: smtpCert.getCertificate, MinVersion: tls.VersionTLS12}
	smtpServer := smtpd.New(smtpd.Config{
		Hostname:            cfg.Hostname,
		Regions:             cfg.Regions,
		TLS:                 tlsConf,
		MaxConnections:      cfg.SMTP.MaxConnections,
		MaxMessageBytes:     cfg.SMTP.MaxMessageBytes,
		IdleTimeout:         cfg.SMTP.IdleTimeout.Duration,
		MaxMessagesPerConn:  cfg.SMTP.MaxMessagesPerConnection,
		MaxConnAge:          cfg.SMTP.MaxConnectionAge.Duration,
		AuthFailuresPerIP:   authFailures(cfg.SMTP.AuthFailuresPerIP),
		MaxConnectionsPerIP: cfg.SMTP.MaxConnectionsPerIP,
		CommandTimeout:      cfg.SMTP.CommandTimeout.Duration,
		PreAuthTimeout:      cfg.SMTP.PreAuthTimeout.Duration,
		BareLF:              bareLF,
		Logger:              log,
		Clock:               clk,
	}, sender)
	// The control socket: the queue, and the SMTP AUTH lockout that lives
	// in smtpServer's memory.
	defer queuectl.Start(filepath.Join(cfg.DataDir, queuectl.SocketName), sp, smtpServer, log).Close()
	verifier := verify.New(verify.Config{
		Store: st, Resolver: dnsx.New(cfg.Delivery.Resolver), Sender: sender, Clock: clk, Logger: log,
		Hostname:         cfg.Hostname,
		CheckInterval:    cfg.Verification.CheckInterval.Duration,
		DKIMCNAMEDomain:  cfg.Verification.DKIMCNAMEDomain,
		MailFromMXDomain: cfg.Verification.MailFromMXDomain,
		MailLimits:       verify.MailLimits{PerSecond: cfg.Verification.MailPerSecond, Burst: cfg.Verification.MailBurst, PerDay: cfg.Verification.MailPerDay},
	})
	linkBase := cfg.LinkBaseURL()
	snsFrom := cfg.SNS.EmailFrom
	if snsFrom == "" {
		snsFrom = "no-reply@" + cfg.Hostname
	}
	// SNS signs every notification with the RSA engine DKIM uses; by
	// default in a helper process at the lowest CPU priority, which POSTs
	// them too ([sns] inline).
	rsaEngine, _, err := dkim.RSAEngine(cfg.Delivery.DKIMRSA)
	if err != nil {
		return err
	}
	var snsHelper []string
	if !cfg.SNS.Inline {
		if exe, err := os.Executable(); err != nil {
			log.Warn("sns: no low-priority helper: cannot find this program", "err", err)
		} else {
			snsHelper = []string{exe, sns.HelperSubcommand}
		}
	}
	topics, err := sns.New(sns.Config{Store: st, BaseURL: linkBase, DataDir: cfg.DataDir, Clock: clk, Logger: log,
		NewSigner: rsaEngine, Helper: snsHelper, HelperEngine: cfg.Delivery.DKIMRSA, Mailer: sender, MailFrom: snsFrom, SQS: sns.SQSConfig{Endpoint: cfg.SNS.SQSEndpoint,
			AccessKeyID: cfg.SNS.SQSAccessKeyID, SecretAccessKey: cfg.SNS.SQSSecretAccessKey}})
	if err != nil {
		return err
	}
	metricsH := metricsHandler(sp, st, cfg.Cluster.NodeName, log)
	// This node's name in leases and job claims.
	node := lease.NodeID(cfg.DataDir)
	// Import and export jobs reach only the configured [s3] endpoint;
	// without one they are refused.
	jobs := importexport.New(importexport.Config{Store: st, Clock: clk, Logger: log.With("component", "importexport"), Holder: node,
		S3: objstore.Config{Endpoint: cfg.S3.Endpoint, Region: cfg.S3.Region, AccessKeyID: cfg.S3.AccessKeyID,
			SecretAccessKey: cfg.S3.SecretAccessKey, PathStyle: cfg.S3.PathStyle}})
	// One Bouncer sends receiving's DSNs (SendBounce here; the receipt
	// rules' BounceAction takes the same one).
	bouncer := bounce.New(sender, cfg.Hostname)
	recv, err := newReceiving(cfg, st, topics, bouncer, clk, log)
	if err != nil {
		return err
	}
	var recvAcceptor inbound.Receiver
	if recv != nil {
		defer recv.spool.Close()
		recvAcceptor = recv.acceptor
	}
	apiCfg := api.Config{
		Store: st, Sender: sender, Bouncer: bouncer, Quota: limiter, Regions: cfg.Regions, Clock: clk, Logger: log,
		BaseURL: linkBase, Verifier: verifier, SNS: topics, Metrics: onAPIListener(cfg, metricsH),
		Router:      dnsx.NewRouter(cfg.Delivery.Resolver),
		ReadTimeout: cfg.API.ReadTimeout.Duration, IdleTimeout: cfg.API.IdleTimeout.Duration,
		MaxMessageBytes: cfg.SMTP.MaxMessageBytes, MaxConnections: cfg.API.MaxConnections, MaxInflight: cfg.API.MaxInflight,
		HideCapturedMail: !cfg.CapturedMailOn() || cfg.API.CapturedMailListen != "",
		DedicatedIPs:     cfg.Delivery.SourceIPs(),
		Jobs:             jobs,
		Unsubscribe:      unsubHandler,
		// Receipt rules may name only the functions and object store
		// sesame can reach.
		ReceivingFunctions: cfg.Receiving.Functions,
		ReceivingS3:        cfg.S3.Enabled(),
	}
	var apiCert *certSource
	if apiCfg.TLS, apiCert, err = apiTLS(cfg); err != nil {
		return err
	}
	if cfg.Tracking.Listen == "" {
		apiCfg.Tracking = trackHandler
	}
	if c, ok := deliver.(*delivery.Capture); ok {
		apiCfg.FlushCaptured = c.Flush // /_aws/ses lists every acknowledged message
	}
	apiServer := api.New(apiCfg)
	consoleServer, err := newConsole(cfg, st, apiServer, apiCfg.FlushCaptured, clk, log)
	if err != nil {
		return err
	}

	// Bind everything before serving anything, so a port in use fails the
	// start cleanly instead of leaving half a server running.
	type smtpListener struct {
		l        net.Listener
		implicit bool
	}
	var smtpLs []smtpListener
	var closers []io.Closer
	closeAll := func() {
		for _, c := range closers {
			c.Close()
		}
	}
	for _, l := range []struct {
		addrs    []string
		implicit bool
	}{{cfg.SMTP.StartTLSListen, false}, {cfg.SMTP.TLSListen, true}} {
		for _, addr := range l.addrs {
			ln, err := net.Listen("tcp", addr)
			if err != nil {
				closeAll()
				return fmt.Errorf("smtp listener: %w", err)
			}
			closers = append(closers, ln)
			smtpLs = append(smtpLs, smtpListener{ln, l.implicit})
		}
	}
	var apiL net.Listener
	if cfg.API.Listen != "" {
		apiL, err = net.Listen("tcp", cfg.API.Listen)
		if err != nil {
			closeAll()
			return fmt.Errorf("api listener: %w", err)
		}
	}
	if apiL != nil {
		closers = append(closers, apiL)
	}
	// The optional listeners: each bound one is released if a later one
	// cannot be.
	var bound []interface{ close() }
	failBind := func(err error) error {
		closeAll()
		for _, l := range bound {
			l.close()
		}
		return err
	}
	dnsL, err := bindDNS(cfg, st, clk, log)
	if err != nil {
		return failBind(err)
	}
	bound = append(bound, dnsL)
	var fbHandler feedback.Handler
	if cfg.Delivery.Mode == "mx" {
		fbHandler = recorder
	}
	fbL, err := bindInbound(cfg, fbHandler, recvAcceptor, tlsConf, log)
	if err != nil {
		return failBind(err)
	}
	bound = append(bound, fbL)
	metricsL, err := bindMetrics(cfg, metricsH)
	if err != nil {
		return failBind(err)
	}
	bound = append(bound, metricsL)
	trackL, err := bindTracking(cfg, trackHandler)
	if err != nil {
		return failBind(err)
	}
	bound = append(bound, trackL)
	capturedL, err := bindCapturedMail(cfg, apiServer.CapturedMailHandler())
	if err != nil {
		return failBind(err)
	}
	bound = append(bound, capturedL)
	consoleL, consoleCert, err := bindConsole(cfg, consoleServer)
	if err != nil {
		return failBind(err)
	}
	bound = append(bound, consoleL)
	// This node's row in cluster_nodes, written once everything is bound
	// and before anything serves: a node that says it serves is listed.
	beats := newHeartbeat(cfg, st, sp.Len, clk, log)
	if err := beats.beat(ctx); err != nil {
		return failBind(err)
	}

	errc := make(chan error, len(smtpLs)+fbL.count()+8)
	for _, l := range smtpLs {
		go func() { errc <- smtpServer.Serve(l.l, l.implicit) }()
	}
	if apiL != nil {
		go func() { errc <- apiServer.Serve(apiL) }()
	}
	dnsL.serve(errc)
	fbL.serve(errc)
	metricsL.serve(errc)
	trackL.serve(errc)
	capturedL.serve(errc)
	consoleL.serve(errc)
	deliveryCtx, stopDelivery := context.WithCancel(context.Background())
	deliveryDone := make(chan struct{})
	go func() {
		defer close(deliveryDone)
		if err := deliver.Run(deliveryCtx); err != nil {
			errc <- err
		}
	}()
	// Work that runs on one node of a cluster at a time, each under its
	// lease (docs/events.md, "In a cluster"); alone (SQLite), at once.
	leases := &lease.Runner{Holder: node, Clock: clk, Logger: log}
	if st.Shared() {
		leases.Store = st
	}
	verifyDone := make(chan struct{})
	go func() {
		defer close(verifyDone)
		if err := leases.Run(deliveryCtx, "verify", verifier.Run); err != nil {
			errc <- err
		}
	}()

	snsDone := make(chan struct{})
	go func() {
		defer close(snsDone)
		if err := leases.Run(deliveryCtx, "sns-deliveries", topics.Run); err != nil {
			errc <- err
		}
	}()
	// The outbox writer outlives delivery (delivery's last attempts record
	// their events on the way out); the publisher stops with delivery.
	recordCtx, stopRecording := context.WithCancel(context.Background())
	recordDone := make(chan struct{})
	go func() {
		defer close(recordDone)
		if err := recorder.Run(recordCtx); err != nil {
			errc <- err
		}
	}()
	// Notifications wait while the server is busy with mail ([sns]
	// defer_when_busy); the meter watches the server's own CPU time.
	busy := &lowprio.Meter{Threshold: cfg.SNS.DeferWhenBusy}
	go busy.Run(deliveryCtx)
	publisher := &events.Publisher{Store: st, Destinations: events.NewStoreDestinations(st, clk),
		Topics: snsTopics{topics}, Appended: recorder.Appended(), Clock: clk, Logger: log.With("component", "events"),
		Busy: busy.Busy, MaxDefer: cfg.SNS.DeferMax.Duration}
	publishDone := make(chan struct{})
	go func() {
		defer close(publishDone)
		if err := leases.Run(deliveryCtx, "publish-events", publisher.Run); err != nil {
			errc <- err
		}
	}()
	// Jobs left CREATED or PROCESSING by the last run start again.
	if err := jobs.Start(deliveryCtx); err != nil {
		log.Error("import/export jobs not resumed", "err", err)
	}
	receivingDone := make(chan struct{})
	if recv != nil {
		// Received mail waits while mail is arriving and the server is
		// busy: the inbound MX answers first (receiving.Processor.Hold).
		recv.proc.Hold = func() bool { return recv.acceptor.Arriving() && busy.Busy() }
	}
	go func() {
		defer close(receivingDone)
		if recv == nil {
			return
		}
		if err := recv.proc.Run(deliveryCtx); err != nil {
			errc <- err
		}
	}()
	reputationDone := make(chan struct{})
	go func() {
		defer close(reputationDone)
		if err := leases.Run(deliveryCtx, "reputation", newReputation(cfg.Reputation, st, clk, log).Run); err != nil {
			errc <- err
		}
	}()

	heartbeatDone := make(chan struct{})
	go func() {
		defer close(heartbeatDone)
		beats.run(deliveryCtx)
	}()

	log.Info("sesame serving",
		"smtp_starttls", strings.Join(cfg.SMTP.StartTLSListen, ","),
		"smtp_tls", strings.Join(cfg.SMTP.TLSListen, ","),
		"api", cfg.API.Listen, "console", cfg.Console.Listen, "feedback", strings.Join(cfg.Feedback.Listen, ","),
		"receiving", strings.Join(cfg.Receiving.Listen, ","), "data_dir", cfg.DataDir, "delivery", cfg.Delivery.Mode,
		"regions", strings.Join(cfg.Regions, ","), "spooled", sp.Len(), "node", cfg.Cluster.NodeName)

	if err := notify.Ready(); err != nil {
		log.Warn("sd_notify", "err", err)
	}
	rl := &reloader{flags: cf, cur: cfg, level: logLevel, smtpCert: smtpCert, apiCert: apiCert, consoleCert: consoleCert, notify: notify, log: log}
	runErr := rl.wait(ctx, hup, errc)
	if err := notify.Stopping(); err != nil {
		log.Warn("sd_notify", "err", err)
	}
	drainStart := time.Now()
	shutCtx, cancel := context.WithTimeout(context.Background(), cfg.ShutdownTimeout.Duration)
	defer cancel()
	// Every listener stops accepting at once; then the work in flight
	// finishes, all servers at the same time, within one bound.
	var drains sync.WaitGroup
	var smtpRep smtpd.DrainReport
	apiInflight := apiServer.InFlight()
	var apiCut bool
	drains.Go(func() {
		var err error
		if smtpRep, err = smtpServer.Drain(shutCtx); err != nil {
			log.Warn("smtp drain", "err", err)
		}
	})
	if apiL != nil {
		drains.Go(func() {
			if err := apiServer.Shutdown(shutCtx); err != nil {
				apiCut = true
				log.Warn("api shutdown", "err", err)
			}
		})
	}
	drains.Go(func() { dnsL.shutdown(shutCtx, log) })
	var inboundRep inbound.DrainReport
	drains.Go(func() { inboundRep = fbL.shutdown(shutCtx, log) })
	drains.Go(func() { metricsL.shutdown(shutCtx, log) })
	drains.Go(func() { trackL.shutdown(shutCtx, log) })
	drains.Go(func() { capturedL.shutdown(shutCtx, log) })
	drains.Go(func() { consoleL.shutdown(shutCtx, log) })
	drains.Wait()
	stopDelivery()
	jobs.Close() // a job cut short runs again at the next start
	<-deliveryDone
	<-verifyDone
	<-snsDone
	<-publishDone
	<-reputationDone
	<-receivingDone
	<-heartbeatDone
	stopRecording()
	<-recordDone
	log.Info("drained", "smtp_sessions", smtpRep.Sessions, "smtp_idle_closed", smtpRep.Idle,
		"smtp_messages_finished", smtpRep.Messages, "smtp_sessions_cut", smtpRep.Cut,
		"inbound_sessions", inboundRep.Sessions, "inbound_idle_closed", inboundRep.Idle,
		"inbound_messages_finished", inboundRep.Messages, "inbound_sessions_cut", inboundRep.Cut,
		"api_requests_in_flight", apiInflight, "api_cut", apiCut, "spooled", sp.Len(),
		"duration", time.Since(drainStart).Round(time.Millisecond))
	return runErr
}

// snsTopics publishes event records to sesame's SNS-compatible topics.
type snsTopics struct{ s *sns.Service }

func (t snsTopics) Starved() bool { return t.s.HelperStarved() }

func (t snsTopics) Publish(ctx context.Context, pubs []events.Publication, move store.CursorMove) error {
	out := make([]sns.Publication, len(pubs))
	for i, p := range pubs {
		out[i] = sns.Publication{TopicArn: p.TopicArn, Subject: p.Subject, Message: p.Message}
	}
	return t.s.PublishEvents(ctx, out, move)
}
