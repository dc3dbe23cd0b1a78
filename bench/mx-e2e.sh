#!/bin/bash
# mx-e2e.sh — sesame's whole outbound path (delivery.mode = "mx") side by side
# with Debian's Postfix relaying the same load to the same smtp-sink.
#
#   smtpload ──STARTTLS+AUTH──▶ sesame 127.0.0.1:5587 ──DKIM (RSA-2048)──▶ MX of example.net
#                                   │ delivery.resolver = dnsstub 127.0.0.1:5354
#                                   ▼ (every domain's MX → 127.0.0.1, mx_port 2526)
#   smtpload ──STARTTLS+AUTH──▶ postfix 127.0.0.1:2588 ──relayhost──▶ smtp-sink 127.0.0.1:2526
#
# Scenarios, each bounded:
#   1. e2e      REPEAT interleaved rounds (sesame, postfix, ...) of MSGS messages at CONNS
#               connections; rate = messages / (first MAIL FROM .. smtp-sink's counter has
#               them all), i.e. until the queue is empty. Before them, CHECK_MSGS messages to
#               signed.example.net (flakysink on 127.0.0.3:2526) prove each one is DKIM-signed.
#   2. queued   ingest rate of QMSGS unsigned, then QMSGS DKIM-signed messages with an empty
#               queue, then filled up to QUEUED messages that cannot be delivered (deferred.example.net → 127.0.0.2:2526, where nothing
#               listens: connection refused, retried in an hour), then QMSGS again with that
#               queue: the ratio (target >= 80 %).
#   3. pushback a fresh sesame with short retries (2 s .. 10 s) sends FLAKY_MSGS messages to
#               flaky.example.net, served by flakysink (127.0.0.4:2526) which answers 451 to
#               FLAKY_TEMP and 550 to FLAKY_PERM of the recipients; a timeline of the queue
#               and the sink's counters until the queue is empty (every message delivered
#               or bounced).
#
# Usage (root, from anywhere):  bench/mx-e2e.sh
# Environment (defaults): SCENARIOS="e2e queued pushback" REPEAT=3 CONNS=20 MSGS=20000
#   E2E_SERVERS="sesame postfix" (add sesame-unsigned: sesame sending From: a domain without DKIM)
#   DKIM_RSA=auto (delivery.dkim_rsa: auto, openssl or go) LOG_LEVEL=warn (info: with the delivery log)
#   SIZE=2000 CHECK_MSGS=500 QMSGS=20000 QUEUED=100000 FLAKY_MSGS=10000 FLAKY_TEMP=0.2
#   FLAKY_PERM=0.02 RUN_LIMIT=120 (seconds per run, and for a queue to drain) FILL_LIMIT=240
#   WAIT_QUIET=20 QUIET_PCT=15 WORK=/var/tmp/sesame-mx-bench SESAME_BIN= KEEP_POSTFIX=1
# Ports: sesame 5587/5465/5787, dnsstub 5354, Postfix 2588, smtp-sink 2526, flakysink
# 127.0.0.3:2526 and 127.0.0.4:2526. Never 2587/2465/8787 (the test suite's). Needs the
# aws CLI (SES v2 calls: CreateEmailIdentity with Easy DKIM, PutAccountSuppressionAttributes).
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/.." && pwd)
# shellcheck source=lib.sh
. "$HERE/lib.sh"
SCENARIOS=${SCENARIOS:-"e2e queued pushback"}
REPEAT=${REPEAT:-3}
CONNS=${CONNS:-20}
E2E_SERVERS=${E2E_SERVERS:-"sesame postfix"}
DKIM_RSA=${DKIM_RSA:-auto}
LOG_LEVEL=${LOG_LEVEL:-warn}
MSGS=${MSGS:-20000}
SIZE=${SIZE:-2000}
CHECK_MSGS=${CHECK_MSGS:-500}
QMSGS=${QMSGS:-20000}
QUEUED=${QUEUED:-100000}
FLAKY_MSGS=${FLAKY_MSGS:-10000}
FLAKY_TEMP=${FLAKY_TEMP:-0.2}
FLAKY_PERM=${FLAKY_PERM:-0.02}
RUN_LIMIT=${RUN_LIMIT:-120}
FILL_LIMIT=${FILL_LIMIT:-240}
WAIT_QUIET=${WAIT_QUIET:-20}
QUIET_PCT=${QUIET_PCT:-15}
WORK=${WORK:-/var/tmp/sesame-mx-bench}
REGION=us-east-1
FROM=sender@example.com
SES_SMTP=127.0.0.1:5587 SES_TLS=127.0.0.1:5465 SES_API=127.0.0.1:5787
DNS=127.0.0.1:5354 DKIM_CNAME_DOMAIN=dkim.bench.test
PF_SUB=127.0.0.1:2588 PF_USER=bench@bench.local PF_PASS=benchpass
SINK_OUT=${BENCH_STATE:-/tmp/sesame-bench-postfix}/smtp-sink.out
RESULTS=$WORK/results.txt

