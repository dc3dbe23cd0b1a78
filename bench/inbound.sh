#!/bin/bash
# inbound.sh — sesame's inbound MX (issue 12) side by side with Debian's
# Postfix receiving the same load into its queue.
#
#   smtpload ──plain SMTP, DKIM-signed──▶ sesame  127.0.0.1:7525  [receiving], delivery.mode = capture
#     From/MAIL FROM sender@example.org      │ SPF, DKIM, DMARC of example.org through
#     To/RCPT TO   recipient@example.net     │ delivery.resolver = dnsstub 127.0.0.1:7354
#                                            ▼ receipt rule (SES v1 API, aws CLI): S3Action
#                                          s3sink 127.0.0.1:7900 (gofakes3), bucket bench-inbound
#   smtpload ──the same bytes────────────▶ postfix 127.0.0.1:2529  onto its hold queue, no checks
#
# Every message is DKIM-signed (RSA-2048, d=example.org s=bench) by smtpload
# with one signature computed per run that leaves the per-message Message-ID
# unsigned (bench/smtpload -dkim-key), so the receiver does the whole check
# (key lookup, body hash, RSA verification) and the generator no signing.
# dnsstub serves example.org's SPF ("v=spf1 ip4:127.0.0.0/8 -all"), the key
# and DMARC ("p=reject"): every verdict is PASS, and a first message proves it.
#
# Runs are interleaved (sesame, postfix, sesame, ...) REPEAT times per load,
# each after the CPU has gone quiet. Per run: the acceptance rate and latency
# (smtpload: MAIL FROM to the 250 after the dot, which for sesame means the
# message is durable in its spool, for Postfix fsynced in its queue), and for
# sesame the second figure, processing: messages / (first MAIL FROM .. the
# last accepted message is in the bucket). Postfix has no second figure: the
# hold queue is where its part ends (it stays there until the run is over
# and is then deleted). A table of medians, the sesame/Postfix ratio, and the
# issue's targets (>= 2x Postfix's inbound rate, p99 < 50 ms at 20 conns).
#
# Usage (root, from anywhere):  bench/inbound.sh
#                               SERVERS=postfix bench/inbound.sh   # the Postfix half alone
# Environment (defaults):
#   SERVERS="sesame postfix"  LOADS=20  REPEAT=3  MSGS=5000  SIZE=2000 (signature included)
#   RUN_LIMIT=120 (seconds a run may take, and for the bucket to fill)
#   WAIT_QUIET=30 QUIET_PCT=15  WORK=/var/tmp/sesame-inbound-bench  SESAME_BIN=  KEEP_POSTFIX=1
#   LOG_LEVEL=warn
# Ports: sesame 7525 (inbound MX), 7587/7465/7787 (its other listeners, unused), dnsstub
# 7354, s3sink 7900; Postfix 2529 (bench/postfix-setup.sh, with its 2525/2588 and smtp-sink
# 2526). Never 2587/2465/8787 (the test suite's). Needs the aws CLI, jq, curl, openssl.
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/.." && pwd)
# shellcheck source=lib.sh
. "$HERE/lib.sh"
SERVERS=${SERVERS:-"sesame postfix"}
LOADS=${LOADS:-20}
REPEAT=${REPEAT:-3}
MSGS=${MSGS:-5000}
SIZE=${SIZE:-2000}
RUN_LIMIT=${RUN_LIMIT:-120}
WAIT_QUIET=${WAIT_QUIET:-30}
QUIET_PCT=${QUIET_PCT:-15}
LOG_LEVEL=${LOG_LEVEL:-warn}
WORK=${WORK:-/var/tmp/sesame-inbound-bench}
REGION=us-east-1
FROM=sender@example.org TO=recipient@example.net
SENDER_DOMAIN=example.org SELECTOR=bench
SES_SMTP=127.0.0.1:7587 SES_TLS=127.0.0.1:7465 SES_API=127.0.0.1:7787
SES_MX=127.0.0.1:7525 DNS=127.0.0.1:7354 S3=127.0.0.1:7900 BUCKET=bench-inbound
PF_MX=127.0.0.1:2529
PF_HOLD_DIR=/var/spool/postfix/hold
RESULTS=$WORK/results.txt

SESAME_PID='' DNS_PID='' S3_PID='' PF_STARTED=''

has() { case " $SERVERS " in *" $1 "*) return 0 ;; *) return 1 ;; esac; }

