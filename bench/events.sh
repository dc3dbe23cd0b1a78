#!/bin/bash
# events.sh — what publishing SES events costs sesame's SMTP ingest.
#
# The same load (bench/smtpload: 20 connections, 2,000-byte messages,
# STARTTLS + AUTH PLAIN, capture mode) runs alternately with
#   none  example.com's default configuration set has no event destination
#         (events are still recorded in the outbox: that cost is in both)
#   all   its set publishes every event type (Send and Delivery here: two per
#         message) to an SNS topic with a local HTTP subscriber (bench/eventsink)
# REPEAT times; it prints one line per run, the medians, the all/none ratio
# (target: publishing costs < 15 % of ingest, ratio >= 0.85), and for "all"
# the events' latency at the subscriber (event time → arrival) and how long
# the last event took: at this load sesame is busy, so its events wait
# ([sns] defer_when_busy) and follow the burst. Then the same messages are
# offered at a steady KEEPUP_RATE that publishing keeps up with (target:
# events within 1 s at p99), REPEAT times. Then, unless BACKLOG_MSGS=0, the subscriber goes away (503) while
# BACKLOG_MSGS messages (two undelivered events each) are sent, and one more
# measured run shows whether the backlog slows sending (target: no).
#
# Usage (from anywhere):   bench/events.sh
# Environment (defaults):
#   REPEAT=3  MSGS=20000  CONNS=20  SIZE=2000
#   BACKLOG_MSGS=500000      messages sent while the subscriber is down (0 = skip)
#   KEEPUP_RATE=500          messages/s offered in the keep-up runs (0 = skip them)
#   RUN_LIMIT=180            seconds a single run may take (smtpload -duration)
#   CATCHUP_LIMIT=300        seconds to wait for the subscriber to get every event
#   WAIT_QUIET=30 QUIET_PCT=15
#   WORK=/var/tmp/sesame-bench-events
# Loopback only; ports 3587/3465/3787 (sesame) and 3790 (eventsink).
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/.." && pwd)
# shellcheck source=lib.sh
. "$HERE/lib.sh"
REPEAT=${REPEAT:-3}
MSGS=${MSGS:-20000}
CONNS=${CONNS:-20}
SIZE=${SIZE:-2000}
BACKLOG_MSGS=${BACKLOG_MSGS:-500000}
KEEPUP_RATE=${KEEPUP_RATE:-500}
RUN_LIMIT=${RUN_LIMIT:-180}
CATCHUP_LIMIT=${CATCHUP_LIMIT:-300}
WAIT_QUIET=${WAIT_QUIET:-30}
QUIET_PCT=${QUIET_PCT:-15}
WORK=${WORK:-/var/tmp/sesame-bench-events}
FROM=sender@example.com TO=recipient@example.net
SES_SMTP=127.0.0.1:3587 SES_TLS=127.0.0.1:3465 SES_API=127.0.0.1:3787 SINK=127.0.0.1:3790
REGION=us-east-1
SESAME_PID='' SINK_PID=''
RESULTS=$WORK/results.txt

