#!/bin/bash
# api-sendemail.sh — sesame's SESv2 SendEmail (Simple content, SigV4-signed,
# durable) side by side with sesame's own SMTP path and the npm package
# aws-ses-v2-local (a popular local SES mock that keeps mail in memory only).
#
# The same load (bench/apiload: one SendEmail per request over keep-alive
# connections, each request signed afresh with aws-sdk-go-v2's v4 signer) goes to
#   api     sesame's API       127.0.0.1:4787  delivery.mode = capture, temp data dir
#   smtp    sesame's SMTP      127.0.0.1:4587  the same server, bench/smtpload (STARTTLS + AUTH PLAIN)
#   peer    aws-ses-v2-local   127.0.0.1:4005  npm-installed into $WORK/peer
# at each load in LOADS, after the CPU has gone quiet. It prints one RESULT
# line per run and a table with the sesame/peer ratio and the issue's targets
# (>= 3,000 durable SendEmail/s at 64 clients, >= 2x the peer).
#
# Usage (from anywhere):   bench/api-sendemail.sh
# Environment (defaults):
#   SERVERS="api smtp peer"  LOADS="1 16 64"
#   MSGS_1=2000 MSGS_N=20000   requests per run at 1 client / at more
#   SIZE=700                   SMTP message size, about the API's rendered message
#   RUN_LIMIT=60               seconds a single run may take
#   WAIT_QUIET=20 QUIET_PCT=15 wait up to WAIT_QUIET s for the CPU to be < QUIET_PCT % busy
#   WORK=/var/tmp/sesame-apibench
#   PEER_VERSION=2.10.2        aws-ses-v2-local version
# Loopback only; ports 4587/4465/4787 (sesame) and 4005 (peer): never the
# test suite's or bench/smtp-ingest.sh's.
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/.." && pwd)
# shellcheck source=lib.sh
. "$HERE/lib.sh"
SERVERS=${SERVERS:-"api smtp peer"}
LOADS=${LOADS:-"1 16 64"}
MSGS_1=${MSGS_1:-2000}
MSGS_N=${MSGS_N:-20000}
SIZE=${SIZE:-700}
RUN_LIMIT=${RUN_LIMIT:-60}
WAIT_QUIET=${WAIT_QUIET:-20}
QUIET_PCT=${QUIET_PCT:-15}
WORK=${WORK:-/var/tmp/sesame-apibench}
PEER_VERSION=${PEER_VERSION:-2.10.2}
SES_SMTP=127.0.0.1:4587 SES_TLS=127.0.0.1:4465 SES_API=127.0.0.1:4787 PEER=127.0.0.1:4005
FROM=sender@example.com TO=success@simulator.amazonses.com REGION=us-east-1

SESAME_PID='' PEER_PID=''
RESULTS=$WORK/results.txt

has() { case " $SERVERS " in *" $1 "*) return 0 ;; *) return 1 ;; esac; }
uses_sesame() { has api || has smtp; }

