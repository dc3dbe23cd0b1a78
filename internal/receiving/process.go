package receiving

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"sesame/internal/clock"
	"sesame/internal/events"
	"sesame/internal/mailmsg"
	"sesame/internal/metrics"
	"sesame/internal/objstore"
	"sesame/internal/receipt"
	"sesame/internal/receiving/bounce"
	"sesame/internal/seserr"
	"sesame/internal/spool"
	"sesame/internal/store"
)

// ErrTemporary marks an action's failure that a later try may not have
// (a server down, a timeout): the message is kept and the action retried.
// Any other failure is final for that action, and the rule goes on.
var ErrTemporary = errors.New("temporary failure")

// VerdictInput is what the verdicts are computed from.
type VerdictInput struct {
	IP       netip.Addr
	Helo     string
	MailFrom string
	Message  []byte
	Rcpts    []string // the envelope recipients
	Scan     bool     // a matching rule has ScanEnabled
}

// Verdicts are SES's verdicts of one message (PASS, FAIL, GRAY,
// PROCESSING_FAILED, DISABLED) and the headers that say them.
type Verdicts struct {
	SPF, DKIM, DMARC, Spam, Virus string
	DMARCPolicy                   string
	// Headers are X-SES-Spam-Verdict, X-SES-Virus-Verdict, Received-SPF
	// and the like, CRLF-terminated, for the top of the stored message.
	Headers []byte
}

// Checker computes verdicts (internal/verdict).
type Checker interface {
	Check(ctx context.Context, in VerdictInput) Verdicts
}

// Objects stores S3 action objects (an S3-compatible server,
// internal/objstore).
type Objects interface {
	Put(ctx context.Context, bucket, key string, body []byte, contentType string) error
}

// Topics publishes to sesame's SNS topics.
type Topics interface {
	Publish(ctx context.Context, topicArn, subject, message string) error
}

// Functions runs LambdaAction functions (internal/functions).
type Functions interface {
	Invoke(ctx context.Context, functionArn, invocationType string, payload []byte, m Forward) (disposition string, err error)
}

// Forward is a message a function may forward to a mailbox server.
type Forward struct {
	MailFrom   string
	Recipients []string
	Message    []byte
}

// Bouncer sends the DSN of a BounceAction (or of an SNS action's
// message over its limit) through sesame's outbound path
// (internal/receiving/bounce).
type Bouncer interface {
	Bounce(ctx context.Context, r bounce.BounceRequest) (messageID string, err error)
}

// Records keeps what happened to each received message (sesame admin,
// SendBounce): the store.
type Records interface {
	PutReceivedMessage(ctx context.Context, m store.ReceivedMessage) error
}

// Processor runs the receipt rules of received mail.
type Processor struct {
	Spool     *spool.Spool
	Rules     Rules
	Checker   Checker
	Objects   Objects   // nil: S3 actions fail (no [s3] endpoint)
	Topics    Topics    // nil: nothing is published
	Functions Functions // nil: Lambda actions fail
	Bouncer   Bouncer   // nil: Bounce actions fail
	Records   Records   // nil: nothing is recorded
	Hostname  string
	Clock     clock.Clock
	Logger    *slog.Logger
	// Workers is how many messages are processed at once (default 8).
	Workers int
	// MaxAttempts bounds the tries of a message whose actions fail
	// temporarily (default 12, about a day with Backoff's doubling).
	MaxAttempts int
	// Hold, when set, says mail is arriving (Acceptor.Arriving): the
	// inbound MX answers first, so a message waits while it holds, but
	// never longer than MaxHold (default 10 s) after it was accepted. A
	// burst is absorbed by the spool, on disk, and processed right after.
	Hold    func() bool
	MaxHold time.Duration
}

// snsContentLimit is the SNS action's limit: a bigger message bounces.
const snsContentLimit = 150 << 10

// receiptSubject is the Subject of the notifications a receipt action's
// topic gets.
const receiptSubject = "Amazon SES Email Receipt Notification"