cleanup() {
	local rc=$?
	for p in "$SINK_PID" "$SESAME_PID"; do
		if [ -n "$p" ] && kill -0 "$p" 2>/dev/null; then kill "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; fi
	done
	rm -rf "$WORK/data"
	exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

json_str() { tr -d '\n' | sed -n "s/.*\"$1\" *: *\"\([^\"]*\)\".*/\1/p"; }
json_num() { tr -d '\n' | sed -n "s/.*\"$1\" *: *\([0-9.e+-]*\).*/\1/p"; }
median() { sort -g | awk '{v[NR] = $1} END { if (NR == 0) { print "n/a"; exit }
	m = (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2; printf "%.1f\n", m }'; }

mkdir -p "$WORK/bin"
: >"$RESULTS"
log "building sesame, smtpload and eventsink"
(cd "$ROOT" && go build -o "$WORK/bin/sesame" ./cmd/sesame && go build -o "$WORK/bin/smtpload" ./bench/smtpload &&
	go build -o "$WORK/bin/eventsink" ./bench/eventsink)

cfg=$WORK/sesame.toml
rm -rf "$WORK/data"
mkdir -p "$WORK/data"
{
	sesame_base_config
	printf '[delivery]\nmode = "capture"\n[log]\nlevel = "warn"\n'
} >"$cfg"
ses=$WORK/bin/sesame
acct=$("$ses" admin -c "$cfg" account create)
id=$(json_str account_id <<<"$acct")
key=$(json_str access_key_id <<<"$acct")
secret=$(json_str secret_access_key <<<"$acct")
pass=$("$ses" smtp-password --secret "$secret" --region "$REGION")
"$ses" admin -c "$cfg" account set --account "$id" --region "$REGION" --production --max-send-rate 1000000 --max-24h-send -1 >/dev/null
"$ses" admin -c "$cfg" identity verify --account "$id" --region "$REGION" example.com >/dev/null
"$ses" serve -c "$cfg" >"$WORK/sesame.log" 2>&1 &
SESAME_PID=$!
for _ in $(seq 100); do
	curl -sf "http://$SES_API/_sesame/health" >/dev/null 2>&1 && break
	sleep 0.1
done
"$WORK/bin/eventsink" -listen "$SINK" -endpoint "http://$SES_API" -key "$key" -secret "$secret" -region "$REGION" \
	>"$WORK/eventsink.log" 2>&1 &
SINK_PID=$!
for _ in $(seq 300); do grep -q '^ready' "$WORK/eventsink.log" && break; sleep 0.1; done
grep -q '^ready' "$WORK/eventsink.log" || die "eventsink: $(tail -3 "$WORK/eventsink.log")"
log "sesame $SESAME_PID, eventsink $SINK_PID, account $id"

load() { # load MSGS [smtpload flags] → the RESULT line
	local n=$1
	shift
	"$WORK/bin/smtpload" -addr "$SES_SMTP" -starttls -user "$key" -pass "$pass" -from "$FROM" -to "$TO" \
		-conns "$CONNS" -msgs "$n" -size "$SIZE" -duration "${RUN_LIMIT}s" -q "$@" | grep '^RESULT'
}
use() { curl -sf -X POST "http://$SINK/use?set=$1" >/dev/null; sleep 1.2; } # caches live 1 s
stats() { curl -sf "http://$SINK/stats"; }

# Wait for the spool to drain between runs: capture keeps up, but a run
# must not measure the one before.
settle() { sleep 2; }

# cpu PID: the CPU seconds (user + system) the process has used so far.
cpu() { awk -v t="$(getconf CLK_TCK)" '{ print ($14 + $15) / t }' "/proc/$1/stat" 2>/dev/null || echo 0; }
# helper: the pid of sesame's signing helper ("" when it signs inline).
helper() { pgrep -P "$SESAME_PID" -f _sns-helper | head -1; }
# cpus: "sesame helper eventsink" CPU seconds so far.
cpus() { local h; h=$(helper); echo "$(cpu "$SESAME_PID") $([ -n "$h" ] && cpu "$h" || echo 0) $(cpu "$SINK_PID")"; }
# cpu_delta "BEFORE" "AFTER": the CPU each used in between, as fields.
cpu_delta() { awk -v a="$1" -v b="$2" 'BEGIN { split(a, x); split(b, y)
	printf "cpu_sesame=%.2fs cpu_helper=%.2fs cpu_sink=%.2fs", y[1] - x[1], y[2] - x[2], y[3] - x[3] }'; }

# caught_up WANT START C0: waits until the subscriber has WANT events, then
# prints their latency, when the last arrived, and the CPU used since C0.
caught_up() {
	local want=$1 start=$2 c0=$3 n s deadline=$((SECONDS + CATCHUP_LIMIT))
	while [ "$SECONDS" -lt "$deadline" ]; do
		n=$(stats | json_num count)
		[ "${n:-0}" -ge "$want" ] && break
		sleep 0.2
	done
	s=$(stats)
	echo " events=$(json_num count <<<"$s")/$want lat_p50=$(json_num p50_ms <<<"$s")ms lat_p99=$(json_num p99_ms <<<"$s")ms lat_max=$(json_num max_ms <<<"$s")ms all_in=$(awk -v a="$start" -v b="$(date +%s.%N)" 'BEGIN{printf "%.1f", b-a}')s until_all_in:$(cpu_delta "$c0" "$(cpus)")"
}

run() { # run MODE [smtpload flags]
	local mode=$1 busy out start caught="" c0 c1
	shift
	use "bench-${mode%-*}"
	curl -sf -X POST "http://$SINK/reset" >/dev/null
	busy=$(wait_quiet)
	start=$(date +%s.%N)
	c0=$(cpus)
	out=$(load "$MSGS" "$@")
	c1=$(cpus)
	out="$out during_load:$(cpu_delta "$c0" "$c1")"
	[ "${mode%-*}" = all ] && caught=$(caught_up $((2 * $(field msgs <<<"$out"))) "$start" "$c0")
	echo "mode=$mode busy_before=$busy% $out$caught" | tee -a "$RESULTS"
	settle
}

for r in $(seq "$REPEAT"); do
	log "round $r of $REPEAT"
	run none
	run all
done
none=$(grep '^mode=none ' "$RESULTS" | field rate | median)
all=$(grep '^mode=all ' "$RESULTS" | field rate | median)
p99=$(grep '^mode=all ' "$RESULTS" | sed -n 's/.* lat_p99=\([0-9.]*\)ms.*/\1/p' | median)
ratio=$(awk -v a="$all" -v n="$none" 'BEGIN{printf "%.2f", a/n}')
echo "SUMMARY ingest_none=${none}/s ingest_all=${all}/s ratio=$ratio (target >= 0.85) event_latency_p99=${p99}ms (events wait while sesame is busy: [sns] defer_when_busy)" | tee -a "$RESULTS"

if [ "$KEEPUP_RATE" != 0 ]; then
	# The latency target holds "while the subscriber keeps up": the same
	# messages offered at a steady KEEPUP_RATE, which publishing keeps up with.
	log "keep-up: $MSGS messages offered at $KEEPUP_RATE/s, every event published"
	for r in $(seq "$REPEAT"); do run all-keepup -rate "$KEEPUP_RATE"; done
	p99=$(grep '^mode=all-keepup ' "$RESULTS" | sed -n 's/.* lat_p99=\([0-9.]*\)ms.*/\1/p' | median)
	rate=$(grep '^mode=all-keepup ' "$RESULTS" | field rate | median)
	echo "SUMMARY keepup_offered=${KEEPUP_RATE}/s ingest=${rate}/s event_latency_p99=${p99}ms (target < 1000)" | tee -a "$RESULTS"
fi

if [ "$BACKLOG_MSGS" -gt 0 ]; then
	log "backlog: the subscriber is down while $BACKLOG_MSGS messages are sent"
	use bench-all
	curl -sf -X POST "http://$SINK/down?on=1" >/dev/null
	out=$(RUN_LIMIT=900 load "$BACKLOG_MSGS")
	echo "mode=backlog-fill $out" | tee -a "$RESULTS"
	fill=$(field rate <<<"$out")
	busy=$(wait_quiet)
	out=$(load "$MSGS")
	echo "mode=with-backlog busy_before=$busy% $out" | tee -a "$RESULTS"
	rate=$(field rate <<<"$out")
	# The fill ran at every backlog from 0 to its end: were sending slowed
	# by the backlog, the run at the full backlog would be the slower.
	echo "SUMMARY backlog_events=$((2 * BACKLOG_MSGS)) ingest_with_backlog=${rate}/s vs ingest_while_filling=${fill}/s ratio=$(awk -v a="$rate" -v n="$fill" 'BEGIN{printf "%.2f", a/n}') (target: >= ~1, not slowed)" | tee -a "$RESULTS"
fi
log "results in $RESULTS"
