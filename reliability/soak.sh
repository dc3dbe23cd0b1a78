#!/usr/bin/env bash
# Soak: sesame in mx mode (no DKIM) delivering to a local sink while smtpload
# offers RATE messages/s (default 70 % of the 4,646 msg/s end-to-end rate in
# bench/README.md) for DURATION; RSS, goroutines (go_goroutines from
# /metrics) and open files are sampled every SAMPLE seconds into
# $WORK/samples.csv and drawn into $OUT (SVG). Root not needed.
#
#   reliability/soak.sh                     # 30 minutes at 3,250 msg/s
#   DURATION=3m reliability/soak.sh         # the short form
#
# Knobs: DURATION=30m RATE=3250 CONNS=20 SIZE=2000 SAMPLE=10 WORK=/var/tmp/sesame-soak
#        OUT=docs/reliability/soak.svg SESAME_BIN= (a prebuilt binary)
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/lib.sh
DURATION=${DURATION:-30m} RATE=${RATE:-3250} CONNS=${CONNS:-20} SIZE=${SIZE:-2000} SAMPLE=${SAMPLE:-10}
WORK=${WORK:-/var/tmp/sesame-soak} OUT=${OUT:-docs/reliability/soak.svg} REGION=us-east-1
SES_SMTP=127.0.0.1:6587 SES_TLS=127.0.0.1:6465 SES_API=127.0.0.1:6787 DNS=127.0.0.1:6354 SINK=127.0.0.1:6526

rm -rf "$WORK" && mkdir -p "$WORK/bin"
log "building"
if [ -n "${SESAME_BIN:-}" ]; then cp "$SESAME_BIN" "$WORK/bin/sesame"; else go build -o "$WORK/bin/sesame" ./cmd/sesame; fi
for t in bench/smtpload bench/dnsstub bench/flakysink reliability/plot; do go build -o "$WORK/bin/$(basename $t)" ./$t; done
B=$WORK/bin
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; }
trap cleanup EXIT

"$B/dnsstub" -listen "$DNS" -a 127.0.0.1 >"$WORK/dns.log" 2>&1 & pids+=($!)
"$B/flakysink" -listen "$SINK" -temp 0 -perm 0 -stats "$WORK/sink.stats" -every 5s >"$WORK/sink.log" 2>&1 & pids+=($!)

write_config() {
	{ sesame_base_config; cat <<-EOF2
		[delivery]
		mode = "mx"
		resolver = "$DNS"
		mx_port = ${SINK##*:}
		$1
		[log]
		level = "warn"
	EOF2
	} >"$WORK/sesame.toml"
}
# allow_private_destinations: the sink is on loopback (issue 9, defect 7);
# a binary from before that key refuses it as unknown, so it is dropped then.
write_config "allow_private_destinations = true"
if ! "$B/sesame" admin -c "$WORK/sesame.toml" account create >"$WORK/account.json" 2>"$WORK/admin.err"; then
	grep -q "unknown key" "$WORK/admin.err" || die "$(cat "$WORK/admin.err")"
	write_config ""
	"$B/sesame" admin -c "$WORK/sesame.toml" account create >"$WORK/account.json"
fi
ACCT=$(sed -n 's/.*"account_id": *"\([^"]*\)".*/\1/p' "$WORK/account.json")
KEY=$(sed -n 's/.*"access_key_id": *"\([^"]*\)".*/\1/p' "$WORK/account.json")
SECRET=$(sed -n 's/.*"secret_access_key": *"\([^"]*\)".*/\1/p' "$WORK/account.json")
"$B/sesame" admin -c "$WORK/sesame.toml" account set --account "$ACCT" --region $REGION --production --max-send-rate 1000000 --max-24h-send -1 >/dev/null
"$B/sesame" admin -c "$WORK/sesame.toml" identity verify --account "$ACCT" --region $REGION example.com >/dev/null
# The soak sends everything to one address: no suppression after a refusal.
PW=$("$B/sesame" smtp-password --secret "$SECRET" --region $REGION)
"$B/sesame" serve -c "$WORK/sesame.toml" >"$WORK/sesame.log" 2>&1 & SPID=$!; pids+=($SPID)
for _ in $(seq 100); do curl -sf "http://$SES_API/_sesame/health" >/dev/null && break; sleep 0.2; done

echo "seconds,rss_kb,goroutines,fds" >"$WORK/samples.csv"
sample() {
	local t=$1 rss gor fds
	rss=$(awk '/^VmRSS/{print $2}' /proc/$SPID/status)
	gor=$(curl -sf "http://$SES_API/metrics" | awk '/^go_goroutines /{print $2}')
	fds=$(ls /proc/$SPID/fd | wc -l)
	echo "$t,$rss,${gor:-0},$fds" >>"$WORK/samples.csv"
}
busy=$(cpu_busy)
log "soak: $RATE msg/s offered over $CONNS connections for $DURATION (machine ${busy}% busy before)"
start=$SECONDS
"$B/smtpload" -addr "$SES_SMTP" -starttls -user "$KEY" -pass "$PW" -from sender@example.com -to rcpt@soak.example.net \
	-conns "$CONNS" -msgs 1000000000 -size "$SIZE" -rate "$RATE" -duration "$DURATION" -max-errors 0 -q >"$WORK/load.txt" 2>&1 & LPID=$!
while kill -0 $LPID 2>/dev/null; do sample $((SECONDS - start)); sleep "$SAMPLE"; done
wait $LPID || true
sample $((SECONDS - start))
# Let the queue drain, then one last sample: what is left once idle.
for _ in $(seq 60); do
	q=$("$B/sesame" admin -c "$WORK/sesame.toml" queue list 2>/dev/null | grep -c '"id"' || true)
	[ "${q:-0}" -eq 0 ] && break; sleep 1
done
sample $((SECONDS - start))
sleep 6 # the sink rewrites its counters every 5 s
"$B/plot" -in "$WORK/samples.csv" -out "$OUT" -title "sesame soak: $RATE msg/s offered, $CONNS conns, $DURATION ($(date -u +%FT%H:%MZ))"

result=$(grep RESULT "$WORK/load.txt" || true)
awk -F, 'NR==2{r0=$2;g0=$3;f0=$4} NR>1{if($2>rm)rm=$2; if($3>gm)gm=$3; if($4>fm)fm=$4; r=$2;g=$3;f=$4}
	END{printf "SOAK rss_first=%.1fMB rss_max=%.1fMB rss_last=%.1fMB goroutines_first=%d max=%d last=%d fds_first=%d max=%d last=%d samples=%d\n",
	r0/1024,rm/1024,r/1024,g0,gm,g,f0,fm,f,NR-1}' "$WORK/samples.csv"
echo "$result"
echo "sink: $(cat "$WORK/sink.stats" 2>/dev/null)"
echo "queue left: ${q:-?}; samples: $WORK/samples.csv; plot: $OUT"