SESAME_PID='' DNS_PID='' CHECK_PID='' FLAKY_PID='' PF_STARTED=''

has() { case " $SCENARIOS " in *" $1 "*) return 0 ;; *) return 1 ;; esac; }

cleanup() {
	local rc=$?
	stop_pid "$SESAME_PID"
	stop_pid "$FLAKY_PID"
	stop_pid "$CHECK_PID"
	stop_pid "$DNS_PID"
	if [ -n "$PF_STARTED" ] && [ -z "${KEEP_POSTFIX:-}" ]; then
		"$HERE/postfix-setup.sh" stop || true
	fi
	rm -rf "$WORK/data"
	exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# --- helpers -----------------------------------------------------------------



median() { sort -n | awk '{v[NR] = $1} END {if (NR == 0) print "-"; else if (NR % 2) print v[(NR + 1) / 2]; else printf "%.1f\n", (v[NR / 2] + v[NR / 2 + 1]) / 2}'; }
now() { date +%s.%N; }

# smtp-sink -c prints "sess=N quit=N mesg=N\r" per event: the last count.
sink_count() {
	local n
	n=$(tail -c 200 "$SINK_OUT" | tr '\r' '\n' | sed -n 's/.*mesg=\([0-9]*\).*/\1/p' | tail -1)
	echo "${n:-0}"
}

# wait_sink TARGET: until smtp-sink has counted TARGET messages (bounded).
wait_sink() {
	local deadline=$((SECONDS + RUN_LIMIT))
	while [ "$(sink_count)" -lt "$1" ]; do
		[ "$SECONDS" -lt "$deadline" ] || { log "smtp-sink stuck at $(sink_count) < $1"; return 1; }
		sleep 0.05
	done
}

ses() { "$WORK/bin/sesame" "$@"; }
queue_len() { ses admin -c "$WORK/sesame.toml" queue list | jq length; }

# sesame's SES v2 API through the aws CLI, as the account.
awsv2() {
	AWS_ACCESS_KEY_ID=$SES_KEY AWS_SECRET_ACCESS_KEY=$SES_SECRET AWS_DEFAULT_REGION=$REGION \
		aws --endpoint-url "http://$SES_API" sesv2 "$@"
}

listening() { ss -Hltn "sport = :${1##*:}" | grep -q "${1%:*}:${1##*:}"; }
wait_listen() {
	for _ in $(seq 100); do listening "$1" && return 0; sleep 0.1; done
	die "nothing listens on $1"
}

build() {
	mkdir -p "$WORK/bin"
	log "building sesame, smtpload, dnsstub, flakysink"
	(cd "$ROOT" && go build -o "$WORK/bin/smtpload" ./bench/smtpload &&
		go build -o "$WORK/bin/dnsstub" ./bench/dnsstub &&
		go build -o "$WORK/bin/flakysink" ./bench/flakysink)
	if [ -n "${SESAME_BIN:-}" ]; then cp "$SESAME_BIN" "$WORK/bin/sesame"; else (cd "$ROOT" && go build -o "$WORK/bin/sesame" ./cmd/sesame); fi
}

# start_sesame RETRY_MIN RETRY_MAX: a fresh data dir, mx mode, an account in
# production mode without quota, example.com created through the API with
# Easy DKIM (RSA-2048) and waited for until its DKIM status is SUCCESS (the
# verifier finds the three CNAMEs at dnsstub), suppression on bounce off (the
# push-back scenario sends every message to one address).
start_sesame() {
	local cfg=$WORK/sesame.toml acct id st
	rm -rf "$WORK/data"
	mkdir -p "$WORK/data"
	{
		sesame_base_config
		cat <<-EOF
		[delivery]
		mode = "mx"
		resolver = "$DNS"
		mx_port = 2526
		# The sinks are on 127.0.0.1: delivery refuses internal addresses
		# unless told otherwise.
		allow_private_destinations = true
		bounce_domain = "bounce.bench.test"
		retry_min = "$1"
		retry_max = "$2"
		connect_timeout = "5s"
		max_connections_per_domain = 20
		max_messages_per_connection = 1000
		dkim_rsa = "$DKIM_RSA"
		[verification]
		check_interval = "500ms"
		dkim_cname_domain = "$DKIM_CNAME_DOMAIN"
		[log]
		level = "$LOG_LEVEL"
	EOF
	} >"$cfg"
	acct=$(ses admin -c "$cfg" account create) || die "sesame admin account create failed"
	id=$(jq -r .account_id <<<"$acct")
	SES_USER=$(jq -r .access_key_id <<<"$acct")
	SES_KEY=$SES_USER
	SES_SECRET=$(jq -r .secret_access_key <<<"$acct")
	SES_PASS=$(jq -r ".smtp_passwords[\"$REGION\"]" <<<"$acct")
	ses admin -c "$cfg" account set --account "$id" --region "$REGION" \
		--production --max-send-rate 1000000 --max-24h-send -1 >/dev/null
	# The queued scenario's filler comes from a domain without DKIM: filling
	# the queue is not what is measured, and unsigned it takes less time.
	ses admin -c "$cfg" identity verify --account "$id" --region "$REGION" unsigned.test >/dev/null
	"$WORK/bin/sesame" serve -c "$cfg" >>"$WORK/sesame.log" 2>&1 &
	SESAME_PID=$!
	wait_listen "$SES_SMTP"
	wait_listen "$SES_API"
	awsv2 create-email-identity --email-identity example.com >/dev/null || die "CreateEmailIdentity failed"
	awsv2 put-account-suppression-attributes --cli-input-json '{"SuppressedReasons": []}' >/dev/null ||
		die "PutAccountSuppressionAttributes failed"
	for _ in $(seq 60); do
		st=$(awsv2 get-email-identity --email-identity example.com | jq -r '.DkimAttributes.Status + " " + (.DkimAttributes.SigningEnabled|tostring) + " " + .DkimAttributes.NextSigningKeyLength')
		case $st in "SUCCESS true"*) break ;; esac
		sleep 0.5
	done
	case $st in "SUCCESS true"*) ;; *) die "example.com DKIM did not reach SUCCESS: $st" ;; esac
	log "sesame serving on $SES_SMTP (pid $SESAME_PID, account $id), example.com DKIM: $st"
}

