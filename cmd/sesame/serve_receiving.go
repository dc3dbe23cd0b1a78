package main

import (
	"context"
	"fmt"
	"log/slog"
	"path/filepath"

	"sesame/internal/clock"
	"sesame/internal/config"
	"sesame/internal/functions"
	"sesame/internal/objstore"
	"sesame/internal/receiving"
	"sesame/internal/sns"
	"sesame/internal/spool"
	"sesame/internal/store"
	"sesame/internal/verdict"
)

// receivingSide is the receiving half of the inbound MX: its spool, the
// acceptor the listener asks, and the processor that runs the rules.
type receivingSide struct {
	spool    *spool.Spool
	acceptor *receiving.Acceptor
	proc     *receiving.Processor
}

// newReceiving builds it; nil when [receiving] listen is empty.
func newReceiving(cfg config.Config, st *store.Store, topics *sns.Service, bouncer receiving.Bouncer,
	clk clock.Clock, log *slog.Logger) (*receivingSide, error) {
	if !cfg.Receiving.Enabled() {
		return nil, nil
	}
	region := cfg.Receiving.Region
	if region == "" {
		region = cfg.Regions[0]
	}
	log = log.With("component", "receiving")
	sp, err := spool.Open(filepath.Join(cfg.DataDir, "inbound"), spool.Options{Logger: log, Clock: clk})
	if err != nil {
		return nil, fmt.Errorf("receiving: %w", err)
	}
	fns, err := functions.New(cfg.Receiving.Functions, functions.Options{Hostname: cfg.Hostname, Logger: log, Clock: clk})
	if err != nil {
		sp.Close()
		return nil, err
	}
	rules := receiving.NewCachedRules(st, clk)
	p := &receiving.Processor{
		Spool: sp, Rules: rules,
		Checker: verdictChecker{c: verdict.New(verdict.Config{RspamdURL: cfg.Receiving.RspamdURL,
			ClamdAddress: cfg.Receiving.ClamdAddress, Hostname: cfg.Hostname,
			CacheTXT: cfg.Delivery.DNSMinTTL.Duration}.WithResolver(cfg.Delivery.Resolver)),
			hostname: cfg.Hostname},
		Topics: receivingTopics{topics}, Functions: receivingFunctions{fns}, Bouncer: bouncer,
		Records: st, Hostname: cfg.Hostname, Clock: clk, Logger: log,
	}
	if cfg.S3.Enabled() {
		p.Objects = objstore.New(objstore.Config{Endpoint: cfg.S3.Endpoint, Region: cfg.S3.Region,
			AccessKeyID: cfg.S3.AccessKeyID, SecretAccessKey: cfg.S3.SecretAccessKey, PathStyle: cfg.S3.PathStyle})
	}
	acceptor := &receiving.Acceptor{Region: region, Rules: rules, Spool: sp, Clock: clk, Logger: log,
		Development: cfg.Accounts.Development}
	return &receivingSide{spool: sp, proc: p, acceptor: acceptor}, nil
}

type verdictChecker struct {
	c        *verdict.Checker
	hostname string
}

func (v verdictChecker) Check(ctx context.Context, in receiving.VerdictInput) receiving.Verdicts {
	vin := verdict.Input{IP: in.IP, Helo: in.Helo, MailFrom: in.MailFrom, Message: in.Message, Rcpt: in.Rcpts, Scan: in.Scan}
	r := v.c.Check(ctx, vin)
	return receiving.Verdicts{SPF: r.SPF, DKIM: r.DKIM, DMARC: r.DMARC, Spam: r.Spam, Virus: r.Virus,
		DMARCPolicy: r.DMARCPolicy,
		// SES writes Authentication-Results right after Received-SPF.
		Headers: append(r.Headers(vin, v.hostname), r.AuthenticationResults(vin, v.hostname)...)}
}

// receivingTopics publishes receipt notifications to sesame's topics.
type receivingTopics struct{ s *sns.Service }

func (t receivingTopics) Publish(ctx context.Context, topicArn, subject, message string) error {
	ids, err := t.s.Publish(ctx, []sns.Publication{{TopicArn: topicArn, Subject: subject, Message: message}})
	if err != nil {
		return fmt.Errorf("%w: %w", receiving.ErrTemporary, err)
	}
	if ids[0] == "" {
		return fmt.Errorf("topic %s does not exist", topicArn)
	}
	return nil
}

type receivingFunctions struct{ iv *functions.Invoker }

func (f receivingFunctions) Invoke(ctx context.Context, arn, typ string, payload []byte, m receiving.Forward) (string, error) {
	d, err := f.iv.Invoke(ctx, arn, typ, payload, functions.Message{MailFrom: m.MailFrom, Recipients: m.Recipients, Message: m.Message})
	if err != nil && functions.IsTemporary(err) {
		return "", fmt.Errorf("%w: %w", receiving.ErrTemporary, err)
	}
	return d, err
}