cleanup() {
	local rc=$?
	stop_pid "$SESAME_PID"
	stop_pid "$S3_PID"
	stop_pid "$DNS_PID"
	if [ -n "$PF_STARTED" ]; then
		postsuper -d ALL hold >/dev/null 2>&1 || true
		[ -n "${KEEP_POSTFIX:-}" ] || "$HERE/postfix-setup.sh" stop || true
	fi
	rm -rf "$WORK/data"
	exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# --- helpers -----------------------------------------------------------------

median() { sort -g | awk '{v[NR] = $1} END {if (NR == 0) print "-"; else if (NR % 2) print v[(NR + 1) / 2]; else printf "%.1f\n", (v[NR / 2] + v[NR / 2 + 1]) / 2}'; }
now() { date +%s.%N; }
listening() { ss -Hltn "sport = :${1##*:}" | grep -q "${1%:*}:${1##*:}"; }
wait_listen() { # wait_listen ADDR [PID]: until ADDR listens (and PID still runs)
	for _ in $(seq 100); do
		listening "$1" && return 0
		[ -z "${2:-}" ] || kill -0 "$2" 2>/dev/null || return 1
		sleep 0.1
	done
	return 1
}

ses() { "$WORK/bin/sesame" "$@"; }

# sesame's SES v1 API through the aws CLI, as the account.
awsv1() {
	AWS_ACCESS_KEY_ID=$SES_KEY AWS_SECRET_ACCESS_KEY=$SES_SECRET AWS_DEFAULT_REGION=$REGION \
		aws --endpoint-url "http://$SES_API" ses "$@"
}
# The bucket through the aws CLI (s3sink takes any credentials).
awss3() {
	AWS_ACCESS_KEY_ID=bench AWS_SECRET_ACCESS_KEY=bench AWS_DEFAULT_REGION=$REGION \
		aws --endpoint-url "http://$S3" s3api "$@"
}

# The bucket's counters: "objects=N bytes=B puts=P errors=E".
sink_stats() { curl -fsS "http://$S3/_sink/stats"; }
sink_field() { echo " $(sink_stats)" | field "$1"; } # field wants a space before the name
bucket_count() { sink_field objects; }

# wait_bucket TARGET: until the bucket holds TARGET objects (bounded).
wait_bucket() {
	local deadline=$((SECONDS + RUN_LIMIT))
	while [ "$(bucket_count)" -lt "$1" ]; do
		[ "$SECONDS" -lt "$deadline" ] || { log "bucket stuck at $(sink_stats) < $1 objects"; return 1; }
		sleep 0.05
	done
}

hold_count() { find "$PF_HOLD_DIR" -type f | wc -l; }

# load ARGS...: one smtpload run of DKIM-signed messages; prints its RESULT line.
load() {
	"$WORK/bin/smtpload" -q -from "$FROM" -to "$TO" -size "$SIZE" -duration "${RUN_LIMIT}s" -max-errors 100 \
		-dkim-key "$WORK/dkim.key" -dkim-domain "$SENDER_DOMAIN" -dkim-selector "$SELECTOR" "$@" </dev/null | tail -1 || true
}

# --- setup -------------------------------------------------------------------

build() {
	mkdir -p "$WORK/bin"
	log "building smtpload, dnsstub, s3sink${SESAME_BIN:+ (sesame: $SESAME_BIN)}"
	(cd "$ROOT" && go build -o "$WORK/bin/smtpload" ./bench/smtpload &&
		go build -o "$WORK/bin/dnsstub" ./bench/dnsstub &&
		go build -o "$WORK/bin/s3sink" ./bench/s3sink)
	if has sesame; then
		if [ -n "${SESAME_BIN:-}" ]; then cp "$SESAME_BIN" "$WORK/bin/sesame"; else (cd "$ROOT" && go build -o "$WORK/bin/sesame" ./cmd/sesame); fi
	fi
}

# The sender's DKIM key, and its record for dnsstub.
dkim_key() {
	openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$WORK/dkim.key" 2>/dev/null ||
		die "openssl genpkey failed"
	DKIM_P=$(openssl pkey -in "$WORK/dkim.key" -pubout -outform DER | base64 -w0)
}

start_peers() {
	"$WORK/bin/dnsstub" -listen "$DNS" \
		-txt "$SENDER_DOMAIN=v=spf1 ip4:127.0.0.0/8 -all" \
		-txt "$SELECTOR._domainkey.$SENDER_DOMAIN=v=DKIM1; k=rsa; p=$DKIM_P" \
		-txt "_dmarc.$SENDER_DOMAIN=v=DMARC1; p=reject" 2>"$WORK/dnsstub.log" &
	DNS_PID=$!
	"$WORK/bin/s3sink" -listen "$S3" -bucket "$BUCKET" 2>"$WORK/s3sink.log" &
	S3_PID=$!
	wait_listen "$DNS" "$DNS_PID" || die "dnsstub: $(cat "$WORK/dnsstub.log")"
	wait_listen "$S3" "$S3_PID" || die "s3sink: $(cat "$WORK/s3sink.log")"
	log "dnsstub on $DNS (example.org: SPF, DKIM key, DMARC), s3sink on $S3 (bucket $BUCKET)"
}

# start_sesame: a fresh data dir, capture mode (nothing goes out), the
# inbound MX on $SES_MX, example.net verified, and a receipt rule set made
# active through the SES v1 API whose one rule stores example.net's mail in
# the bucket. Then one message end to end, checked in the bucket: it must
# have been accepted, stored, and found to pass SPF, DKIM and DMARC.
start_sesame() {
	local cfg=$WORK/sesame.toml acct id
	rm -rf "$WORK/data"
	mkdir -p "$WORK/data"
	{
		sesame_base_config
		cat <<-EOF
		[receiving]
		listen = ["$SES_MX"]
		max_connections = 1000
		[delivery]
		mode = "capture"
		resolver = "$DNS"
		[s3]
		endpoint = "http://$S3"
		region = "$REGION"
		access_key_id = "bench"
		secret_access_key = "bench"
		path_style = true
		[log]
		level = "$LOG_LEVEL"
	EOF
	} >"$cfg"
	acct=$(ses admin -c "$cfg" account create) || die "sesame admin account create failed"
	id=$(jq -r .account_id <<<"$acct")
	SES_KEY=$(jq -r .access_key_id <<<"$acct")
	SES_SECRET=$(jq -r .secret_access_key <<<"$acct")
	[ -n "$id" ] && [ "$SES_SECRET" != null ] || die "unexpected output of 'sesame admin account create': $acct"
	ses admin -c "$cfg" identity verify --account "$id" --region "$REGION" "${TO#*@}" >/dev/null ||
		die "identity verify ${TO#*@} failed"
	# The binary itself, not the ses function: $! must be sesame, not a subshell.
	"$WORK/bin/sesame" serve -c "$cfg" >>"$WORK/sesame.log" 2>&1 &
	SESAME_PID=$!
	wait_listen "$SES_API" "$SESAME_PID" || die "sesame API not listening: $(tail -5 "$WORK/sesame.log")"
	wait_listen "$SES_MX" "$SESAME_PID" || die "sesame's inbound MX not listening on $SES_MX: $(tail -5 "$WORK/sesame.log")"
	# SES v1 receipt rules, as an AWS user would make them (no ScanEnabled:
	# no spam or virus scanner is configured, and their cost would be
	# rspamd's and clamd's, not sesame's; SPF, DKIM and DMARC are checked
	# regardless, as SES does).
	awsv1 create-receipt-rule-set --rule-set-name bench >/dev/null || die "CreateReceiptRuleSet failed"
	awsv1 create-receipt-rule --rule-set-name bench --rule "$(jq -nc --arg d "${TO#*@}" --arg b "$BUCKET" \
		'{Name: "store", Enabled: true, TlsPolicy: "Optional", ScanEnabled: false, Recipients: [$d],
		  Actions: [{S3Action: {BucketName: $b, ObjectKeyPrefix: "in/"}}]}')" >/dev/null ||
		die "CreateReceiptRule failed"
	awsv1 set-active-receipt-rule-set --rule-set-name bench >/dev/null || die "SetActiveReceiptRuleSet failed"
	[ "$(awsv1 describe-active-receipt-rule-set | jq -r '.Metadata.Name + " " + (.Rules | length | tostring)')" = "bench 1" ] ||
		die "DescribeActiveReceiptRuleSet does not show the rule set"
	log "sesame's inbound MX on $SES_MX (pid $SESAME_PID, account $id), rule set 'bench' active: $TO -> s3://$BUCKET/in/"
	verdict_check
	# The same warm-up as Postfix's: 200 messages at 20 connections, stored.
	local n0 out
	n0=$(bucket_count)
	out=$(load -addr "$SES_MX" -conns 20 -msgs 200)
	[ "$(field msgs <<<"$out")" = 200 ] || die "a first load to sesame's MX failed: $out"
	wait_bucket $((n0 + 200)) || die "the warm-up's messages did not all reach the bucket"
}

# verdict_check: one message, then its object: Received-SPF must say pass,
# and the Authentication-Results sesame writes (when it writes them) dkim
# and dmarc pass: otherwise the bench would not be measuring the checks.
verdict_check() {
	local out n0 key obj
	n0=$(bucket_count)
	out=$(load -addr "$SES_MX" -conns 1 -msgs 1)
	[ "$(field msgs <<<"$out")" = 1 ] || die "a first message to sesame's MX failed: $out"
	wait_bucket $((n0 + 1)) || die "the first message never reached the bucket ($(sink_stats)); sesame.log: $(tail -5 "$WORK/sesame.log")"
	key=$(awss3 list-objects-v2 --bucket "$BUCKET" --prefix in/ --max-items 1 | jq -r '.Contents[0].Key')
	obj=$(mktemp)
	awss3 get-object --bucket "$BUCKET" --key "$key" "$obj" >/dev/null || die "cannot read s3://$BUCKET/$key"
	local spf dkim dmarc
	spf=$(grep -m1 -io '^Received-SPF: [a-z]*' "$obj" | awk '{print tolower($2)}' || true)
	dkim=$(grep -m1 -io 'dkim=[a-z]*' "$obj" | cut -d= -f2 || true)
	dmarc=$(grep -m1 -io 'dmarc=[a-z]*' "$obj" | cut -d= -f2 || true)
	rm -f "$obj"
	echo "VERDICT_CHECK key=$key spf=${spf:-absent} dkim=${dkim:-absent} dmarc=${dmarc:-absent}" | tee -a "$RESULTS"
	[ "$spf" = pass ] || die "the stored message's Received-SPF is '${spf:-absent}', not pass"
	if [ -n "$dkim$dmarc" ]; then
		[ "$dkim" = pass ] && [ "$dmarc" = pass ] || die "the stored message says dkim=$dkim dmarc=$dmarc, not pass"
	else
		log "WARNING: no Authentication-Results on the stored message: DKIM and DMARC verdicts not visible"
	fi
}

start_postfix() {
	# A Postfix running without any of the bench's listeners is someone
	# else's: postfix-setup.sh would rewrite its configuration under it.
	if postfix status >/dev/null 2>&1 && ! listening "$PF_MX" && ! listening 127.0.0.1:2525; then
		die "Postfix is running with a configuration not the bench's; stop it (or run SERVERS=sesame)"
	fi
	"$HERE/postfix-setup.sh" start
	PF_STARTED=1
	postsuper -d ALL hold >/dev/null 2>&1 || true
	# smtpd processes are spawned on first use and then kept: one small
	# run first so that their start is in no measured run (start_sesame
	# warms sesame up likewise).
	local out
	out=$(load -addr "$PF_MX" -conns 20 -msgs 200)
	[ "$(field msgs <<<"$out")" = 200 ] || die "a first load to Postfix's MX failed: $out"
	[ "$(hold_count)" -ge 200 ] || die "Postfix accepted 200 messages but its hold queue has $(hold_count)"
	postsuper -d ALL hold >/dev/null 2>&1
	log "Postfix's inbound listener on $PF_MX, mail held in its queue"
}

# --- one measured run --------------------------------------------------------

# run_one SERVER CONNS: MSGS messages, one line appended to $RESULTS.
run_one() {
	local server=$1 conns=$2 busy out n t0 t1 c0 extra='' stored0 rss
	busy=$(wait_quiet)
	case $server in
	sesame) stored0=$(bucket_count) ;;
	postfix) postsuper -d ALL hold >/dev/null 2>&1 || true ;;
	esac
	c0=$(busy_ticks)
	t0=$(now)
	case $server in
	sesame) out=$(load -addr "$SES_MX" -conns "$conns" -msgs "$MSGS") ;;
	postfix) out=$(load -addr "$PF_MX" -conns "$conns" -msgs "$MSGS") ;;
	esac
	n=$(field msgs <<<"$out")
	[ -n "$n" ] || { n=0; out="RESULT msgs=0 rate=0/s p50=0ms p99=0ms errors=failed"; }
	case $server in
	sesame)
		# Processing: until every accepted message is in the bucket.
		wait_bucket $((stored0 + n)) || true
		t1=$(now)
		rss=$(awk '/^VmRSS/ {printf "%d", $2 / 1024}' "/proc/$SESAME_PID/status" 2>/dev/null || echo 0)
		extra=" stored=$(($(bucket_count) - stored0)) stored_rate=$(awk -v n="$n" -v a="$t0" -v b="$t1" 'BEGIN {printf "%.1f", n / (b - a)}')/s s3_errors=$(sink_field errors) rss_end=${rss}MB"
		;;
	postfix)
		t1=$(now)
		extra=" held=$(hold_count)"
		;;
	esac
	# CPU the whole machine spent per 1,000 messages, until the server's
	# part was done (for sesame: stored): both run out of the same cores.
	extra+=" cpu_s_per_1k=$(awk -v t="$(($(busy_ticks) - c0))" -v hz="$(getconf CLK_TCK)" -v n="$n" \
		'BEGIN {printf "%.2f", (n > 0 ? t / hz / n * 1000 : 0)}')"
	echo "load=$conns server=$server busy_before=$busy%$extra $out" | tee -a "$RESULTS"
	[ "$server" != postfix ] || postsuper -d ALL hold >/dev/null 2>&1 || true
}

