# shellcheck shell=bash
# Shared helpers for test/testbed/up.sh and down.sh. Sourced, never run directly.

TESTBED_DIR="${HPC_RELAY_TESTBED_DIR:-/var/tmp/hpc-relay-testbed}"
TB_RUN="$TESTBED_DIR/run"        # pid files
TB_LOG="$TESTBED_DIR/log"        # daemon logs
TB_KEYS="$TESTBED_DIR/keys"      # client identities (private keys for the tests)
TB_SSHD="$TESTBED_DIR/sshd"      # one sub-directory per sshd instance
TB_SLURM="$TESTBED_DIR/slurm"    # StateSaveLocation and SlurmdSpoolDir for *this* cluster
TB_MYSQL="$TESTBED_DIR/mysql"    # MariaDB datadir (testbed-owned, not /var/lib/mysql)
TB_LOCK="$TESTBED_DIR/.lock"

CLUSTER_NAME=relaytest
SLURM_ACCOUNT=relaylab
SLURM_CONF_DIR=/etc/slurm        # what the Debian client commands read by default
MYSQL_PORT="${HPC_RELAY_TESTBED_MYSQL_PORT:-3307}"
MYSQL_SOCK="$TB_RUN/mysqld/mysqld.sock"
MUNGE_KEY=/etc/munge/munge.key
MUNGE_RUN=/run/munge
MUNGE_PID="$MUNGE_RUN/munged.pid"

_tb_now_us() { local t=${EPOCHREALTIME/[.,]/}; echo "${t#0}"; }
_TB_T0=$(_tb_now_us)
log() {
  local ms=$((($(_tb_now_us) - _TB_T0) / 1000))
  printf '[testbed %3d.%01ds] %s\n' $((ms / 1000)) $((ms % 1000 / 100)) "$*" >&2
}

# die MESSAGE [LOGFILE...]: print the message and the tail of each log, exit non-zero.
die() {
  local msg=$1; shift
  printf '\n[testbed] FAILED: %s\n' "$msg" >&2
  local f
  for f in "$@"; do
    if [[ -s $f ]]; then
      printf '[testbed] ---- last 40 lines of %s ----\n' "$f" >&2
      tail -n 40 "$f" >&2
    fi
  done
  exit 1
}

# _running PID: alive and not a zombie waiting for init to reap it.
_running() {
  kill -0 "$1" 2>/dev/null || return 1
  local st
  st=$(cat "/proc/$1/stat" 2>/dev/null) || return 0
  st=${st##*) } # the state letter follows "(comm) ", and comm may hold spaces
  [[ ${st%% *} != Z ]]
}

# pid_alive PIDFILE [COMM]: the pid in PIDFILE is a live process (named COMM).
pid_alive() {
  local pidfile=$1 comm=${2:-} pid
  [[ -s $pidfile ]] || return 1
  pid=$(tr -dc '0-9' <"$pidfile")
  [[ -n $pid ]] && _running "$pid" || return 1
  if [[ -n $comm && -r /proc/$pid/comm ]]; then
    [[ $(cat "/proc/$pid/comm") == "${comm:0:15}" ]] || return 1
  fi
  return 0
}

# stop_pidfile NAME PIDFILE [COMM]: TERM, wait up to 15 s, then KILL. Removes the pid file.
stop_pidfile() {
  local name=$1 pidfile=$2 comm=${3:-} pid i
  if ! pid_alive "$pidfile" "$comm"; then
    rm -f "$pidfile"
    return 0
  fi
  pid=$(tr -dc '0-9' <"$pidfile")
  log "stopping $name (pid $pid)"
  kill -TERM "$pid" 2>/dev/null || true
  for ((i = 0; i < 150; i++)); do
    _running "$pid" || break
    sleep 0.1
  done
  if _running "$pid"; then
    log "$name did not exit on TERM; sending KILL"
    kill -KILL "$pid" 2>/dev/null || true
    sleep 0.3
  fi
  rm -f "$pidfile"
}

# wait_for SECONDS DESCRIPTION COMMAND...: poll COMMAND every 0.2 s until it succeeds.
wait_for() {
  local secs=$1 what=$2; shift 2
  local deadline=$((SECONDS + secs))
  until "$@" >/dev/null 2>&1; do
    if ((SECONDS >= deadline)); then
      return 1
    fi
    sleep 0.2
  done
}

json_str() {
  local s=$1
  s=${s//\\/\\\\}
  s=${s//\"/\\\"}
  printf '"%s"' "$s"
}

take_lock() {
  mkdir -p "$TESTBED_DIR"
  exec 9>"$TB_LOCK"
  if ! flock -n 9; then
    log "another up.sh/down.sh holds $TB_LOCK; waiting (up to 5 min)"
    flock -w 300 9 || die "timed out waiting for $TB_LOCK"
  fi
}