// Run processes received mail until ctx ends.
func (p *Processor) Run(ctx context.Context) error {
	workers := p.Workers
	if workers <= 0 {
		workers = 8
	}
	var wg sync.WaitGroup
	defer wg.Wait()
	sem := make(chan struct{}, workers)
	for {
		select {
		case sem <- struct{}{}:
		case <-ctx.Done():
			return nil
		}
		es, err := p.Spool.Claim(ctx, 1)
		if err != nil {
			<-sem
			if ctx.Err() != nil || errors.Is(err, spool.ErrClosed) {
				return nil
			}
			return fmt.Errorf("receiving: claim: %w", err)
		}
		if wait := p.held(es[0]); wait > 0 {
			// The oldest message is young and mail is arriving: it keeps
			// its place, the next look is after a short wait.
			p.Spool.Release(es[0].ID)
			<-sem
			select {
			case <-time.After(wait):
			case <-ctx.Done():
				return nil
			}
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			p.process(ctx, es[0])
		}()
	}
}

// held is how long e waits before it is processed (0: not at all).
func (p *Processor) held(e *spool.Entry) time.Duration {
	if p.Hold == nil || !p.Hold() {
		return 0
	}
	maxHold := p.MaxHold
	if maxHold <= 0 {
		maxHold = 10 * time.Second
	}
	left := maxHold - p.Clock.Now().Sub(e.Received)
	if left <= 0 {
		return 0
	}
	return min(left, 20*time.Millisecond)
}

func (p *Processor) log() *slog.Logger {
	if p.Logger == nil {
		return slog.Default()
	}
	return p.Logger
}

// message is one received message being processed.
type message struct {
	e        *spool.Entry
	raw      []byte // as received
	verdicts Verdicts
	done     []string // action keys finished in earlier tries
	newDone  []string // finished in this try
}

// process runs every account's rules for e and marks it done, or defers
// it when an action failed temporarily.
func (p *Processor) process(ctx context.Context, e *spool.Entry) {
	log := p.log().With("id", e.ID)
	raw, err := readAll(e)
	if err != nil {
		log.Error("receiving: reading a received message; kept for a retry", "err", err)
		p.retry(ctx, e, nil, err)
		return
	}
	m := &message{e: e, raw: raw, done: e.State.Done}
	groups := byAccount(e)
	sets := make(map[string]*receipt.RuleSet, len(groups))
	scan := false
	for _, g := range groups {
		set, err := p.Rules.ActiveReceiptRuleSet(ctx, g.account, e.Region)
		if err != nil {
			log.Error("receiving: reading the active rule set; kept for a retry", "account", g.account, "err", err)
			p.retry(ctx, e, nil, err)
			return
		}
		sets[g.account] = set
		for _, r := range running(set, g.rcpts) {
			scan = scan || r.rule.ScanEnabled
		}
	}
	in := VerdictInput{Helo: e.Inbound.Helo, MailFrom: e.MailFrom, Message: raw, Rcpts: e.Recipients, Scan: scan}
	in.IP, _ = netip.ParseAddr(e.SourceIP)
	m.verdicts = p.Checker.Check(ctx, in)
	if ctx.Err() != nil {
		// Shutting down: verdicts whose lookups were cut short must not
		// reach an action; the message keeps its place for the next start.
		p.Spool.Release(e.ID)
		return
	}
	// What follows actions that ran is written even when a shutdown
	// begins meanwhile (briefly): otherwise the message's record would be
	// lost, or its actions run again at the next start.
	wctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	var failed error
	for _, g := range groups {
		rec, err := p.runAccount(ctx, m, g, sets[g.account], log.With("account", g.account))
		if err != nil {
			failed = err
			continue
		}
		if p.Records != nil && rec != nil {
			if err := p.Records.PutReceivedMessage(wctx, *rec); err != nil {
				log.Warn("receiving: recording a received message", "err", err)
			}
		}
	}
	if failed != nil {
		p.retry(ctx, e, m.newDone, failed)
		return
	}
	if err := p.Spool.Done(wctx, e.ID); err != nil {
		log.Error("receiving: marking a message done; its actions may run again after a restart", "err", err)
	}
}