# --- report ------------------------------------------------------------------

report() {
	local c s sel rate p50 p99 stored cpu ratio p99_20=''
	echo
	echo "==== inbound MX: sesame (SPF+DKIM+DMARC, S3 action) vs Postfix (hold queue): ${SIZE}-byte DKIM-signed messages, $MSGS per run, plain SMTP ===="
	echo "# $(date -Is) $(nproc) vCPU $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)," \
		"kernel $(uname -r), postfix $(postconf -h mail_version 2>/dev/null || echo n/a)," \
		"sesame $(git -C "$ROOT" log -1 --format=%h 2>/dev/null || echo '?'), $(go version | cut -d' ' -f3)"
	grep '^VERDICT_CHECK' "$RESULTS" || true
	printf '%-5s %-8s %9s %8s %8s %10s %8s %7s   %s\n' load server accept/s p50_ms p99_ms stored/s cpu_s/1k errors "runs (accept/s; stored/s)"
	for c in $LOADS; do
		declare -A med=()
		for s in $SERVERS; do
			sel=$(grep "^load=$c server=$s " "$RESULTS" || true)
			[ -n "$sel" ] || continue
			med[$s]=$(field rate <<<"$sel" | median)
			p50=$(field p50 <<<"$sel" | median)
			p99=$(field p99 <<<"$sel" | median)
			stored=$(field stored_rate <<<"$sel" | median)
			cpu=$(field cpu_s_per_1k <<<"$sel" | median)
			printf '%-5s %-8s %9s %8s %8s %10s %8s %7s   %s\n' "$c" "$s" "${med[$s]}" "$p50" "$p99" "$stored" "$cpu" \
				"$(field errors <<<"$sel" | awk '{s += $1} END {print s + 0}')" \
				"$(field rate <<<"$sel" | tr '\n' ' ')$([ "$s" = sesame ] && echo "; $(field stored_rate <<<"$sel" | tr '\n' ' ')")"
			[ "$c" = 20 ] && [ "$s" = sesame ] && p99_20=$p99
		done
		if [ -n "${med[sesame]:-}" ] && [ -n "${med[postfix]:-}" ]; then
			ratio=$(awk -v a="${med[sesame]}" -v b="${med[postfix]}" 'BEGIN {printf "%.2f", (b > 0 ? a / b : 0)}')
			printf '%-5s ratio of median accept/s sesame/postfix = %sx\n' "$c" "$ratio"
			awk -v r="$ratio" -v c="$c" 'BEGIN {printf "target inbound rate >= 2x Postfix at %s conns: %.2fx  %s\n", c, r, (r >= 2 ? "met" : "MISSED")}'
			stored=$(grep "^load=$c server=sesame " "$RESULTS" | field stored_rate | median)
			awk -v r="$stored" -v p="${med[postfix]}" -v c="$c" 'BEGIN {printf "  (accepted and stored in S3, sesame, vs accepted into the queue, Postfix, at %s conns: %.2fx)\n", c, (p > 0 ? r / p : 0)}'
		fi
		unset med
	done
	[ -z "$p99_20" ] || awk -v p="$p99_20" 'BEGIN {printf "target p99 acceptance latency < 50 ms at 20 conns: %s ms  %s\n", p, (p < 50 ? "met" : "MISSED")}'
}

# --- main --------------------------------------------------------------------

[ "$(id -u)" = 0 ] || ! has postfix || die "run as root (Postfix needs it)"
for t in jq curl openssl; do command -v "$t" >/dev/null || die "needs $t"; done
! has sesame || command -v aws >/dev/null || die "needs the aws CLI (SES v1 receipt rules)"
mkdir -p "$WORK"
: >"$RESULTS"
: >"$WORK/sesame.log"
build
dkim_key
start_peers
has postfix && start_postfix
has sesame && start_sesame
log "runs: loads '$LOADS', $REPEAT rounds of '$SERVERS', $MSGS DKIM-signed ${SIZE}-byte messages each"
for c in $LOADS; do
	for _ in $(seq "$REPEAT"); do
		for s in $SERVERS; do run_one "$s" "$c"; done
	done
done
report | tee "$WORK/report.txt"
log "per-run lines: $RESULTS; table: $WORK/report.txt; sesame log: $WORK/sesame.log"
