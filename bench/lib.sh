# Helpers the bench scripts share (sourced, not run).

log() { printf '%s %s\n' "$(date +%T)" "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

# CPU busy percentage over half a second, all cores.
cpu_busy() {
	local a b i idle tot=0
	read -ra a </proc/stat
	sleep 0.5
	read -ra b </proc/stat
	idle=$(((b[4] + b[5]) - (a[4] + a[5])))
	for i in 1 2 3 4 5 6 7 8; do tot=$((tot + b[i] - a[i])); done
	[ "$tot" -gt 0 ] || { echo 0; return; }
	echo $((100 * (tot - idle) / tot))
}

# The machine is shared: wait up to WAIT_QUIET seconds for the CPU to be less
# than QUIET_PCT % busy, and print how busy it was, so noisy runs can be told
# apart.
wait_quiet() {
	local busy deadline=$((SECONDS + WAIT_QUIET))
	busy=$(cpu_busy)
	while [ "$busy" -ge "$QUIET_PCT" ] && [ "$SECONDS" -lt "$deadline" ]; do
		sleep 1
		busy=$(cpu_busy)
	done
	echo "$busy"
}

# Busy CPU time of the whole machine so far, in clock ticks.
busy_ticks() {
	local a
	read -ra a </proc/stat
	echo $((a[1] + a[2] + a[3] + a[6] + a[7] + a[8]))
}

# stop_pid PID: TERM one process the script started, and reap it.
stop_pid() {
	[ -n "$1" ] && kill -0 "$1" 2>/dev/null || return 0
	kill "$1" 2>/dev/null || true
	wait "$1" 2>/dev/null || true
}

# field NAME reads NAME=value from a RESULT line, without its /s or ms unit.
field() { sed -n "s/.* $1=\([^ ]*\).*/\1/p" | sed 's#/s$##; s/ms$//'; }

# sesame_base_config prints the part of a bench config every script shares:
# data in $WORK/data, listeners on $SES_SMTP, $SES_TLS and $SES_API, region
# $REGION, connection limits raised so one session can carry a whole run
# (and one load generator on loopback may hold every connection).
# Scripts append their [delivery] and [log] tables.
sesame_base_config() {
	cat <<-EOF
		data_dir = "$WORK/data"
		hostname = "localhost"
		regions  = ["$REGION"]
		[smtp]
		starttls_listen = ["$SES_SMTP"]
		tls_listen      = ["$SES_TLS"]
		max_connections = 1000
		max_connections_per_ip = 1000
		max_message_bytes = 41943040
		idle_timeout = "30s"
		max_messages_per_connection = 1000000
		max_connection_age = "1h"
		[api]
		listen = "$SES_API"
		[console]
		listen = ""
	EOF
}
