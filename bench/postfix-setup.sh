#!/bin/bash
# postfix-setup.sh — Debian's Postfix as the reference MTA for bench/smtp-ingest.sh.
#
#   smtp-sink  127.0.0.1:2526  stands in for every remote MX (counts what it gets)
#   postfix    127.0.0.1:2525  plain SMTP, relays everything to [127.0.0.1]:2526
#              127.0.0.1:2588  STARTTLS required, then AUTH PLAIN/LOGIN (Cyrus sasldb),
#                              relays to the sink too: the same TLS+AUTH work sesame does
#              127.0.0.1:2529  plain SMTP, no AUTH: an MX whose mail stays in the queue
#                              (every message on the hold queue: accepted, durable, never
#                              delivered; bench/inbound.sh empties it between runs)
#   SASL user  bench@bench.local / benchpass
#
# Postfix keeps its stock Debian settings otherwise (in_flow_delay = 1s, ...):
# the point is to compare with what an operator gets out of the box.
# Ports 2587/2465 are sesame's defaults (its tests use them): never bound here.
#
# Usage (root):  bench/postfix-setup.sh setup    install packages, write the config (idempotent)
#                bench/postfix-setup.sh start    setup + start smtp-sink and postfix
#                bench/postfix-setup.sh stop     stop postfix and smtp-sink
#                bench/postfix-setup.sh restore  stop, then put back /etc/postfix/*.orig-bench
#                bench/postfix-setup.sh status
# Environment:   SKIP_INSTALL=1  never call apt-get (fail if a package is missing)
set -euo pipefail

PF_PLAIN=2525
PF_SUB=2588
PF_HOLD=2529
SINK_PORT=2526
SASL_USER=bench SASL_DOMAIN=bench.local SASL_PASS=benchpass
STATE=${BENCH_STATE:-/tmp/sesame-bench-postfix}
SINK_PID_FILE=$STATE/smtp-sink.pid
SINK_OUT=$STATE/smtp-sink.out
PF_LOG=/var/log/postfix-bench.log
CONF=/etc/postfix

log() { printf '%s postfix-setup: %s\n' "$(date +%T)" "$*" >&2; }

need_root() {
	[ "$(id -u)" = 0 ] || { echo "postfix-setup.sh: run as root" >&2; exit 2; }
}

