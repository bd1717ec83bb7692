#!/usr/bin/env bash
# Stop every daemon test/testbed/up.sh started (by pid file), newest first. Packages, users,
# keys, configs and the MariaDB datadir stay, so the next up.sh is quick. Idempotent.
#   sudo bash test/testbed/down.sh
# To start from scratch: down.sh, then rm -rf "${HPC_RELAY_TESTBED_DIR:-/var/tmp/hpc-relay-testbed}".
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=lib.sh
source "$HERE/lib.sh"

((EUID == 0)) || die "run as root: sudo bash test/testbed/down.sh"
if [[ ! -d $TESTBED_DIR ]]; then
  log "nothing to stop: $TESTBED_DIR does not exist"
  exit 0
fi
take_lock

for d in "$TB_SSHD"/*/; do
  [[ -d $d ]] || continue
  stop_pidfile "sshd[$(basename "$d")]" "$d/sshd.pid" sshd
done
stop_pidfile slurmd "$TB_RUN/slurmd.pid" slurmd
stop_pidfile slurmctld "$TB_RUN/slurmctld.pid" slurmctld
stop_pidfile slurmdbd "$TB_RUN/slurmdbd.pid" slurmdbd
stop_pidfile mariadb "$TB_RUN/mysqld/mysqld.pid" mariadbd
# munged lives at the system location; stop it only if up.sh was the one that started it.
if [[ -e $TB_RUN/munged.ours ]]; then
  stop_pidfile munged "$MUNGE_PID" munged
  rm -f "$TB_RUN/munged.ours"
fi
log "testbed stopped (state kept in $TESTBED_DIR)"
