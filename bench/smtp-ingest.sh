#!/bin/bash
# smtp-ingest.sh — sesame's durable SMTP ingest side by side with Debian's Postfix.
#
# The same load (bench/smtpload: 2,000-byte messages, reused connections,
# STARTTLS + AUTH PLAIN) goes to
#   sesame   127.0.0.1:3587  a bench config in a temp data dir, delivery.mode = capture
#   postfix  127.0.0.1:2588  stock Debian Postfix relaying to smtp-sink (bench/postfix-setup.sh)
#   sink     127.0.0.1:2526  smtp-sink alone, plain: the load generator's ceiling (opt-in)
# interleaved (sesame, postfix, sesame, ...) REPEAT times per load, each run
# after the CPU has gone quiet, sampling each server's RSS during the run;
# then a soak of sesame alone to see whether its memory stays flat. It prints
# one line per run, a table of medians with the sesame/Postfix ratio, and the
# issue's targets (>= 4x Postfix, p99 < 50 ms at 20 connections, flat memory).
#
# Usage (root, from anywhere):   bench/smtp-ingest.sh
# Environment (defaults):
#   SERVERS="sesame postfix"   which servers, in this order within a round; add "sink"
#                              for the smtp-sink ceiling
#   LOADS="1 20 100"           connection counts
#   REPEAT=3                   rounds per load
#   MSGS_1=5000 MSGS_N=20000   messages per run for 1 connection / for more
#   SIZE=2000                  message size in bytes, headers included
#   RUN_LIMIT=120              seconds a single run may take (smtpload -duration)
#   SOAK_MSGS=200000           then this many more to sesame alone, watching its RSS (0 = skip)
#   SOAK_CONNS=20
#   WAIT_QUIET=30 QUIET_PCT=15 wait up to WAIT_QUIET s for the CPU to be < QUIET_PCT % busy
#   WORK=/var/tmp/sesame-bench build output, data dir, logs (same disk as /var/spool)
#   SESAME_BIN=                use this sesame binary instead of building ./cmd/sesame
#   KEEP_POSTFIX=1             leave Postfix and smtp-sink running at the end
# Loopback only; ports 3587/3465/3787 (sesame), 2525/2526/2588 (Postfix, smtp-sink).
# It never binds sesame's default ports (2587, 2465, 8787), used by the test suite.
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/.." && pwd)
# shellcheck source=lib.sh
. "$HERE/lib.sh"
SERVERS=${SERVERS:-"sesame postfix"}
LOADS=${LOADS:-"1 20 100"}
REPEAT=${REPEAT:-3}
MSGS_1=${MSGS_1:-5000}
MSGS_N=${MSGS_N:-20000}
SIZE=${SIZE:-2000}
RUN_LIMIT=${RUN_LIMIT:-120}
SOAK_MSGS=${SOAK_MSGS:-200000}
SOAK_CONNS=${SOAK_CONNS:-20}
WAIT_QUIET=${WAIT_QUIET:-30}
QUIET_PCT=${QUIET_PCT:-15}
WORK=${WORK:-/var/tmp/sesame-bench}
FROM=sender@example.com TO=recipient@example.net
SES_SMTP=127.0.0.1:3587 SES_TLS=127.0.0.1:3465 SES_API=127.0.0.1:3787
PF_SUB=127.0.0.1:2588 SINK=127.0.0.1:2526
PF_USER=bench@bench.local PF_PASS=benchpass
REGION=us-east-1

SESAME_PID='' SAMPLER_PID='' PF_STARTED=''
RESULTS=$WORK/results.txt

has() { case " $SERVERS " in *" $1 "*) return 0 ;; *) return 1 ;; esac; }