cleanup() {
	local rc=$?
	local pid
	for pid in "$SESAME_PID" "$PEER_PID"; do
		if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
			kill "$pid" 2>/dev/null || true
			wait "$pid" 2>/dev/null || true
		fi
	done
	rm -rf "$WORK/data"
	exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

json_get() { /usr/bin/python3 -c 'import json,sys; v=json.load(sys.stdin)
for k in sys.argv[1:]: v=v[k]
print(v)' "$@"; }



listening() { ss -Hltn "sport = :${1##*:}" | grep -q LISTEN; }

wait_listen() { # ADDR PID LOGFILE
	local i
	for i in $(seq 200); do
		listening "$1" && return 0
		kill -0 "$2" 2>/dev/null || die "server for $1 exited: $(tail -5 "$3")"
		sleep 0.1
	done
	die "nothing listens on $1"
}

build() {
	log "building apiload, smtpload and sesame"
	mkdir -p "$WORK/bin"
	(cd "$ROOT" && go build -o "$WORK/bin/apiload" ./bench/apiload &&
		go build -o "$WORK/bin/smtpload" ./bench/smtpload &&
		go build -o "$WORK/bin/sesame" ./cmd/sesame)
}

start_sesame() {
	local cfg=$WORK/sesame.toml ses=$WORK/bin/sesame acct id
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
	acct=$("$ses" admin -c "$cfg" account create) || die "sesame admin account create failed"
	id=$(json_get account_id <<<"$acct")
	KEY=$(json_get access_key_id <<<"$acct")
	SECRET=$(json_get secret_access_key <<<"$acct")
	SMTP_PASS=$(json_get smtp_passwords "$REGION" <<<"$acct")
	# Production mode and no quota: the bench measures the API, not throttling.
	"$ses" admin -c "$cfg" account set --account "$id" --region "$REGION" \
		--production --max-send-rate 1000000 --max-24h-send -1 >/dev/null
	"$ses" admin -c "$cfg" identity verify --account "$id" --region "$REGION" example.com >/dev/null
	local a
	for a in "$SES_API" "$SES_SMTP" "$SES_TLS"; do
		! listening "$a" || die "$a is in use by another program"
	done
	"$ses" serve -c "$cfg" >"$WORK/sesame.log" 2>&1 &
	SESAME_PID=$!
	wait_listen "$SES_API" "$SESAME_PID" "$WORK/sesame.log"
	wait_listen "$SES_SMTP" "$SESAME_PID" "$WORK/sesame.log"
	sleep 0.2
	kill -0 "$SESAME_PID" 2>/dev/null || die "sesame exited: $(tail -5 "$WORK/sesame.log")"
	log "sesame serving API on $SES_API, SMTP on $SES_SMTP (pid $SESAME_PID)"
}

start_peer() {
	local dir=$WORK/peer
	if [ ! -x "$dir/node_modules/.bin/aws-ses-v2-local" ] ||
		! grep -q "\"version\": \"$PEER_VERSION\"" "$dir/node_modules/aws-ses-v2-local/package.json"; then
		log "installing aws-ses-v2-local@$PEER_VERSION with npm into $dir"
		mkdir -p "$dir"
		(cd "$dir" && npm install --no-audit --no-fund --loglevel=error --prefix . "aws-ses-v2-local@$PEER_VERSION" >/dev/null)
	fi
	! listening "$PEER" || die "$PEER is in use by another program"
	"$dir/node_modules/.bin/aws-ses-v2-local" --host 127.0.0.1 --port "${PEER##*:}" >"$WORK/peer.log" 2>&1 &
	PEER_PID=$!
	wait_listen "$PEER" "$PEER_PID" "$WORK/peer.log"
	log "aws-ses-v2-local $PEER_VERSION on $PEER (pid $PEER_PID, node $(node --version))"
}

# run_one SERVER CLIENTS MSGS: one load run, one line appended to $RESULTS.
run_one() {
	local server=$1 conns=$2 msgs=$3 busy out
	busy=$(wait_quiet)
	case $server in
	api | peer)
		local endpoint=http://$SES_API
		[ "$server" = peer ] && endpoint=http://$PEER
		out=$("$WORK/bin/apiload" -q -endpoint "$endpoint" -region "$REGION" -key "$KEY" -secret "$SECRET" \
			-from "$FROM" -to "$TO" -conns "$conns" -msgs "$msgs" -duration "${RUN_LIMIT}s" </dev/null | tail -1) || true
		;;
	smtp)
		out=$("$WORK/bin/smtpload" -q -addr "$SES_SMTP" -starttls -user "$KEY" -pass "$SMTP_PASS" \
			-from "$FROM" -to "$TO" -conns "$conns" -msgs "$msgs" -size "$SIZE" -duration "${RUN_LIMIT}s" </dev/null | tail -1) || true
		;;
	esac
	[ -n "$out" ] || out="RESULT msgs=0 rate=0/s p50=0ms p99=0ms errors=failed"
	echo "load=$conns server=$server busy_before=$busy% $out" | tee -a "$RESULTS"
}