# load ADDR-ARGS... -- runs smtpload, prints its RESULT line.
load() {
	"$WORK/bin/smtpload" -q -from "$FROM" -size "$SIZE" -duration "${RUN_LIMIT}s" -max-errors 100 "$@" </dev/null | tail -1 || true
}
ses_load() { load -addr "$SES_SMTP" -starttls -user "$SES_USER" -pass "$SES_PASS" "$@"; }
pf_load() { load -addr "$PF_SUB" -starttls -user "$PF_USER" -pass "$PF_PASS" "$@"; }

# --- scenario 1: end to end, interleaved with Postfix ------------------------

dkim_check() {
	: >"$WORK/check.stats"
	"$WORK/bin/flakysink" -listen 127.0.0.3:2526 -temp 0 -perm 0 -stats "$WORK/check.stats" >/dev/null 2>&1 &
	CHECK_PID=$!
	wait_listen 127.0.0.3:2526
	local out deadline=$((SECONDS + 60))
	out=$(ses_load -to check@signed.example.net -conns 4 -msgs "$CHECK_MSGS")
	while ! grep -q " msgs=$CHECK_MSGS " "$WORK/check.stats" && [ "$SECONDS" -lt "$deadline" ]; do sleep 0.2; done
	stop_pid "$CHECK_PID"
	CHECK_PID=''
	echo "DKIM_CHECK accepted=$(field msgs <<<"$out") $(cat "$WORK/check.stats")" | tee -a "$RESULTS"
}

# e2e_one SERVER: one run of MSGS messages, measured until smtp-sink has them.
e2e_one() {
	local server=$1 busy s0 t0 out n t1 extra=''
	busy=$(wait_quiet)
	s0=$(sink_count)
	t0=$(now)
	case $server in
	sesame) out=$(ses_load -to recipient@example.net -conns "$CONNS" -msgs "$MSGS") ;;
	sesame-unsigned) out=$(ses_load -from filler@unsigned.test -to recipient@example.net -conns "$CONNS" -msgs "$MSGS") ;;
	postfix) out=$(pf_load -to recipient@example.net -conns "$CONNS" -msgs "$MSGS") ;;
	esac
	n=$(field msgs <<<"$out")
	wait_sink $((s0 + n)) || true
	t1=$(now)
	[ "$server" = postfix ] || extra=" queue_after=$(queue_len)"
	echo "e2e server=$server busy_before=$busy% delivered=$(($(sink_count) - s0)) e2e=$(awk -v n="$n" -v a="$t0" -v b="$t1" 'BEGIN {printf "%.1f", n / (b - a)}')/s$extra $out" |
		tee -a "$RESULTS"
}

