#!/bin/bash
# cluster.sh — sesame's SMTP ingest on PostgreSQL against the embedded SQLite
# store, and three nodes sharing one PostgreSQL database against one node.
#
# The load is bench/smtpload's (2,000-byte messages, reused connections,
# STARTTLS + AUTH PLAIN), delivery.mode = capture as in smtp-ingest.sh. Runs
# are interleaved, each after the CPU has gone quiet:
#   sqlite   one node, [store] url = ""                       (the default)
#   pg       one node, [store] url = postgres://…/sesame_bench
#   pg3      three nodes on that database, each taking the one node's load
#            (CONNS connections, MSGS messages) at the same time: one
#            smtpload per node, the combined rate is all messages over the
#            slowest node's time. SPLIT=1 splits CONNS and MSGS over the
#            nodes instead (the same total load as one node).
# For every PostgreSQL run it also reads the database's committed
# transactions (pg_stat_database.xact_commit, which counts every statement
# outside a transaction as one) and prints them per accepted message: the
# database round trips the hot path costs, background work included.
#
# Usage (root, from anywhere):   bench/cluster.sh
# Environment (defaults):
#   KINDS="sqlite pg pg3"  CONNS=21  MSGS=21000  REPEAT=3  SIZE=2000  RUN_LIMIT=120  SPLIT=0
#   NODE_PROCS=$(nproc)    GOMAXPROCS of each node
#   PG_ADMIN=postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable
#   WAIT_QUIET=30 QUIET_PCT=15   WORK=/var/tmp/sesame-bench-cluster
# Loopback only; node i listens on 127.0.0.1:46i7 (STARTTLS), 44i5 (TLS), 47i7 (API).
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/.." && pwd)
# shellcheck source=lib.sh
. "$HERE/lib.sh"
KINDS=${KINDS:-"sqlite pg pg3"}
CONNS=${CONNS:-21}
MSGS=${MSGS:-21000}
REPEAT=${REPEAT:-3}
SIZE=${SIZE:-2000}
RUN_LIMIT=${RUN_LIMIT:-120}
WAIT_QUIET=${WAIT_QUIET:-30}
QUIET_PCT=${QUIET_PCT:-15}
WORK=${WORK:-/var/tmp/sesame-bench-cluster}
SPLIT=${SPLIT:-0}
PG_ADMIN=${PG_ADMIN:-postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable}
PG_DB=sesame_bench
PG_URL=${PG_ADMIN%%/postgres\?*}/$PG_DB?sslmode=disable
REGION=us-east-1
FROM=sender@example.com TO=recipient@example.net
RESULTS=$WORK/results.txt
PIDS=()