// retry keeps e for another try, remembering the actions done, or gives
// up past MaxAttempts.
func (p *Processor) retry(ctx context.Context, e *spool.Entry, done []string, cause error) {
	st := e.State
	st.Done = append(slices.Clip(st.Done), done...)
	if ctx.Err() != nil {
		// Interrupted by a shutdown, not failed: no try counted, due at
		// once after the restart, the actions done so far remembered.
		// The write outlives ctx, briefly.
		wctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		if err := p.Spool.Defer(wctx, e.ID, st); err != nil {
			p.log().Error("receiving: keeping an interrupted message's progress", "id", e.ID, "err", err)
			p.Spool.Release(e.ID)
		}
		return
	}
	st.Attempts++
	st.LastError = cause.Error()
	now := p.Clock.Now()
	if st.FirstAttempt.IsZero() {
		st.FirstAttempt = now
	}
	maxAttempts := p.MaxAttempts
	if maxAttempts <= 0 {
		maxAttempts = 12
	}
	if st.Attempts >= maxAttempts {
		p.log().Error("receiving: giving up on a message's failed actions", "id", e.ID, "attempts", st.Attempts, "err", cause)
		if err := p.Spool.Done(ctx, e.ID); err != nil {
			p.log().Error("receiving: marking a message done", "id", e.ID, "err", err)
		}
		return
	}
	st.NextAttempt = now.Add(Backoff(st.Attempts))
	if err := p.Spool.Defer(ctx, e.ID, st); err != nil {
		p.log().Error("receiving: deferring a message", "id", e.ID, "err", err)
		p.Spool.Release(e.ID)
	}
}

// Backoff is the wait before try n+1: 30 s doubling, at most 4 h.
func Backoff(n int) time.Duration {
	d := 30 * time.Second
	for i := 1; i < n && d < 4*time.Hour; i++ {
		d *= 2
	}
	return min(d, 4*time.Hour)
}

func readAll(e *spool.Entry) ([]byte, error) {
	rc, err := e.Open()
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	return io.ReadAll(rc)
}

// group is one account's recipients of a message.
type group struct {
	account string
	rcpts   []string
}

func byAccount(e *spool.Entry) []group {
	var out []group
	for i, r := range e.Recipients {
		acct := e.AccountID
		if e.Inbound != nil && i < len(e.Inbound.Accounts) {
			acct = e.Inbound.Accounts[i]
		}
		j := slices.IndexFunc(out, func(g group) bool { return g.account == acct })
		if j < 0 {
			out = append(out, group{account: acct})
			j = len(out) - 1
		}
		if !slices.Contains(out[j].rcpts, r) {
			out[j].rcpts = append(out[j].rcpts, r)
		}
	}
	return out
}

// ruleRun is a rule that applies to some of a message's recipients.
type ruleRun struct {
	rule  *receipt.Rule
	rcpts []string
}

// running lists the enabled rules of set matching any of rcpts, in order,
// each with the recipients it matches.
func running(set *receipt.RuleSet, rcpts []string) []ruleRun {
	if set == nil {
		return nil
	}
	var out []ruleRun
	for i := range set.Rules {
		r := &set.Rules[i]
		if !r.Enabled {
			continue
		}
		var matched []string
		for _, rc := range rcpts {
			if r.Matches(rc) {
				matched = append(matched, rc)
			}
		}
		if len(matched) > 0 {
			out = append(out, ruleRun{rule: r, rcpts: matched})
		}
	}
	return out
}

// traceHeaders are what sesame writes on top of a received message, as
// SES does: Return-Path, Received, then the verdict headers.
func (p *Processor) traceHeaders(e *spool.Entry, v Verdicts) []byte {
	var b bytes.Buffer
	fmt.Fprintf(&b, "Return-Path: <%s>\r\n", e.MailFrom)
	helo := "unknown"
	if e.Inbound != nil && e.Inbound.Helo != "" {
		helo = e.Inbound.Helo
	}
	with := "SMTP"
	if e.Inbound != nil && e.Inbound.TLS {
		with = "ESMTPS"
	}
	fmt.Fprintf(&b, "Received: from %s (%s [%s])\r\n by %s with %s id %s\r\n for %s;\r\n %s\r\n",
		helo, helo, e.SourceIP, p.Hostname, with, e.ID, e.Recipients[0], e.Received.Format(time.RFC1123Z))
	b.Write(v.Headers)
	return b.Bytes()
}

// actionKey names action i of rule r for account a in the spool state.
func actionKey(account, rule string, i int) string {
	return fmt.Sprintf("%s/%s/%d", account, rule, i)
}

// doneWith reports whether the action finished in an earlier try, and the
// disposition it gave.
func (m *message) doneWith(key string) (disposition string, ok bool) {
	for _, d := range m.done {
		if k, disp, _ := strings.Cut(d, "="); k == key {
			return disp, true
		}
	}
	return "", false
}

