#!/usr/bin/env bash
# testssl.sh (Debian package testssl.sh) against sesame's TLS endpoints: the
# STARTTLS submission port, the TLS-wrapper port and the feedback MX's
# STARTTLS and the API's HTTPS listener ([api] cert_file/key_file, with a
# certificate the script makes with openssl) — plus any other HTTPS
# endpoint given as an argument (host:port). Protocols, standard cipher categories and ciphers per protocol;
# the reports go to $OUT (docs/reliability/ by default) and the script exits
# non-zero when a protocol below TLS 1.2 or a NULL, anonymous, export, LOW,
# RC4 or 3DES cipher is offered.
#
#   reliability/testssl.sh                    # the four endpoints
#   reliability/testssl.sh 127.0.0.1:8443     # and another HTTPS listener
#   SCANS=feedback reliability/testssl.sh     # one endpoint
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/lib.sh
API_TLS=${1:-}
WORK=${WORK:-/var/tmp/sesame-testssl} OUT=${OUT:-docs/reliability} REGION=us-east-1
SES_SMTP=127.0.0.1:6787 SES_TLS=127.0.0.1:6765 SES_API=127.0.0.1:6788 FEEDBACK=127.0.0.1:6725
TESTSSL=$(command -v testssl || command -v testssl.sh) || die "testssl.sh is not installed (apt-get install testssl.sh)"

rm -rf "$WORK" && mkdir -p "$WORK" "$OUT"
if [ -n "${SESAME_BIN:-}" ]; then cp "$SESAME_BIN" "$WORK/sesame"; else go build -o "$WORK/sesame" ./cmd/sesame; fi
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 -subj /CN=localhost \
	-addext subjectAltName=DNS:localhost,IP:127.0.0.1 -keyout "$WORK/api.key" -out "$WORK/api.crt" 2>/dev/null
{ sesame_base_config; cat <<-EOF2
	cert_file = "$WORK/api.crt"
	key_file  = "$WORK/api.key"
	[delivery]
	mode = "mx"
	[feedback]
	listen = ["$FEEDBACK"]
	[log]
	level = "warn"
EOF2
} >"$WORK/sesame.toml"
"$WORK/sesame" serve -c "$WORK/sesame.toml" >"$WORK/sesame.log" 2>&1 & SPID=$!
trap 'kill $SPID 2>/dev/null; wait 2>/dev/null' EXIT
for _ in $(seq 100); do curl -sfk "https://$SES_API/_sesame/health" >/dev/null && break; sleep 0.2; done

status=0
scan() { # name, target, testssl args...
	local name=$1 target=$2; shift 2
	local log="$OUT/testssl-$name.txt" json="$WORK/$name.json"
	rm -f "$log" "$json"
	log "testssl $name ($target)"
	"$TESTSSL" --quiet --color 0 --warnings off --protocols --std --cipher-per-proto \
		--logfile "$log" --jsonfile "$json" "$@" "$target" >/dev/null 2>&1 || true
	[ -s "$json" ] || { log "  no report for $name"; status=1; return; }
	# Findings that break the policy: an old protocol offered, or a weak
	# cipher category offered.
	local bad
	bad=$(python3 - "$json" <<-'PY'
		import json, re, sys
		bad = []
		# "offered", "offered (NOT ok)"; not "not offered", nor "likely not
		# offered, received 4xx/5xx after STARTTLS handshake" (go-smtp's
		# answer to a failed handshake on the feedback MX).
		offered = lambda v: re.match(r"\s*offered", v) is not None
		for f in json.load(open(sys.argv[1])):
		    i, v = f.get("id", ""), f.get("finding", "")
		    if i in ("SSLv2", "SSLv3", "TLS1", "TLS1_1") and offered(v):
		        bad.append(f"{i}: {v}")
		    if i in ("cipherlist_NULL", "cipherlist_aNULL", "cipherlist_EXPORT", "cipherlist_LOW", "cipherlist_3DES_IDEA") and offered(v):
		        bad.append(f"{i}: {v}")
		    if i.startswith("cipher-") and any(w in v for w in ("RC4", "DES-CBC3", "NULL", "EXP")):
		        bad.append(f"{i}: {v}")
		print("\n".join(bad))
	PY
	)
	if [ -n "$bad" ]; then log "  FAIL $name:"; echo "$bad" | sed 's/^/    /' >&2; status=1; else log "  $name: no protocol below TLS 1.2, no weak cipher"; fi
	grep -E "^ (SSLv|TLS 1)|Obsoleted CBC|Strong encryption|NULL ciphers|Anonymous|Export|LOW:|Triple DES" "$log" | sed "s/^/  $name /" >&2 || true
}
SCANS=${SCANS:-starttls tls-wrapper feedback api}
for s in $SCANS; do
	case $s in
	starttls) scan starttls "$SES_SMTP" -t smtp ;;
	tls-wrapper) scan tls-wrapper "$SES_TLS" ;;
	feedback) scan feedback "$FEEDBACK" -t smtp ;;
	api) scan api "$SES_API" ;;
	esac
done
[ -n "$API_TLS" ] && scan https "$API_TLS"
exit $status