install_packages() {
	local p missing=()
	for p in postfix sasl2-bin libsasl2-modules ssl-cert; do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
	done
	[ ${#missing[@]} -eq 0 ] && return 0
	if [ -n "${SKIP_INSTALL:-}" ]; then
		echo "postfix-setup.sh: missing packages: ${missing[*]}" >&2
		exit 2
	fi
	log "installing ${missing[*]}"
	# Preseed so that the postfix package does not ask questions.
	debconf-set-selections <<-EOF
		postfix postfix/main_mailer_type select Local only
		postfix postfix/mailname string $SASL_DOMAIN
	EOF
	DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${missing[@]}" >/dev/null ||
		{ DEBIAN_FRONTEND=noninteractive apt-get update -q >/dev/null &&
			DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${missing[@]}" >/dev/null; }
}

configure() {
	# Keep the operator's files once; every setup starts again from them, so
	# running setup twice gives the same result and stale listeners vanish.
	local f
	for f in main.cf master.cf; do
		[ -f "$CONF/$f.orig-bench" ] || cp -p "$CONF/$f" "$CONF/$f.orig-bench"
		cp -p "$CONF/$f.orig-bench" "$CONF/$f"
	done
	postconf -e \
		'inet_protocols = ipv4' \
		'inet_interfaces = 127.0.0.1' \
		'mynetworks = 127.0.0.0/8' \
		'mydestination =' \
		"relayhost = [127.0.0.1]:$SINK_PORT" \
		'default_transport = smtp' \
		'relay_transport = relay' \
		'smtp_dns_support_level = disabled' \
		'smtp_tls_security_level = none' \
		'smtpd_tls_security_level = none' \
		'smtpd_tls_cert_file = /etc/ssl/certs/ssl-cert-snakeoil.pem' \
		'smtpd_tls_key_file = /etc/ssl/private/ssl-cert-snakeoil.key' \
		"maillog_file = $PF_LOG"
	# No listener on port 25; our two loopback listeners instead.
	postconf -M# smtp/inet >/dev/null 2>&1 || true
	postconf -M "127.0.0.1:$PF_PLAIN/inet=127.0.0.1:$PF_PLAIN inet n - y - - smtpd"
	local opts=(
		-o syslog_name=postfix/bench-submission
		-o smtpd_tls_security_level=encrypt
		-o smtpd_tls_auth_only=yes
		-o smtpd_sasl_auth_enable=yes
		-o smtpd_sasl_type=cyrus
		-o smtpd_sasl_path=smtpd
		-o "smtpd_sasl_local_domain=$SASL_DOMAIN"
		-o "smtpd_client_restrictions=permit_sasl_authenticated,reject"
		-o "smtpd_relay_restrictions=permit_sasl_authenticated,reject"
	)
	# Not chrooted ("n" in the 5th column), so smtpd reads the sasldb in place.
	postconf -M "127.0.0.1:$PF_SUB/inet=127.0.0.1:$PF_SUB inet n - n - - smtpd ${opts[*]}"
	# The inbound MX: HOLD from a recipient restriction puts the whole
	# message on the hold queue (access(5)); cleanup writes it there, fsynced,
	# before the 250, and the queue manager never picks it up.
	postconf -M "127.0.0.1:$PF_HOLD/inet=127.0.0.1:$PF_HOLD inet n - y - - smtpd -o syslog_name=postfix/bench-inbound -o smtpd_recipient_restrictions=check_client_access,static:HOLD"
	mkdir -p "$CONF/sasl"
	cat >"$CONF/sasl/smtpd.conf" <<-EOF
		pwcheck_method: auxprop
		auxprop_plugin: sasldb
		mech_list: PLAIN LOGIN
		sasldb_path: $CONF/sasl/sasldb2
	EOF
	printf '%s' "$SASL_PASS" | saslpasswd2 -p -c -f "$CONF/sasl/sasldb2" -u "$SASL_DOMAIN" "$SASL_USER"
	chown root:postfix "$CONF/sasl/sasldb2"
	chmod 640 "$CONF/sasl/sasldb2"
	postfix check
	log "configured: plain 127.0.0.1:$PF_PLAIN, STARTTLS+AUTH 127.0.0.1:$PF_SUB -> smtp-sink 127.0.0.1:$SINK_PORT; inbound (hold queue) 127.0.0.1:$PF_HOLD"
}

listening() { ss -Hltn "sport = :$1" | grep -q LISTEN; }

wait_listen() {
	for _ in $(seq 100); do
		listening "$1" && return 0
		sleep 0.1
	done
	echo "postfix-setup.sh: nothing listens on 127.0.0.1:$1" >&2
	return 1
}

sink_running() { [ -f "$SINK_PID_FILE" ] && kill -0 "$(cat "$SINK_PID_FILE")" 2>/dev/null; }

start() {
	mkdir -p "$STATE"
	if sink_running; then
		log "smtp-sink already running (pid $(cat "$SINK_PID_FILE"))"
	else
		if listening "$SINK_PORT"; then
			echo "postfix-setup.sh: port $SINK_PORT is taken by something else" >&2
			exit 2
		fi
		: >"$SINK_OUT"
		# -c: print a running message count (end-to-end check); backlog 1000.
		# It outlives this script; stop finds it through the pid file.
		smtp-sink -c -u postfix "127.0.0.1:$SINK_PORT" 1000 >"$SINK_OUT" 2>&1 </dev/null &
		echo $! >"$SINK_PID_FILE"
		wait_listen "$SINK_PORT"
		if ! ss -Hltnp "sport = :$SINK_PORT" | grep -q "pid=$(cat "$SINK_PID_FILE"),"; then
			echo "postfix-setup.sh: port $SINK_PORT is not held by our smtp-sink" >&2
			exit 2
		fi
		log "smtp-sink started (pid $(cat "$SINK_PID_FILE"))"
	fi
	# Postfix writes ~5 log lines per message: keep only the current run's.
	: >"$PF_LOG"
	if postfix status >/dev/null 2>&1; then
		postfix reload >/dev/null 2>&1
		log "postfix was running: reloaded"
	elif [ -x /etc/init.d/postfix ]; then
		/etc/init.d/postfix start >/dev/null
	else
		postfix start >/dev/null 2>&1
	fi
	wait_listen "$PF_PLAIN"
	wait_listen "$PF_SUB"
	wait_listen "$PF_HOLD"
	log "postfix running"
}

stop() {
	if postfix status >/dev/null 2>&1; then
		postfix stop >/dev/null 2>&1 || true
		for _ in $(seq 100); do
			listening "$PF_SUB" || listening "$PF_PLAIN" || listening "$PF_HOLD" || break
			sleep 0.1
		done
		log "postfix stopped"
	fi
	if sink_running; then
		kill "$(cat "$SINK_PID_FILE")" 2>/dev/null || true
		log "smtp-sink stopped"
	fi
	rm -f "$SINK_PID_FILE"
}

restore() {
	stop
	local f
	for f in main.cf master.cf; do
		[ -f "$CONF/$f.orig-bench" ] && cp -p "$CONF/$f.orig-bench" "$CONF/$f"
	done
	log "restored $CONF/{main,master}.cf from *.orig-bench"
}

status() {
	postfix status 2>&1 || true
	if sink_running; then echo "smtp-sink running (pid $(cat "$SINK_PID_FILE"))"; else echo "smtp-sink not running"; fi
	ss -Hltn "( sport = :$PF_PLAIN or sport = :$PF_SUB or sport = :$PF_HOLD or sport = :$SINK_PORT )"
}

case "${1:-}" in
setup) need_root; install_packages; configure ;;
start) need_root; install_packages; configure; start ;;
stop) need_root; stop ;;
restore) need_root; restore ;;
status) status ;;
*)
	echo "usage: $0 setup|start|stop|restore|status" >&2
	exit 2
	;;
esac
