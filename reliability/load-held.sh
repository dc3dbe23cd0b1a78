#!/usr/bin/env bash
# Load held: 10,000 concurrent idle SMTP connections held, then released by
# sesame's idle timeout; SMTP and HTTP slow-loris bounded by deadlines.
# Runs as root (it raises the open-file limit). Prints one RESULT line per
# scenario (reliability/hold) and sesame's RSS / open files at the peak.
#
#   reliability/load-held.sh                       # all scenarios, ~5 min
#   IDLE_N=2000 SCENARIOS="idle" reliability/load-held.sh
#
# Knobs: IDLE_N=10000 IDLE_TIMEOUT=60s LORIS_N=50 LORIS_EVERY=5s MAX=5m SOURCES=250 (loopback
#        source addresses the idle connections come from: 40 each, under a per-IP cap)
#        SCENARIOS="idle loris-smtp loris-http-header loris-http-body"
#        WORK=/var/tmp/sesame-held SESAME_BIN=
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/lib.sh
IDLE_N=${IDLE_N:-10000} IDLE_TIMEOUT=${IDLE_TIMEOUT:-60s} LORIS_N=${LORIS_N:-50} LORIS_EVERY=${LORIS_EVERY:-5s}
MAX=${MAX:-5m} SOURCES=${SOURCES:-250} SCENARIOS=${SCENARIOS:-idle loris-smtp loris-http-header loris-http-body}
WORK=${WORK:-/var/tmp/sesame-held} REGION=us-east-1
SES_SMTP=127.0.0.1:6687 SES_TLS=127.0.0.1:6665 SES_API=127.0.0.1:6887

ulimit -n 1048576 2>/dev/null || ulimit -n "$(ulimit -Hn)"
log "open-file limit $(ulimit -n)"
rm -rf "$WORK" && mkdir -p "$WORK/bin"
if [ -n "${SESAME_BIN:-}" ]; then cp "$SESAME_BIN" "$WORK/bin/sesame"; else go build -o "$WORK/bin/sesame" ./cmd/sesame; fi
go build -o "$WORK/bin/hold" ./reliability/hold
B=$WORK/bin
{ sesame_base_config | sed "s/^max_connections = .*/max_connections = $((IDLE_N + 1000))/; s/^idle_timeout = .*/idle_timeout = \"$IDLE_TIMEOUT\"/"
  printf '[log]\nlevel = "warn"\n'; } >"$WORK/sesame.toml"
"$B/sesame" serve -c "$WORK/sesame.toml" >"$WORK/sesame.log" 2>&1 & SPID=$!
trap 'kill $SPID 2>/dev/null; wait 2>/dev/null' EXIT
for _ in $(seq 100); do curl -sf "http://$SES_API/_sesame/health" >/dev/null && break; sleep 0.2; done
grep -q "per-IP\|per_ip" "$WORK/sesame.log" || true

peak() { # the server's RSS and open files, sampled while a scenario runs
	local rss=0 fds=0 r f
	while kill -0 "$1" 2>/dev/null; do
		r=$(awk '/^VmRSS/{print $2}' /proc/$SPID/status); f=$(ls /proc/$SPID/fd | wc -l)
		[ "$r" -gt "$rss" ] && rss=$r; [ "$f" -gt "$fds" ] && fds=$f
		sleep 1
	done
	echo "server_peak_rss=$((rss / 1024))MB server_peak_fds=$fds"
}
for sc in $SCENARIOS; do
	case $sc in
	idle) args=(-mode idle -addr "$SES_SMTP" -n "$IDLE_N" -sources "$SOURCES" -max "$MAX") ;;
	loris-smtp) args=(-mode loris-smtp -addr "$SES_SMTP" -n "$LORIS_N" -every "$LORIS_EVERY" -max "$MAX") ;;
	loris-http-header|loris-http-body) args=(-mode "$sc" -addr "$SES_API" -n "$LORIS_N" -every "$LORIS_EVERY" -max "$MAX") ;;
	*) die "unknown scenario $sc" ;;
	esac
	log "scenario $sc: ${args[*]}"
	"$B/hold" "${args[@]}" >"$WORK/$sc.txt" 2>"$WORK/$sc.progress" & HP=$!
	p=$(peak $HP)
	wait $HP || true
	echo "$(grep RESULT "$WORK/$sc.txt") $p"
done
echo "config: $(grep -E '^(max_connections|idle_timeout|max_connection_age)' "$WORK/sesame.toml" | tr '\n' ' ')"