# --- scenario 2: ingest with 100,000 messages queued -------------------------

queued_one() { # queued_one LABEL MSGS [SMTPLOAD-ARGS...]
	local label=$1 msgs=$2 busy out
	shift 2
	busy=$(wait_quiet)
	out=$(ses_load -to user@deferred.example.net -conns "$CONNS" -msgs "$msgs" "$@")
	echo "queued run=$label busy_before=$busy% queue_after=$(queue_len) $out" | tee -a "$RESULTS"
}

# --- scenario 3: push-back ---------------------------------------------------

pushback() {
	: >"$WORK/flaky.stats"
	"$WORK/bin/flakysink" -listen 127.0.0.4:2526 -temp "$FLAKY_TEMP" -perm "$FLAKY_PERM" -stats "$WORK/flaky.stats" >/dev/null 2>&1 &
	FLAKY_PID=$!
	wait_listen 127.0.0.4:2526
	local t0 out q deadline
	t0=$(now)
	out=$(ses_load -to user@flaky.example.net -conns "$CONNS" -msgs "$FLAKY_MSGS")
	echo "pushback ingest $out" | tee -a "$RESULTS"
	deadline=$((SECONDS + RUN_LIMIT))
	while :; do
		q=$(queue_len)
		echo "pushback t=$(awk -v a="$t0" -v b="$(now)" 'BEGIN {printf "%.1f", b - a}')s queue=$q $(cat "$WORK/flaky.stats")" | tee -a "$RESULTS"
		[ "$q" -gt 0 ] && [ "$SECONDS" -lt "$deadline" ] || break
		sleep 2
	done
	stop_pid "$FLAKY_PID"
	FLAKY_PID=''
	echo "pushback final t=$(awk -v a="$t0" -v b="$(now)" 'BEGIN {printf "%.1f", b - a}')s queue=$q $(cat "$WORK/flaky.stats")" | tee -a "$RESULTS"
}

# --- report ------------------------------------------------------------------

report() {
	local se pe si pi r e q
	echo
	echo "==== sesame mx delivery vs Postfix relay: ${SIZE}-byte messages, $CONNS connections, STARTTLS + AUTH ===="
	echo "# $(date -Is) $(nproc) vCPU, kernel $(uname -r), postfix $(postconf -h mail_version 2>/dev/null || echo n/a)," \
		"sesame $(git -C "$ROOT" log -1 --format=%h 2>/dev/null || echo '?'), $(go version | cut -d' ' -f3)," \
		"dkim_rsa = $DKIM_RSA, $("$WORK/bin/sesame" version | sed -n 's/^DKIM RSA signing[^:]*: //p')" \
		"($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs))"
	grep '^DKIM_CHECK' "$RESULTS" || true
	if grep -q '^e2e ' "$RESULTS"; then
		se=$(grep '^e2e server=sesame ' "$RESULTS" | field e2e | median)
		pe=$({ grep '^e2e server=postfix ' "$RESULTS" || true; } | field e2e | median)
		si=$(grep '^e2e server=sesame ' "$RESULTS" | field rate | median)
		pi=$({ grep '^e2e server=postfix ' "$RESULTS" || true; } | field rate | median)
		echo "e2e msg/s (median): sesame $se (runs: $(grep '^e2e server=sesame ' "$RESULTS" | field e2e | tr '\n' ' ')), postfix $pe (runs: $({ grep '^e2e server=postfix ' "$RESULTS" || true; } | field e2e | tr '\n' ' '))"
		echo "ingest msg/s (median): sesame $si, postfix $pi"
		if grep -q '^e2e server=sesame-unsigned ' "$RESULTS"; then
			echo "sesame without DKIM (From: unsigned.test), e2e msg/s (median): $(grep '^e2e server=sesame-unsigned ' "$RESULTS" | field e2e | median) (runs: $(grep '^e2e server=sesame-unsigned ' "$RESULTS" | field e2e | tr '\n' ' '))"
		fi
		if [ "$pe" != "-" ]; then
			r=$(awk -v a="$se" -v b="$pe" 'BEGIN {printf "%.2f", (b > 0 ? a / b : 0)}')
			awk -v r="$r" 'BEGIN {printf "target e2e >= 2x Postfix, every message DKIM-signed: %.2fx  %s\n", r, (r >= 2 ? "met" : "MISSED")}'
		else
			echo "no Postfix round (E2E_SERVERS=\"$E2E_SERVERS\"): no ratio"
		fi
	fi
	if grep -q '^queued ' "$RESULTS"; then
		e=$(grep '^queued run=empty ' "$RESULTS" | field rate | median)
		q=$(grep '^queued run=queued ' "$RESULTS" | field rate | median)
		awk -v e="$e" -v q="$q" 'BEGIN {r = (e > 0 ? q / e : 0); printf "target ingest with the queue full >= 80%% of empty (signed): %s vs %s msg/s = %.0f%%  %s\n", q, e, 100 * r, (r >= 0.8 ? "met" : "MISSED")}'
		e=$(grep '^queued run=empty-unsigned ' "$RESULTS" | field rate | median)
		q=$(grep '^queued run=queued-unsigned ' "$RESULTS" | field rate | median)
		awk -v e="$e" -v q="$q" 'BEGIN {r = (e > 0 ? q / e : 0); printf "target ingest with the queue full >= 80%% of empty (unsigned): %s vs %s msg/s = %.0f%%  %s\n", q, e, 100 * r, (r >= 0.8 ? "met" : "MISSED")}'
	fi
	grep '^pushback \(ingest\|final\)' "$RESULTS" || true
	grep '^pushback final' "$RESULTS" | awk -v n="$FLAKY_MSGS" '{for (i = 1; i <= NF; i++) {split($i, kv, "="); v[kv[1]] = kv[2]}
		printf "pushback: %d messages -> %d delivered once + %d bounced (550) = %d, %d duplicates, %d 451s retried, queue %s after %s\n",
			n, v["unique"], v["perm"], v["unique"] + v["perm"], v["dup"], v["temp"], v["queue"], v["t"]}' || true
}