cleanup() {
	local rc=$?
	if [ -n "$SAMPLER_PID" ]; then kill "$SAMPLER_PID" 2>/dev/null || true; fi
	if [ -n "$SESAME_PID" ] && kill -0 "$SESAME_PID" 2>/dev/null; then
		log "stopping sesame (pid $SESAME_PID)"
		kill "$SESAME_PID" 2>/dev/null || true
		wait "$SESAME_PID" 2>/dev/null || true
	fi
	if [ -n "$PF_STARTED" ] && [ -z "${KEEP_POSTFIX:-}" ]; then
		"$HERE/postfix-setup.sh" stop || true
	fi
	# Captured mail can be ~100 MB after a full run; the logs stay.
	rm -rf "$WORK/data"
	exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# --- small helpers -----------------------------------------------------------

# json_get KEY [SUBKEY] reads a string from the JSON on stdin (jq when present).
json_get() {
	if command -v jq >/dev/null; then
		if [ $# -eq 2 ]; then jq -r ".$1[\"$2\"]"; else jq -r ".$1"; fi
	else
		tr -d '\n' | sed -n "s/.*\"${2:-$1}\" *: *\"\([^\"]*\)\".*/\1/p"
	fi
}



# Memory in kB, as "RSS PSS": sesame's one process, or the sum over Postfix's
# processes (master and everything running as the postfix user, except our
# smtp-sink). A sum of RSS counts the shared libraries once per process and
# so overstates a many-process server; PSS (proportional set size) shares
# them out and is the fairer total, so both are kept.
mem_kb() {
	local pids p
	case $1 in
	sesame) pids=$SESAME_PID ;;
	postfix)
		local sink master
		sink=$(cat /tmp/sesame-bench-postfix/smtp-sink.pid 2>/dev/null || echo none)
		master=$(head -1 /var/spool/postfix/pid/master.pid 2>/dev/null | tr -d ' ' || true)
		pids="$master $(pgrep -u postfix | grep -vx "$sink" | tr '\n' ' ' || true)"
		;;
	sink) pids=$(cat /tmp/sesame-bench-postfix/smtp-sink.pid 2>/dev/null || true) ;;
	esac
	local files=()
	for p in $pids; do files+=("/proc/$p/smaps_rollup"); done
	[ ${#files[@]} -gt 0 ] || { echo "0 0"; return 0; }
	# Processes come and go between listing and reading (Postfix's smtpd,
	# cleanup): one cat skips the vanished ones, and its failure status must
	# not end the sample under pipefail.
	{ cat "${files[@]}" 2>/dev/null || true; } |
		awk '/^Rss:/ {r += $2} /^Pss:/ {p += $2} END {print r + 0, p + 0}'
}

# Sample a server's RSS twice a second into a file until killed.
sampler_start() {
	local server=$1 out=$2
	: >"$out"
	# A failed sample is skipped, never the end of the sampler (set -e).
	(while :; do mem_kb "$server" >>"$out" || true; sleep 0.5; done) &
	SAMPLER_PID=$!
}
sampler_stop() {
	kill "$SAMPLER_PID" 2>/dev/null || true
	wait "$SAMPLER_PID" 2>/dev/null || true
	SAMPLER_PID=
}

median() {
	sort -g | awk '{v[NR] = $1} END {
		if (NR == 0) { print "n/a"; exit }
		m = (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
		printf (m >= 100 ? "%.0f\n" : "%.2f\n"), m }'
}

postfix_queue_empty() {
	local deadline=$((SECONDS + 180))
	postqueue -f >/dev/null 2>&1 || true
	until postqueue -p 2>/dev/null | grep -q 'Mail queue is empty'; do
		[ "$SECONDS" -ge "$deadline" ] && { log "WARNING: Postfix queue still not empty"; return; }
		sleep 0.5
	done
}

# --- setup -------------------------------------------------------------------

build() {
	mkdir -p "$WORK/bin"
	if has sesame; then log "building smtpload and sesame"; else log "building smtpload"; fi
	(cd "$ROOT" && go build -o "$WORK/bin/smtpload" ./bench/smtpload)
	if has sesame; then
		if [ -n "${SESAME_BIN:-}" ]; then
			cp "$SESAME_BIN" "$WORK/bin/sesame"
		else
			(cd "$ROOT" && go build -o "$WORK/bin/sesame" ./cmd/sesame)
		fi
	fi
}

start_sesame() {
	local cfg=$WORK/sesame.toml
	rm -rf "$WORK/data"
	mkdir -p "$WORK/data"
	{
		sesame_base_config
		cat <<-EOF
		[delivery]
		mode = "capture"
		[log]
		level = "warn"
	EOF
	} >"$cfg"
	local ses="$WORK/bin/sesame" acct id
	acct=$("$ses" admin -c "$cfg" account create) || die "sesame admin account create failed"
	id=$(json_get account_id <<<"$acct")
	SES_USER=$(json_get access_key_id <<<"$acct")
	SES_PASS=$(json_get smtp_passwords "$REGION" <<<"$acct")
	if [ -z "$id" ] || [ -z "$SES_USER" ] || [ -z "$SES_PASS" ] || [ "$SES_PASS" = null ]; then
		die "unexpected output of 'sesame admin account create': $acct"
	fi
	# Production mode and no quota: the bench measures ingest, not throttling.
	"$ses" admin -c "$cfg" account set --account "$id" --region "$REGION" \
		--production --max-send-rate 1000000 --max-24h-send -1 >/dev/null
	"$ses" admin -c "$cfg" identity verify --account "$id" --region "$REGION" example.com >/dev/null
	"$ses" serve -c "$cfg" >"$WORK/sesame.log" 2>&1 &
	SESAME_PID=$!
	local i
	for i in $(seq 100); do
		ss -Hltn "sport = :${SES_SMTP##*:}" | grep -q LISTEN && break
		kill -0 "$SESAME_PID" 2>/dev/null || die "sesame exited: $(tail -5 "$WORK/sesame.log")"
		sleep 0.1
	done
	ss -Hltn "sport = :${SES_SMTP##*:}" | grep -q LISTEN || die "sesame does not listen on $SES_SMTP"
	log "sesame serving on $SES_SMTP (pid $SESAME_PID, account $id)"
	# One message end to end before measuring: proves credentials and identity.
	"$WORK/bin/smtpload" -addr "$SES_SMTP" -starttls -user "$SES_USER" -pass "$SES_PASS" \
		-from "$FROM" -to "$TO" -conns 1 -msgs 1 -size "$SIZE" -max-errors 1 -duration 30s >/dev/null ||
		die "a first message to sesame failed (see above)"
}

# --- one measured run --------------------------------------------------------

# run_one SERVER CONNS MSGS: one smtpload run, one line appended to $RESULTS.
run_one() {
	local server=$1 conns=$2 msgs=$3 args busy out mem
	local t0 c0 cpu1k e2e=
	case $server in
	sesame) args=(-addr "$SES_SMTP" -starttls -user "$SES_USER" -pass "$SES_PASS") ;;
	postfix) args=(-addr "$PF_SUB" -starttls -user "$PF_USER" -pass "$PF_PASS") ;;
	sink) args=(-addr "$SINK") ;;
	esac
	busy=$(wait_quiet)
	sampler_start "$server" "$WORK/rss.$server"
	t0=$(date +%s.%N)
	c0=$(busy_ticks)
	out=$("$WORK/bin/smtpload" -q "${args[@]}" -from "$FROM" -to "$TO" -conns "$conns" -msgs "$msgs" \
		-size "$SIZE" -duration "${RUN_LIMIT}s" -max-errors 100 </dev/null | tail -1) || true
	# CPU the whole machine spent per 1,000 accepted messages while the load
	# ran: server, load generator and kernel together (and any foreign load,
	# which busy_before= hints at). It explains the rates: both servers run
	# out of the same two cores.
	cpu1k=$(awk -v t="$(($(busy_ticks) - c0))" -v hz="$(getconf CLK_TCK)" -v n="$(field msgs <<<"$out")" \
		'BEGIN {printf "%.2f", (n > 0 ? t / hz / n * 1000 : 0)}')
	if [ "$server" = postfix ]; then
		# Postfix acknowledges before it has relayed; its backlog must not
		# run into the next (sesame) run, and the time to drain it gives
		# Postfix's end-to-end rate (accepted messages / time until the
		# queue is empty).
		postfix_queue_empty
		e2e=$(awk -v n="$(field msgs <<<"$out")" -v a="$t0" -v b="$(date +%s.%N)" \
			'BEGIN {printf " e2e=%.1f/s", n / (b - a)}')
	fi
	sampler_stop
	# Minimum and maximum over the run's samples, in MB.
	mem=$(awk 'NR == 1 {rmin = rmax = $1; pmax = $2}
		$1 < rmin {rmin = $1} $1 > rmax {rmax = $1} $2 > pmax {pmax = $2}
		END {printf "rss_min=%dMB rss_max=%dMB pss_max=%dMB", rmin / 1024, rmax / 1024, pmax / 1024}' "$WORK/rss.$server")
	[ -n "$out" ] || out="RESULT msgs=0 rate=0/s p50=0ms p99=0ms errors=failed"
	echo "load=$conns server=$server busy_before=$busy% cpu_s_per_1k=$cpu1k $mem $out$e2e" | tee -a "$RESULTS"
}