// runAccount runs one account's rules for its recipients of m. It returns
// the record of what was done, or an error when an action failed
// temporarily (the actions done so far are in m.newDone).
func (p *Processor) runAccount(ctx context.Context, m *message, g group, set *receipt.RuleSet, log *slog.Logger) (*store.ReceivedMessage, error) {
	e := m.e
	content := append(p.traceHeaders(e, m.verdicts), m.raw...)
	hdr := mailmsg.HeaderSection(m.raw)
	mailObj := newMail(e.ID, e.MailFrom, e.Received, mailmsg.HeaderSection(content))
	rec := &store.ReceivedMessage{
		ID: e.ID, AccountID: g.account, Region: e.Region, Received: e.Received, MailFrom: e.MailFrom,
		Recipients: g.rcpts, Header: hdr, SPF: m.verdicts.SPF, DKIM: m.verdicts.DKIM, DMARC: m.verdicts.DMARC,
		Spam: m.verdicts.Spam, Virus: m.verdicts.Virus, MessageID: mailObj.CommonHeaders.MessageID,
	}
	if f := mailObj.CommonHeaders.From; len(f) > 0 {
		rec.From = f[0]
	}
	if s := mailObj.CommonHeaders.Subject; s != nil {
		rec.Subject = *s
	}
	runs := running(set, g.rcpts)
	if len(runs) == 0 {
		rec.Actions = append(rec.Actions, "no rule applies any more (the active rule set changed)")
		log.Info("receiving: no rule of the active set applies any more; message dropped")
		return rec, nil
	}
rules:
	for _, run := range runs {
		receiptObj := Receipt{
			Timestamp: events.NewTime(e.Received), Recipients: run.rcpts,
			SpamVerdict: Verdict{m.verdicts.Spam}, VirusVerdict: Verdict{m.verdicts.Virus},
			SPFVerdict: Verdict{m.verdicts.SPF}, DKIMVerdict: Verdict{m.verdicts.DKIM},
			DMARCVerdict: Verdict{m.verdicts.DMARC}, DMARCPolicy: m.verdicts.DMARCPolicy,
		}
		if !run.rule.ScanEnabled {
			receiptObj.SpamVerdict, receiptObj.VirusVerdict = Verdict{"DISABLED"}, Verdict{"DISABLED"}
		}
		for i, a := range run.rule.Actions {
			key := actionKey(g.account, run.rule.Name, i)
			typ := a.Type()
			if a.AddHeaderAction != nil {
				// Deterministic and local: done again on every try.
				content = append([]byte(a.AddHeaderAction.HeaderName+": "+a.AddHeaderAction.HeaderValue+"\r\n"), content...)
				mailObj = newMail(e.ID, e.MailFrom, e.Received, mailmsg.HeaderSection(content))
				metrics.ReceiptAction(typ, "ok")
				rec.Actions = append(rec.Actions, "AddHeader "+a.AddHeaderAction.HeaderName)
				continue
			}
			disp, done := m.doneWith(key)
			if !done {
				receiptObj.ProcessingTimeMillis = p.Clock.Now().Sub(e.Received).Milliseconds()
				receiptObj.Action = actionInfo(a, e.ID)
				var line string
				var err error
				disp, line, err = p.runAction(ctx, a, m, run.rcpts, g.account, content, mailObj, receiptObj)
				switch {
				case err == nil:
					metrics.ReceiptAction(typ, "ok")
					rec.Actions = append(rec.Actions, line)
					m.newDone = append(m.newDone, key+"="+disp)
				case errors.Is(err, ErrTemporary):
					metrics.ReceiptAction(typ, "retry")
					log.Warn("receiving: an action failed; the message is kept for a retry", "rule", run.rule.Name,
						"action", typ, "err", err)
					return nil, fmt.Errorf("rule %s, action %d (%s): %w", run.rule.Name, i+1, typ, err)
				default:
					metrics.ReceiptAction(typ, "failed")
					log.Warn("receiving: an action failed", "rule", run.rule.Name, "action", typ, "err", err)
					rec.Actions = append(rec.Actions, typ+" failed: "+err.Error())
					m.newDone = append(m.newDone, key+"=")
				}
			}
			switch {
			case a.StopAction != nil, disp == "STOP_RULE_SET":
				break rules
			case disp == "STOP_RULE":
				continue rules
			}
		}
	}
	return rec, nil
}