# --- main --------------------------------------------------------------------

[ "$(id -u)" = 0 ] || die "run as root (Postfix needs it)"
command -v aws >/dev/null && command -v jq >/dev/null || die "needs the aws CLI and jq"
mkdir -p "$WORK"
: >"$RESULTS"
: >"$WORK/sesame.log"
build
"$HERE/postfix-setup.sh" start
PF_STARTED=1
"$WORK/bin/dnsstub" -listen "$DNS" -cname-domain "$DKIM_CNAME_DOMAIN" \
	-a-for "deferred.example.net=127.0.0.2,signed.example.net=127.0.0.3,flaky.example.net=127.0.0.4" 2>"$WORK/dnsstub.log" &
DNS_PID=$!
sleep 0.3
kill -0 "$DNS_PID" || die "dnsstub: $(cat "$WORK/dnsstub.log")"

if has e2e || has queued; then
	start_sesame 1h 1h
	if has e2e; then
		dkim_check
		log "e2e: $REPEAT rounds of $E2E_SERVERS; $MSGS messages at $CONNS connections"
		for _ in $(seq "$REPEAT"); do
			for s in $E2E_SERVERS; do e2e_one "$s"; done
		done
	fi
	if has queued; then
		log "queued: $QMSGS unsigned then $QMSGS signed messages with an empty queue, filled to $QUEUED queued, then the same again"
		q0=$(queue_len)
		[ "$q0" -eq 0 ] || log "queue not empty before the queued scenario: $q0"
		queued_one empty-unsigned "$QMSGS" -from filler@unsigned.test
		queued_one empty "$QMSGS"
		fill=$((QUEUED - 2 * QMSGS))
		out=$(RUN_LIMIT=$FILL_LIMIT ses_load -from filler@unsigned.test -to user@deferred.example.net -conns "$CONNS" -msgs "$fill")
		echo "queued fill $out" | tee -a "$RESULTS"
		queued_one queued-unsigned "$QMSGS" -from filler@unsigned.test
		queued_one queued "$QMSGS"
	fi
	stop_pid "$SESAME_PID"
	SESAME_PID=''
fi
if has pushback; then
	log "pushback: $FLAKY_MSGS messages to a sink answering 451 to $FLAKY_TEMP and 550 to $FLAKY_PERM of recipients"
	start_sesame 2s 10s
	pushback
fi
report | tee "$WORK/report.txt"
log "per-run lines: $RESULTS; report: $WORK/report.txt; sesame log: $WORK/sesame.log"