# --- soak: is sesame's memory flat? -----------------------------------------

# After the rounds, sesame alone takes SOAK_MSGS more messages at SOAK_CONNS
# connections while its RSS is sampled twice a second. Flat means the last
# quarter's peak is within 20 % of the first quarter's: a leak per message
# (or per captured message, which it keeps) would show as steady growth.
soak() {
	local out busy
	busy=$(wait_quiet)
	sampler_start sesame "$WORK/rss.soak"
	out=$("$WORK/bin/smtpload" -q -addr "$SES_SMTP" -starttls -user "$SES_USER" -pass "$SES_PASS" \
		-from "$FROM" -to "$TO" -conns "$SOAK_CONNS" -msgs "$SOAK_MSGS" -size "$SIZE" \
		-duration "${RUN_LIMIT}s" -max-errors 100 </dev/null | tail -1) || true
	sampler_stop
	awk -v busy="$busy" -v res="$out" '{rss[NR] = $1 / 1024}
		END {
			q = int(NR / 4); if (q < 1) q = 1
			for (i = 1; i <= q; i++) if (rss[i] > first) first = rss[i]
			for (i = NR - q + 1; i <= NR; i++) if (rss[i] > last) last = rss[i]
			printf "SOAK busy_before=%s%% samples=%d rss_start=%dMB rss_first_quarter_max=%dMB rss_last_quarter_max=%dMB rss_end=%dMB flat=%s %s\n",
				busy, NR, rss[1], first, last, rss[NR], (last <= 1.2 * first ? "yes" : "no"), res
		}' "$WORK/rss.soak" | tee "$WORK/soak.txt"
}