report() {
	local c s line api64='' peer64=''
	echo
	echo "==== SendEmail (Simple) requests/s by concurrent clients; SMTP: ${SIZE}-byte messages, STARTTLS + AUTH ===="
	echo "# $(date -Is) $(nproc) vCPU $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)," \
		"sesame $(git -C "$ROOT" log -1 --format=%h 2>/dev/null || echo '?'), $(go version | cut -d' ' -f3)," \
		"aws-ses-v2-local $PEER_VERSION on node $(node --version 2>/dev/null || echo n/a)"
	printf '%-6s %-6s %9s %9s %9s %7s\n' clients server req/s p50_ms p99_ms errors
	for c in $LOADS; do
		for s in $SERVERS; do
			line=$(grep "^load=$c server=$s " "$RESULTS" | tail -1 || true)
			[ -n "$line" ] || continue
			printf '%-6s %-6s %9s %9s %9s %7s\n' "$c" "$s" "$(field rate <<<"$line")" "$(field p50 <<<"$line")" \
				"$(field p99 <<<"$line")" "$(field errors <<<"$line")"
			[ "$c" = 64 ] && [ "$s" = api ] && api64=$(field rate <<<"$line")
			[ "$c" = 64 ] && [ "$s" = peer ] && peer64=$(field rate <<<"$line")
		done
		local a p
		a=$(grep "^load=$c server=api " "$RESULTS" | tail -1 | field rate || true)
		p=$(grep "^load=$c server=peer " "$RESULTS" | tail -1 | field rate || true)
		if [ -n "$a" ] && [ -n "$p" ]; then
			awk -v a="$a" -v p="$p" -v c="$c" 'BEGIN {printf "%-6s ratio sesame api/peer = %.1fx\n", c, (p > 0 ? a / p : 0)}'
		fi
	done
	echo "targets:"
	[ -n "$api64" ] && awk -v a="$api64" 'BEGIN {printf "  >= 3000 durable SendEmail/s at 64 clients: %.0f/s  %s\n", a, (a >= 3000 ? "met" : "MISSED")}'
	if [ -n "$api64" ] && [ -n "$peer64" ]; then
		awk -v a="$api64" -v p="$peer64" 'BEGIN {r = (p > 0 ? a / p : 0); printf "  >= 2x aws-ses-v2-local at 64 clients: %.1fx  %s\n", r, (r >= 2 ? "met" : "MISSED")}'
	fi
	return 0
}

mkdir -p "$WORK"
: >"$RESULTS"
build
KEY=AKIDBENCHPEER SECRET=bench-peer-secret SMTP_PASS=''
uses_sesame && start_sesame
has peer && start_peer
# One request end to end to each server before measuring: proves credentials and identity.
for s in $SERVERS; do
	case $s in
	api) "$WORK/bin/apiload" -endpoint "http://$SES_API" -key "$KEY" -secret "$SECRET" -conns 1 -msgs 1 -max-errors 1 >/dev/null ||
		die "a first SendEmail to sesame failed" ;;
	peer) "$WORK/bin/apiload" -endpoint "http://$PEER" -key "$KEY" -secret "$SECRET" -conns 1 -msgs 1 -max-errors 1 >/dev/null ||
		die "a first SendEmail to aws-ses-v2-local failed" ;;
	esac
done
log "runs: clients '$LOADS', servers '$SERVERS', $MSGS_1 requests at 1 client, $MSGS_N otherwise"
for c in $LOADS; do
	n=$MSGS_N
	[ "$c" = 1 ] && n=$MSGS_1
	for s in $SERVERS; do
		run_one "$s" "$c" "$n"
	done
done
report | tee "$WORK/report.txt"
log "per-run lines: $RESULTS; table: $WORK/report.txt; logs: $WORK/sesame.log $WORK/peer.log"