// runAction runs one action; line says what it did for the record.
func (p *Processor) runAction(ctx context.Context, a receipt.Action, m *message, rcpts []string, account string,
	content []byte, mailObj Mail, rc Receipt) (disposition, line string, err error) {
	e := m.e
	notify := func(topic string, withContent string) error {
		if topic == "" || p.Topics == nil {
			return nil
		}
		b, err := json.Marshal(Notification{NotificationType: "Received", Mail: mailObj, Receipt: rc, Content: withContent})
		if err != nil {
			return err
		}
		if err := p.Topics.Publish(ctx, topic, receiptSubject, string(b)); err != nil {
			return fmt.Errorf("%w: notifying %s: %w", ErrTemporary, topic, err)
		}
		return nil
	}
	switch {
	case a.S3Action != nil:
		s := a.S3Action
		if p.Objects == nil {
			return "", "", errors.New("no S3-compatible endpoint is configured ([s3] endpoint)")
		}
		key := s.ObjectKeyPrefix + e.ID
		if err := p.Objects.Put(ctx, s.BucketName, key, content, "message/rfc822"); err != nil {
			switch objstore.ErrorCode(err) {
			case "", "InternalError", "ServiceUnavailable", "SlowDown", "RequestTimeout":
				// The store is down or busy: it may take the object later.
				return "", "", fmt.Errorf("%w: %w", ErrTemporary, err)
			}
			return "", "", err
		}
		return "", "S3 " + s.BucketName + "/" + key, notify(s.TopicArn, "")
	case a.SNSAction != nil:
		s := a.SNSAction
		if len(content) > snsContentLimit {
			// SES bounces mail too big for the SNS action.
			// From MAILER-DAEMON (the bouncer's default sender).
			tooBig := seserr.InboundSNSContentTooLarge()
			status, text, _ := strings.Cut(tooBig.SMTPText, " ")
			_, err := p.bounce(ctx, m, account, rcpts, "", strconv.Itoa(tooBig.SMTPCode), status, text)
			if err != nil {
				return "", "", err
			}
			return "", "SNS: over 150 KB, bounced", nil
		}
		text := string(content)
		if s.Encoding == receipt.EncodingBase64 {
			text = base64.StdEncoding.EncodeToString(content)
		}
		if err := notify(s.TopicArn, text); err != nil {
			return "", "", err
		}
		return "", "SNS " + s.TopicArn, nil
	case a.LambdaAction != nil:
		l := a.LambdaAction
		if p.Functions == nil {
			return "", "", errors.New("no functions are configured ([receiving] functions)")
		}
		payload, err := lambdaEvent(mailObj, rc)
		if err != nil {
			return "", "", err
		}
		disp, err := p.Functions.Invoke(ctx, l.FunctionArn, invocationType(l), payload,
			Forward{MailFrom: e.MailFrom, Recipients: rcpts, Message: content})
		if err != nil {
			return "", "", err
		}
		line := "Lambda " + l.FunctionArn
		if disp != "" {
			line += " " + disp
		}
		return disp, line, notify(l.TopicArn, "")
	case a.BounceAction != nil:
		b := a.BounceAction
		id, err := p.bounce(ctx, m, account, rcpts, b.Sender, b.SmtpReplyCode, b.StatusCode, b.Message)
		if err != nil {
			return "", "", err
		}
		line := "Bounce " + b.SmtpReplyCode + " " + b.StatusCode
		if id != "" {
			line += " (DSN " + id + ")"
		}
		return "", line, notify(b.TopicArn, "")
	case a.StopAction != nil:
		return "", "Stop", notify(a.StopAction.TopicArn, "")
	case a.WorkmailAction != nil:
		return "", "", errors.New("sesame does not hand mail to Amazon WorkMail")
	case a.ConnectAction != nil:
		return "", "", errors.New("sesame does not hand mail to Amazon Connect")
	}
	return "", "", errors.New("an action with no type")
}

// bounce sends a DSN for rcpts of m to its envelope sender; none for the
// null sender.
func (p *Processor) bounce(ctx context.Context, m *message, account string, rcpts []string,
	sender, code, status, text string) (string, error) {
	if m.e.MailFrom == "" {
		return "", nil
	}
	if p.Bouncer == nil {
		return "", errors.New("bounces cannot be sent")
	}
	id, err := p.Bouncer.Bounce(ctx, bounce.BounceRequest{
		AccountID: account, Region: m.e.Region, Sender: sender, To: m.e.MailFrom, Recipients: rcpts,
		SmtpReplyCode: code, StatusCode: status, Message: text, OriginalHeader: mailmsg.HeaderSection(m.raw),
		Arrival: m.e.Received, OriginalMessageID: m.e.ID,
	})
	if err != nil {
		return "", fmt.Errorf("%w: sending the DSN: %w", ErrTemporary, err)
	}
	return id, nil
}