# --- report ------------------------------------------------------------------

report() {
	local c s sel rates p50 p99 rss pss e2e cpu p99_20=
	local -A ratio=()
	echo
	echo "==== medians of $REPEAT runs: ${SIZE}-byte messages, reused connections, STARTTLS + AUTH PLAIN ===="
	echo "# $(date -Is) $(nproc) vCPU $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)," \
		"kernel $(uname -r), postfix $(postconf -h mail_version 2>/dev/null || echo n/a)," \
		"sesame $(git -C "$ROOT" log -1 --format=%h 2>/dev/null || echo '?'), $(go version | cut -d' ' -f3)"
	printf '%-6s %-8s %9s %9s %9s %9s %13s %7s %8s %7s   %s\n' load server msg/s e2e/s p50_ms p99_ms rss_MB pss_MB cpu_s/1k errors "runs (msg/s)"
	for c in $LOADS; do
		declare -A med=()
		for s in $SERVERS; do
			sel=$(grep "^load=$c server=$s " "$RESULTS" || true)
			[ -n "$sel" ] || continue
			rates=$(field rate <<<"$sel")
			med[$s]=$(median <<<"$rates")
			p50=$(field p50 <<<"$sel" | median)
			p99=$(field p99 <<<"$sel" | median)
			# RSS as min-max over all runs of this load; PSS as the max.
			rss="$(field rss_min <<<"$sel" | sed 's/MB//' | sort -n | head -1)-$(field rss_max <<<"$sel" | sed 's/MB//' | sort -n | tail -1)"
			pss=$(field pss_max <<<"$sel" | sed 's/MB//' | sort -n | tail -1)
			e2e=$(field e2e <<<"$sel" | median)
			[ "$s" = postfix ] || e2e=-
			cpu=$(field cpu_s_per_1k <<<"$sel" | median)
			printf '%-6s %-8s %9s %9s %9s %9s %13s %7s %8s %7s   %s\n' "$c" "$s" "${med[$s]}" "$e2e" "$p50" "$p99" "$rss" "$pss" "$cpu" \
				"$(field errors <<<"$sel" | awk '{s += $1} END {print s + 0}')" "$(tr '\n' ' ' <<<"$rates")"
		done
		if [ -n "${med[sesame]:-}" ] && [ -n "${med[postfix]:-}" ]; then
			ratio[$c]=$(awk -v a="${med[sesame]}" -v b="${med[postfix]}" 'BEGIN {printf "%.1f", (b > 0 ? a / b : 0)}')
			printf '%-6s ratio of median msg/s sesame/postfix = %sx\n' "$c" "${ratio[$c]}"
		fi
		[ "$c" = 20 ] && has sesame && p99_20=$(grep "^load=20 server=sesame " "$RESULTS" | field p99 | median)
		unset med
	done
	has sesame || return 0
	echo "sesame RSS (max during run) by run: $(grep ' server=sesame ' "$RESULTS" | field rss_max | tr '\n' ' ')"
	[ -s "$WORK/soak.txt" ] && echo "$(cut -d' ' -f1-8 "$WORK/soak.txt") msgs=$(field msgs <"$WORK/soak.txt") rate=$(field rate <"$WORK/soak.txt")/s"
	# The issue's targets, met or not, so nobody has to work it out by hand.
	echo "targets:"
	for c in "${!ratio[@]}"; do
		awk -v r="${ratio[$c]}" -v c="$c" 'BEGIN {printf "  durable ingest >= 4x Postfix at %3s conns: %5.1fx  %s\n", c, r, (r >= 4 ? "met" : "MISSED")}'
	done | sort -k7n
	[ -n "$p99_20" ] && awk -v p="$p99_20" 'BEGIN {printf "  p99 < 50 ms at 20 conns: %s ms  %s\n", p, (p < 50 ? "met" : "MISSED")}'
	if [ -s "$WORK/soak.txt" ]; then
		if grep -q ' flat=yes ' "$WORK/soak.txt"; then
			echo "  memory flat over the soak: met"
		else
			echo "  memory flat over the soak: MISSED"
		fi
	fi
}

# --- main --------------------------------------------------------------------

[ "$(id -u)" = 0 ] || ! has postfix || die "run as root (Postfix needs it)"
mkdir -p "$WORK"
: >"$RESULTS"
build
if has postfix || has sink; then
	"$HERE/postfix-setup.sh" start
	PF_STARTED=1
	postfix_queue_empty # leftovers of an interrupted run
fi
has sesame && start_sesame
log "runs: loads '$LOADS', $REPEAT rounds of '$SERVERS', $MSGS_1 msgs at 1 conn, $MSGS_N otherwise"
for c in $LOADS; do
	n=$MSGS_N
	[ "$c" = 1 ] && n=$MSGS_1
	for _ in $(seq "$REPEAT"); do
		for s in $SERVERS; do
			run_one "$s" "$c" "$n"
		done
	done
done
: >"$WORK/soak.txt"
if has sesame && [ "$SOAK_MSGS" -gt 0 ]; then
	log "soak: $SOAK_MSGS messages to sesame at $SOAK_CONNS connections"
	soak
fi
report | tee "$WORK/report.txt"
log "per-run lines: $RESULTS; table: $WORK/report.txt; sesame log: $WORK/sesame.log"