cleanup() {
	local rc=$? p
	for p in "${PIDS[@]}"; do stop_pid "$p"; done
	rm -rf "$WORK"/node*
	exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

psql_admin() { PGOPTIONS="-c client_min_messages=warning" psql "$PG_ADMIN" -Atqc "$1"; }
xacts() { psql_admin "SELECT xact_commit + xact_rollback FROM pg_stat_database WHERE datname = '$PG_DB'"; }

# node_config I URL: node I's config (its own data dir, spool and ports).
node_config() {
	local i=$1 url=$2
	(
		WORK=$WORK/node$i SES_SMTP=127.0.0.1:46${i}7 SES_TLS=127.0.0.1:44${i}5 SES_API=127.0.0.1:47${i}7
		sesame_base_config
	)
	cat <<-EOF
		[delivery]
		mode = "capture"
		[log]
		level = "warn"
		[cluster]
		node_name = "bench-$i"
	EOF
	[ -z "$url" ] || printf '[store]\nurl = "%s"\nsecret_key_file = "%s"\n' "$url" "$WORK/secret.key"
}

# start_nodes N URL: N nodes on one store (URL "" = each its own SQLite, so
# N must be 1 then), one account in production without limits.
start_nodes() {
	local n=$1 url=$2 i ses=$WORK/bin/sesame acct id
	rm -rf "$WORK"/node* "$WORK/secret.key"
	if [ -n "$url" ]; then
		psql_admin "DROP DATABASE IF EXISTS $PG_DB WITH (FORCE)"
		psql_admin "CREATE DATABASE $PG_DB"
	fi
	for ((i = 0; i < n; i++)); do
		mkdir -p "$WORK/node$i/data"
		node_config "$i" "$url" >"$WORK/node$i.toml"
	done
	acct=$("$ses" admin -c "$WORK/node0.toml" account create) || die "account create failed"
	id=$(jq -r .account_id <<<"$acct")
	SES_USER=$(jq -r .access_key_id <<<"$acct")
	SES_PASS=$(jq -r ".smtp_passwords[\"$REGION\"]" <<<"$acct")
	"$ses" admin -c "$WORK/node0.toml" account set --account "$id" --region "$REGION" \
		--production --max-send-rate 1000000 --max-24h-send -1 >/dev/null
	"$ses" admin -c "$WORK/node0.toml" identity verify --account "$id" --region "$REGION" example.com >/dev/null
	PIDS=()
	for ((i = 0; i < n; i++)); do
		GOMAXPROCS=${NODE_PROCS:-$(nproc)} "$ses" serve -c "$WORK/node$i.toml" >"$WORK/node$i.log" 2>&1 &
		PIDS+=($!)
	done
	for ((i = 0; i < n; i++)); do
		local up=
		for _ in $(seq 100); do
			ss -Hltn "sport = :46${i}7" | grep -q LISTEN && { up=1; break; }
			sleep 0.1
		done
		[ -n "$up" ] || die "node $i does not listen: $(tail -5 "$WORK/node$i.log")"
		"$WORK/bin/smtpload" -q -addr "127.0.0.1:46${i}7" -starttls -user "$SES_USER" -pass "$SES_PASS" \
			-from "$FROM" -to "$TO" -conns 1 -msgs 1 -max-errors 1 -duration 30s >/dev/null ||
			die "a first message to node $i failed"
	done
}

stop_nodes() {
	local p
	for p in "${PIDS[@]}"; do stop_pid "$p"; done
	PIDS=()
}

# run_kind KIND: one measured run, one line in $RESULTS.
run_kind() {
	local kind=$1 n=1 url="" busy x0 x1 c0 cpu t0 t1 i total=0 errs=0 outs=() rate per conns=$CONNS msgs=$MSGS
	case $kind in
	pg) url=$PG_URL ;;
	pg3) url=$PG_URL n=3 ;;
	esac
	if [ "$SPLIT" = 1 ]; then
		conns=$((CONNS / n)) msgs=$((MSGS / n))
	fi
	start_nodes "$n" "$url"
	busy=$(wait_quiet)
	[ -z "$url" ] || x0=$(xacts)
	c0=$(busy_ticks)
	t0=$(date +%s.%N)
	for ((i = 0; i < n; i++)); do
		"$WORK/bin/smtpload" -q -addr "127.0.0.1:46${i}7" -starttls -user "$SES_USER" -pass "$SES_PASS" \
			-from "$FROM" -to "$TO" -conns "$conns" -msgs "$msgs" -size "$SIZE" \
			-duration "${RUN_LIMIT}s" -max-errors 100 </dev/null >"$WORK/load$i.out" 2>&1 &
		outs+=($!)
	done
	for i in "${outs[@]}"; do wait "$i" || true; done
	t1=$(date +%s.%N)
	# CPU the whole machine spent per 1,000 accepted messages: servers, load
	# generators, PostgreSQL and the kernel together.
	cpu=$(awk -v t="$(($(busy_ticks) - c0))" -v hz="$(getconf CLK_TCK)" -v n="$((n * msgs))" 'BEGIN {printf "%.2f", t / hz / n * 1000}')
	for ((i = 0; i < n; i++)); do
		total=$((total + $(tail -1 "$WORK/load$i.out" | field msgs)))
		errs=$((errs + $(tail -1 "$WORK/load$i.out" | field errors)))
	done
	rate=$(awk -v n="$total" -v a="$t0" -v b="$t1" 'BEGIN {printf "%.0f", n / (b - a)}')
	per=-
	if [ -n "$url" ]; then
		sleep 1.5 # PostgreSQL publishes a backend's statistics at most once a second
		x1=$(xacts)
		per=$(awk -v d="$((x1 - x0))" -v n="$total" 'BEGIN {printf "%.3f", (n > 0 ? d / n : 0)}')
	fi
	stop_nodes
	echo "kind=$kind nodes=$n busy_before=$busy% msgs=$total errors=$errs rate=$rate/s xacts_per_msg=$per cpu_s_per_1k=$cpu" | tee -a "$RESULTS"
}

median() { sort -g | awk '{v[NR] = $1} END {if (NR == 0) {print "n/a"; exit}
	printf "%.0f\n", (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2}'; }

[ "$(id -u)" = 0 ] || die "run as root"
command -v jq >/dev/null || die "jq is needed (apt-get install jq)"
mkdir -p "$WORK/bin"
: >"$RESULTS"
log "building sesame and smtpload"
(cd "$ROOT" && go build -o "$WORK/bin/sesame" ./cmd/sesame && go build -o "$WORK/bin/smtpload" ./bench/smtpload)
for ((r = 1; r <= REPEAT; r++)); do
	for k in $KINDS; do run_kind "$k"; done
done

echo
echo "==== medians of $REPEAT runs: $MSGS ${SIZE}-byte messages over $CONNS connections$([ "$SPLIT" = 1 ] && echo ' split over the nodes' || echo ' per node'), STARTTLS + AUTH PLAIN, capture mode ===="
echo "# $(date -Is) $(nproc) vCPU, sesame $(git -C "$ROOT" log -1 --format=%h 2>/dev/null || echo '?'), $(psql_admin 'SHOW server_version')"
declare -A med
for k in $KINDS; do
	sel=$(grep "^kind=$k " "$RESULTS")
	med[$k]=$(field rate <<<"$sel" | median)
	printf '%-7s %7s msg/s   cpu_s/1k %s   xacts/msg %s   runs: %s\n' "$k" "${med[$k]}" \
		"$(field cpu_s_per_1k <<<"$sel" | tr '\n' ' ')" "$(field xacts_per_msg <<<"$sel" | tr '\n' ' ')" \
		"$(field rate <<<"$sel" | tr '\n' ' ')"
done
if [ -n "${med[pg]:-}" ] && [ -n "${med[sqlite]:-}" ]; then
	awk -v a="${med[pg]}" -v b="${med[sqlite]}" 'BEGIN {r = a / b; printf "PostgreSQL / SQLite, one node: %.2f  (target >= 0.90: %s)\n", r, (r >= 0.9 ? "met" : "MISSED")}'
fi
if [ -n "${med[pg3]:-}" ] && [ -n "${med[pg]:-}" ]; then
	awk -v a="${med[pg3]}" -v b="${med[pg]}" 'BEGIN {r = a / b; printf "three nodes / one node (PostgreSQL): %.2f  (target >= 1.00: %s)\n", r, (r >= 1 ? "met" : "MISSED")}'
fi
