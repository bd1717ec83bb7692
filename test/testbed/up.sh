#!/usr/bin/env bash
# Bring up the HPC Relay integration testbed on this machine, or re-verify it if it is already up:
#
#   munged -> MariaDB (127.0.0.1:$MYSQL_PORT, own datadir) -> slurmdbd -> slurmctld -> slurmd
#   (cluster "relaytest", partitions gpu_normal* and gpu_dev) and a private OpenSSH server on
#   127.0.0.1:2222 that lets the unprivileged user "relay" in with a generated ed25519 key (and a
#   second, passphrase-encrypted one), plus a bastion sshd on 127.0.0.1:2223 for ProxyJump.
#
# Run as root (no systemd needed: every daemon is started directly and tracked by pid file):
#   sudo bash test/testbed/up.sh          # cold: ~15 s once packages are installed; warm: a few s
#   sudo bash test/testbed/down.sh        # stop everything this script started
# State, keys, logs and testbed.json live in ${HPC_RELAY_TESTBED_DIR:-/var/tmp/hpc-relay-testbed}.
# Run as a non-root user, it only re-verifies an already running testbed (via testbed.json).
# Packages: test/testbed/packages.txt.
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=lib.sh
source "$HERE/lib.sh"

SSH_PORT="${HPC_RELAY_TESTBED_SSH_PORT:-2222}"
BASTION_PORT="${HPC_RELAY_TESTBED_BASTION_PORT:-2223}"
TEST_USER=relay
NODE_NAME=$(hostname -s)
VERIFY_TIMEOUT=120

# ---------------------------------------------------------------------------------------------
# Verification (also the whole job when run as non-root)
# ---------------------------------------------------------------------------------------------

# tb_ssh USER PORT IDENTITY COMMAND...: run COMMAND on the testbed over real ssh, strictly.
# Extra client options may come in the array TB_SSH_EXTRA.
TB_SSH_EXTRA=()
tb_ssh() {
  local user=$1 port=$2 identity=$3; shift 3
  ssh -F /dev/null -i "$identity" -p "$port" "${TB_SSH_EXTRA[@]}" \
    -o BatchMode=yes -o IdentitiesOnly=yes -o StrictHostKeyChecking=yes \
    -o UserKnownHostsFile="$TESTBED_DIR/known_hosts" -o GlobalKnownHostsFile=/dev/null \
    -o ConnectTimeout=10 -o LogLevel=ERROR \
    "$user@127.0.0.1" "$@"
}

verify() {
  local identity=$TB_KEYS/${TEST_USER}_ed25519 out jobid state reason i
  log "verify: ssh -p $SSH_PORT $TEST_USER@127.0.0.1 sinfo"
  out=$(tb_ssh "$TEST_USER" "$SSH_PORT" "$identity" sinfo 2>&1) ||
    die "ssh as $TEST_USER could not run sinfo: $out" "$TB_LOG/sshd-main.log" "$TB_LOG/slurmctld.log"
  printf '%s\n' "$out" | sed 's/^/    /' >&2
  grep -q '^gpu_normal\*' <<<"$out" || die "sinfo does not list gpu_normal as the default partition"
  grep -q '^gpu_dev ' <<<"$out" || die "sinfo does not list gpu_dev"

  # The bastion (ProxyJump): it only forwards to the login sshd, it runs no commands itself.
  if [[ -s $TB_SSHD/bastion/port ]]; then
    local bport jump
    bport=$(cat "$TB_SSHD/bastion/port")
    log "verify: ssh -J $TEST_USER@127.0.0.1:$bport -p $SSH_PORT $TEST_USER@127.0.0.1 true"
    jump="ssh -F /dev/null -i $identity -p $bport -o BatchMode=yes -o IdentitiesOnly=yes"
    jump+=" -o StrictHostKeyChecking=yes -o UserKnownHostsFile=$TESTBED_DIR/known_hosts"
    jump+=" -o GlobalKnownHostsFile=/dev/null -o ConnectTimeout=10 -o LogLevel=ERROR -W %h:%p $TEST_USER@127.0.0.1"
    TB_SSH_EXTRA=(-o ProxyCommand="$jump")
    out=$(tb_ssh "$TEST_USER" "$SSH_PORT" "$identity" echo through-bastion 2>&1) ||
      die "ssh through the bastion on 127.0.0.1:$bport failed: $out" "$TB_LOG/sshd-bastion.log" "$TB_LOG/sshd-main.log"
    TB_SSH_EXTRA=()
    [[ $out == through-bastion ]] || die "ssh through the bastion printed '$out'"
  fi

  log "verify: sbatch --wrap job as $TEST_USER"
  jobid=$(tb_ssh "$TEST_USER" "$SSH_PORT" "$identity" \
    sbatch --parsable -p gpu_dev -t 1 -c 1 --mem=64M -J testbed-verify -o /dev/null --wrap "'echo ok'" 2>&1) ||
    die "sbatch over ssh failed: $jobid" "$TB_LOG/slurmctld.log"
  jobid=${jobid%%;*}
  [[ $jobid =~ ^[0-9]+$ ]] || die "sbatch printed no job id: $jobid" "$TB_LOG/slurmctld.log"
  for ((i = 0; i < VERIFY_TIMEOUT * 2; i++)); do
    state=$(tb_ssh "$TEST_USER" "$SSH_PORT" "$identity" sacct -n -X -P -j "$jobid" -o State 2>/dev/null | head -n1 || true)
    case $state in
      COMPLETED) break ;;
      FAILED* | CANCELLED* | TIMEOUT | NODE_FAIL | OUT_OF_MEMORY | BOOT_FAIL | DEADLINE | PREEMPTED)
        die "verification job $jobid ended $state" "$TB_LOG/slurmctld.log" "$TB_LOG/slurmd.log" ;;
      PENDING)
        # A warm re-verify can find the node busy with other suites' jobs: queued is proof enough.
        reason=$(tb_ssh "$TEST_USER" "$SSH_PORT" "$identity" squeue -h -j "$jobid" -o %r 2>/dev/null || true)
        if ((i >= 40)) && [[ $reason == Resources || $reason == Priority ]]; then
          log "verify: node busy with other jobs (job $jobid pending: $reason); accepting the queued job"
          tb_ssh "$TEST_USER" "$SSH_PORT" "$identity" scancel "$jobid" >/dev/null 2>&1 || true
          state=COMPLETED
          break
        fi ;;
    esac
    sleep 0.5
  done
  [[ $state == COMPLETED ]] ||
    die "verification job $jobid not COMPLETED in sacct after ${VERIFY_TIMEOUT}s (last state: '${state:-none}')" \
      "$TB_LOG/slurmctld.log" "$TB_LOG/slurmdbd.log" "$TB_LOG/slurmd.log"
  log "verify: job $jobid is COMPLETED in sacct"
}

if ((EUID != 0)); then
  [[ -r $TESTBED_DIR/testbed.json ]] ||
    die "not root and no testbed at $TESTBED_DIR: run  sudo bash test/testbed/up.sh"
  [[ -r $TB_KEYS/${TEST_USER}_ed25519 ]] ||
    die "not root and cannot read $TB_KEYS/${TEST_USER}_ed25519: run  sudo bash test/testbed/up.sh  (it hands the key to \$SUDO_UID)"
  log "not root: re-verifying the running testbed at $TESTBED_DIR"
  verify
  log "testbed OK: $TESTBED_DIR/testbed.json"
  exit 0
fi

# ---------------------------------------------------------------------------------------------
# Set-up steps (root)
# ---------------------------------------------------------------------------------------------

need_cmd() {
  local c missing=()
  for c in "$@"; do command -v "$c" >/dev/null 2>&1 || missing+=("$c"); done
  ((${#missing[@]} == 0)) ||
    die "missing commands: ${missing[*]} — install: apt-get install -y --no-install-recommends \$(cat test/testbed/packages.txt)"
}

# write_if_changed PATH MODE CONTENT: returns 0 if the file was (re)written, 1 if unchanged.
write_if_changed() {
  local path=$1 mode=$2 content=$3
  if [[ -f $path ]] && [[ $(cat "$path") == "$content" ]]; then
    chmod "$mode" "$path"
    return 1
  fi
  local tmp
  tmp=$(mktemp "$path.XXXXXX")
  printf '%s\n' "$content" >"$tmp"
  chmod "$mode" "$tmp"
  mv -f "$tmp" "$path"
  return 0
}

ensure_munge() {
  if [[ ! -s $MUNGE_KEY ]]; then
    log "munge: generating $MUNGE_KEY"
    mkdir -p "$(dirname "$MUNGE_KEY")"
    if command -v mungekey >/dev/null; then
      mungekey --create --keyfile="$MUNGE_KEY" --force
    else
      dd if=/dev/urandom bs=1 count=1024 of="$MUNGE_KEY" status=none
    fi
  fi
  chown munge:munge "$MUNGE_KEY"
  chmod 0400 "$MUNGE_KEY"
  install -d -o munge -g munge -m 0755 "$MUNGE_RUN"
  install -d -o munge -g munge -m 0700 /var/log/munge /var/lib/munge
  if pid_alive "$MUNGE_PID" munged && munge -n 2>/dev/null | unmunge >/dev/null 2>&1; then
    log "munge: running (pid $(cat "$MUNGE_PID"))"
    return
  fi
  rm -f "$MUNGE_PID"
  log "munge: starting munged"
  setsid runuser -u munge -- /usr/sbin/munged --log-file=/var/log/munge/munged.log \
    </dev/null 9>&- >>"$TB_LOG/munged.stdout" 2>&1 ||
    die "munged failed to start" /var/log/munge/munged.log "$TB_LOG/munged.stdout"
  touch "$TB_RUN/munged.ours"
  wait_for 15 munge-roundtrip bash -c 'munge -n | unmunge' ||
    die "munge credentials do not round-trip" /var/log/munge/munged.log
}

mysql_root() { mariadb --no-defaults --socket="$MYSQL_SOCK" -u root "$@"; }

ensure_mariadb() {
  # mariadbd runs as mysql and cannot create files in $TB_LOG: its error log goes to stderr.
  local pidfile=$TB_RUN/mysqld/mysqld.pid errlog=$TB_LOG/mariadb.log
  install -d -o mysql -g mysql -m 0755 "$TB_RUN/mysqld"
  if pid_alive "$pidfile" mariadbd && mariadb-admin --no-defaults --socket="$MYSQL_SOCK" -u root ping >/dev/null 2>&1; then
    log "mariadb: running (pid $(cat "$pidfile"), port $MYSQL_PORT)"
  else
    rm -f "$pidfile"
    if [[ ! -d $TB_MYSQL/mysql ]]; then
      log "mariadb: initialising datadir $TB_MYSQL"
      rm -rf "$TB_MYSQL"
      install -d -o mysql -g mysql -m 0750 "$TB_MYSQL"
      mariadb-install-db --no-defaults --user=mysql --datadir="$TB_MYSQL" \
        --auth-root-authentication-method=socket --skip-test-db >"$TB_LOG/mariadb-install.log" 2>&1 ||
        die "mariadb-install-db failed" "$TB_LOG/mariadb-install.log"
    fi
    log "mariadb: starting mariadbd on 127.0.0.1:$MYSQL_PORT"
    setsid /usr/sbin/mariadbd --no-defaults --user=mysql --datadir="$TB_MYSQL" \
      --socket="$MYSQL_SOCK" --port="$MYSQL_PORT" --bind-address=127.0.0.1 \
      --pid-file="$pidfile" \
      --innodb-buffer-pool-size=256M --innodb-log-file-size=64M --innodb-lock-wait-timeout=900 \
      --innodb-flush-log-at-trx-commit=2 --skip-log-bin --performance-schema=OFF \
      --max-connections=200 </dev/null 9>&- >>"$errlog" 2>&1 &
    wait_for 60 mariadb-ping mariadb-admin --no-defaults --socket="$MYSQL_SOCK" -u root ping ||
      die "mariadbd did not come up" "$errlog"
  fi
  local pass
  pass=$(cat "$TESTBED_DIR/slurmdbd.dbpass")
  mysql_root <<SQL || die "could not create the slurmdbd database user" "$errlog"
CREATE DATABASE IF NOT EXISTS slurm_acct_db_${CLUSTER_NAME};
CREATE USER IF NOT EXISTS 'slurm'@'127.0.0.1' IDENTIFIED BY '${pass}';
CREATE USER IF NOT EXISTS 'slurm'@'localhost' IDENTIFIED BY '${pass}';
ALTER USER 'slurm'@'127.0.0.1' IDENTIFIED BY '${pass}';
ALTER USER 'slurm'@'localhost' IDENTIFIED BY '${pass}';
GRANT ALL ON slurm_acct_db_${CLUSTER_NAME}.* TO 'slurm'@'127.0.0.1';
GRANT ALL ON slurm_acct_db_${CLUSTER_NAME}.* TO 'slurm'@'localhost';
SQL
}

SLURM_CONF_CHANGED=0
DBD_CONF_CHANGED=0

write_slurm_configs() {
  local cpus real_mem mem_total
  cpus=$(nproc)
  # What slurmd itself measures (MiB), minus a margin, so the node never drains on "Low RealMemory".
  mem_total=$(slurmd -C 2>/dev/null | sed -n 's/.*RealMemory=\([0-9]*\).*/\1/p' | head -n1)
  [[ -n $mem_total ]] || mem_total=$(($(awk '/^MemTotal:/ {print $2}' /proc/meminfo) / 1024))
  real_mem=$((mem_total - (mem_total / 20 > 256 ? mem_total / 20 : 256)))
  ((real_mem > 256)) || real_mem=256
  install -d -m 0755 "$SLURM_CONF_DIR"
  install -d -m 0755 "$TB_SLURM/ctld" "$TB_SLURM/d"
  if [[ -f $SLURM_CONF_DIR/slurm.conf ]] && ! grep -q 'hpc-relay testbed' "$SLURM_CONF_DIR/slurm.conf" &&
    [[ ! -f $SLURM_CONF_DIR/slurm.conf.pre-testbed ]]; then
    log "slurm: keeping the previous slurm.conf as slurm.conf.pre-testbed"
    cp -p "$SLURM_CONF_DIR/slurm.conf" "$SLURM_CONF_DIR/slurm.conf.pre-testbed"
  fi

  local conf
  conf=$(
    cat <<EOF
# Generated by the hpc-relay testbed (test/testbed/up.sh). Do not edit: it is rewritten on every run.
ClusterName=$CLUSTER_NAME
SlurmctldHost=$NODE_NAME(127.0.0.1)
SlurmUser=root
SlurmdUser=root
SlurmctldPort=6817
SlurmdPort=6818
AuthType=auth/munge
CryptoType=crypto/munge
MpiDefault=none
StateSaveLocation=$TB_SLURM/ctld
SlurmdSpoolDir=$TB_SLURM/d
SlurmctldPidFile=$TB_RUN/slurmctld.pid
SlurmdPidFile=$TB_RUN/slurmd.pid
SlurmctldLogFile=$TB_LOG/slurmctld.log
SlurmdLogFile=$TB_LOG/slurmd.log
SlurmctldDebug=info
SlurmdDebug=info
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
ReturnToService=2
MailProg=/bin/true
# Scheduling: cores and memory are consumable, as on a real GPU cluster.
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
DefMemPerCPU=1024
EnforcePartLimits=ALL
# Timers kept short so tests see state changes quickly.
MinJobAge=30
KillWait=5
InactiveLimit=0
Waittime=0
MessageTimeout=10
SlurmctldTimeout=30
SlurmdTimeout=60
# Accounting: sacct works, MaxRSS is sampled, and steps over their --mem are killed (OUT_OF_MEMORY).
JobAcctGatherType=jobacct_gather/linux
JobAcctGatherFrequency=task=5
JobAcctGatherParams=OverMemoryKill
AccountingStorageType=accounting_storage/slurmdbd
AccountingStorageHost=localhost
AccountingStoragePort=6819
JobCompType=jobcomp/none
# One node, two GPU-cluster-shaped partitions.
NodeName=$NODE_NAME NodeAddr=127.0.0.1 NodeHostname=$NODE_NAME CPUs=$cpus RealMemory=$real_mem State=UNKNOWN
PartitionName=gpu_normal Nodes=$NODE_NAME Default=YES MaxTime=2-00:00:00 DefaultTime=04:00:00 State=UP
PartitionName=gpu_dev Nodes=$NODE_NAME MaxTime=01:00:00 DefaultTime=00:30:00 State=UP
EOF
  )
  if write_if_changed "$SLURM_CONF_DIR/slurm.conf" 0644 "$conf"; then
    SLURM_CONF_CHANGED=1
    log "slurm: wrote $SLURM_CONF_DIR/slurm.conf (node $NODE_NAME, CPUs=$cpus, RealMemory=$real_mem)"
  fi

  local dbd
  dbd=$(
    cat <<EOF
# Generated by the hpc-relay testbed (test/testbed/up.sh). Do not edit: it is rewritten on every run.
AuthType=auth/munge
DbdHost=localhost
DbdAddr=127.0.0.1
DbdPort=6819
SlurmUser=root
DebugLevel=info
LogFile=$TB_LOG/slurmdbd.log
PidFile=$TB_RUN/slurmdbd.pid
StorageType=accounting_storage/mysql
StorageHost=127.0.0.1
StoragePort=$MYSQL_PORT
StorageUser=slurm
StoragePass=$(cat "$TESTBED_DIR/slurmdbd.dbpass")
StorageLoc=slurm_acct_db_$CLUSTER_NAME
EOF
  )
  if write_if_changed "$SLURM_CONF_DIR/slurmdbd.conf" 0600 "$dbd"; then
    DBD_CONF_CHANGED=1
    log "slurm: wrote $SLURM_CONF_DIR/slurmdbd.conf"
  fi
  chown root:root "$SLURM_CONF_DIR/slurmdbd.conf"
}

ensure_slurmdbd() {
  local pidfile=$TB_RUN/slurmdbd.pid
  if ((DBD_CONF_CHANGED)); then stop_pidfile slurmdbd "$pidfile" slurmdbd; fi
  if pid_alive "$pidfile" slurmdbd && sacctmgr -n -P show cluster format=cluster >/dev/null 2>&1; then
    log "slurmdbd: running (pid $(cat "$pidfile"))"
  else
    stop_pidfile slurmdbd "$pidfile" slurmdbd
    log "slurmdbd: starting"
    setsid /usr/sbin/slurmdbd </dev/null 9>&- >>"$TB_LOG/slurmdbd.stdout" 2>&1 ||
      die "slurmdbd failed to start" "$TB_LOG/slurmdbd.log" "$TB_LOG/slurmdbd.stdout"
    wait_for 60 slurmdbd sacctmgr -n -P show cluster format=cluster ||
      die "slurmdbd does not answer sacctmgr" "$TB_LOG/slurmdbd.log" "$TB_LOG/mariadb.log"
  fi
  if ! sacctmgr -n -P show cluster format=cluster | grep -qx "$CLUSTER_NAME"; then
    log "slurmdbd: sacctmgr add cluster $CLUSTER_NAME"
    sacctmgr -i add cluster "$CLUSTER_NAME" >/dev/null || die "sacctmgr add cluster failed" "$TB_LOG/slurmdbd.log"
  fi
  if ! sacctmgr -n -P show account "$SLURM_ACCOUNT" format=account | grep -qx "$SLURM_ACCOUNT"; then
    log "slurmdbd: sacctmgr add account $SLURM_ACCOUNT"
    sacctmgr -i add account "$SLURM_ACCOUNT" Cluster="$CLUSTER_NAME" \
      Description="hpc-relay testbed" Organization=hpc-relay >/dev/null ||
      die "sacctmgr add account failed" "$TB_LOG/slurmdbd.log"
  fi
}

# ensure_slurm_user NAME: an association so the user's jobs are accounted under $SLURM_ACCOUNT.
ensure_slurm_user() {
  local name=$1
  if ! sacctmgr -n -P show assoc where user="$name" cluster="$CLUSTER_NAME" format=user | grep -qx "$name"; then
    log "slurmdbd: sacctmgr add user $name (account $SLURM_ACCOUNT)"
    sacctmgr -i add user "$name" Account="$SLURM_ACCOUNT" DefaultAccount="$SLURM_ACCOUNT" Cluster="$CLUSTER_NAME" >/dev/null ||
      die "sacctmgr add user $name failed" "$TB_LOG/slurmdbd.log"
  fi
}

ensure_slurmctld() {
  local pidfile=$TB_RUN/slurmctld.pid
  if ((SLURM_CONF_CHANGED)); then stop_pidfile slurmctld "$pidfile" slurmctld; fi
  if pid_alive "$pidfile" slurmctld && scontrol ping 2>/dev/null | grep -q UP; then
    log "slurmctld: running (pid $(cat "$pidfile"))"
    return
  fi
  stop_pidfile slurmctld "$pidfile" slurmctld
  log "slurmctld: starting"
  setsid /usr/sbin/slurmctld </dev/null 9>&- >>"$TB_LOG/slurmctld.stdout" 2>&1 ||
    die "slurmctld failed to start" "$TB_LOG/slurmctld.log" "$TB_LOG/slurmctld.stdout"
  wait_for 30 slurmctld bash -c 'scontrol ping | grep -q UP' ||
    die "slurmctld does not answer scontrol ping" "$TB_LOG/slurmctld.log" "$TB_LOG/slurmctld.stdout"
}

node_state() { sinfo -h -n "$NODE_NAME" -o %T 2>/dev/null | head -n1; }
node_usable() { [[ $(node_state) =~ ^(idle|mixed|allocated|completing)$ ]]; }

slurmd_registered_since() {
  local t
  t=$(scontrol show node -o "$NODE_NAME" 2>/dev/null | sed -n 's/.*SlurmdStartTime=\([^ ]*\).*/\1/p')
  [[ -n $t && $t != None && ! $t < $1 ]]
}

ensure_slurmd() {
  local pidfile=$TB_RUN/slurmd.pid started=""
  if ((SLURM_CONF_CHANGED)); then stop_pidfile slurmd "$pidfile" slurmd; fi
  if pid_alive "$pidfile" slurmd && node_usable; then
    log "slurmd: running (pid $(cat "$pidfile")), node $NODE_NAME $(node_state)"
    return
  fi
  if ! pid_alive "$pidfile" slurmd; then
    rm -f "$pidfile"
    log "slurmd: starting"
    started=$(date +%Y-%m-%dT%H:%M:%S)
    setsid /usr/sbin/slurmd </dev/null 9>&- >>"$TB_LOG/slurmd.stdout" 2>&1 ||
      die "slurmd failed to start" "$TB_LOG/slurmd.log" "$TB_LOG/slurmd.stdout"
  fi
  # slurmctld may restore the node as idle from saved state: wait for this slurmd to register.
  if [[ -n $started ]] && ! wait_for 30 node slurmd_registered_since "$started"; then
    die "slurmd did not register with slurmctld" "$TB_LOG/slurmd.log" "$TB_LOG/slurmctld.log"
  fi
  if ! wait_for 30 node node_usable; then
    local st
    st=$(node_state)
    if [[ $st =~ ^(drain|drained|draining|down) ]]; then
      log "slurmd: node is $st ($(sinfo -h -n "$NODE_NAME" -o %E)); resuming it"
      scontrol update NodeName="$NODE_NAME" State=RESUME || true
      wait_for 20 node node_usable ||
        die "node $NODE_NAME stays '$(node_state)': $(sinfo -h -n "$NODE_NAME" -o %E)" "$TB_LOG/slurmd.log" "$TB_LOG/slurmctld.log"
    else
      die "node $NODE_NAME is '${st:-unknown}', not idle" "$TB_LOG/slurmd.log" "$TB_LOG/slurmctld.log"
    fi
  fi
  log "slurmd: node $NODE_NAME is $(node_state)"
}

# ensure_ssh_user NAME [PASSPHRASE]: unix user with bash, unlocked for pubkey-only login, and an
# ed25519 identity at $TB_KEYS/NAME_ed25519 (encrypted when PASSPHRASE is given) in authorized_keys.
ensure_ssh_user() {
  local name=$1 passphrase=${2:-} key home
  key=$TB_KEYS/${name}_ed25519
  if ! id "$name" >/dev/null 2>&1; then
    log "user: creating $name"
    useradd -m -s /bin/bash -c "hpc-relay testbed" "$name"
  fi
  # useradd leaves the password field '!' (locked); with UsePAM no, sshd rejects locked accounts.
  if [[ $(getent shadow "$name" | cut -d: -f2) != '*' ]]; then usermod -p '*' "$name"; fi
  home=$(getent passwd "$name" | cut -d: -f6)
  [[ -d $home ]] || install -d -o "$name" -g "$name" -m 0755 "$home"
  chmod go-w "$home"
  if [[ ! -s $key || ! -s $key.pub ]]; then
    log "user: generating ed25519 identity $key"
    rm -f "$key" "$key.pub"
    ssh-keygen -q -t ed25519 -N "$passphrase" -C "$name@hpc-relay-testbed" -f "$key"
  fi
  chmod 0600 "$key"
  chmod 0644 "$key.pub"
  # A developer who ran `sudo up.sh` runs the tests as themselves: let them read the identity.
  if [[ -n ${SUDO_UID:-} && ${SUDO_UID} != 0 ]]; then chown "$SUDO_UID" "$key"; fi
  install -d -o "$name" -g "$name" -m 0700 "$home/.ssh"
  local ak=$home/.ssh/authorized_keys
  touch "$ak"
  grep -qxF "$(cat "$key.pub")" "$ak" || cat "$key.pub" >>"$ak"
  chown "$name:$name" "$ak"
  chmod 0600 "$ak"
}

# ensure_encrypted_key USER: a second ed25519 identity for USER at $TB_KEYS/USER_ed25519_enc,
# encrypted with a random passphrase kept (test-only) in $TB_KEYS/USER_ed25519_enc.passphrase,
# and authorized for USER. Kept as long as the passphrase still opens it.
ensure_encrypted_key() {
  local name=$1 key pass comment home ak
  key=$TB_KEYS/${name}_ed25519_enc
  pass=$key.passphrase
  comment="$name-encrypted@hpc-relay-testbed"
  if [[ ! -s $key || ! -s $key.pub || ! -s $pass ]] ||
    ! ssh-keygen -y -P "$(cat "$pass")" -f "$key" >/dev/null 2>&1; then
    log "user: generating encrypted ed25519 identity $key (passphrase in $pass)"
    rm -f "$key" "$key.pub" "$pass"
    (umask 077 && head -c 24 /dev/urandom | base64 | tr -dc 'A-Za-z0-9' >"$pass")
    ssh-keygen -q -t ed25519 -N "$(cat "$pass")" -C "$comment" -f "$key"
  fi
  chmod 0600 "$key" "$pass"
  chmod 0644 "$key.pub"
  if [[ -n ${SUDO_UID:-} && ${SUDO_UID} != 0 ]]; then chown "$SUDO_UID" "$key" "$pass"; fi
  home=$(getent passwd "$name" | cut -d: -f6)
  ak=$home/.ssh/authorized_keys
  if ! grep -qxF "$(cat "$key.pub")" "$ak"; then
    # Drop a previous encrypted key of ours (regenerated above), then authorize the current one.
    grep -vF " $comment" "$ak" >"$ak.tmp" || true
    cat "$key.pub" >>"$ak.tmp"
    mv -f "$ak.tmp" "$ak"
  fi
  chown "$name:$name" "$ak"
  chmod 0600 "$ak"
}

# ensure_sshd NAME PORT ALLOWUSERS [EXTRA_CONFIG]: a private sshd on 127.0.0.1:PORT with its own
# host key, config, pid file and log under $TB_SSHD/NAME. A bastion for ProxyJump is another call.
ensure_sshd() {
  local name=$1 port=$2 users=$3 extra=${4:-}
  local dir=$TB_SSHD/$name
  local cfg=$dir/sshd_config hostkey=$dir/ssh_host_ed25519_key pidfile=$dir/sshd.pid logf=$TB_LOG/sshd-$name.log
  install -d -m 0755 "$dir"
  [[ -s $hostkey ]] || ssh-keygen -q -t ed25519 -N '' -C "hpc-relay-testbed-$name" -f "$hostkey"
  chmod 0600 "$hostkey"
  echo "$port" >"$dir/port"
  local conf
  conf=$(
    cat <<EOF
# Generated by the hpc-relay testbed (test/testbed/up.sh). Independent of /etc/ssh/sshd_config.
Port $port
ListenAddress 127.0.0.1
HostKey $hostkey
PidFile $pidfile
UsePAM no
PasswordAuthentication no
KbdInteractiveAuthentication no
PubkeyAuthentication yes
PermitRootLogin no
AuthorizedKeysFile .ssh/authorized_keys
AllowUsers $users
StrictModes yes
MaxSessions 10
MaxStartups 50:30:100
MaxAuthTries 6
LoginGraceTime 30
AllowTcpForwarding yes
AllowAgentForwarding yes
X11Forwarding no
PrintMotd no
PrintLastLog no
AcceptEnv LANG LC_*
Subsystem sftp /usr/lib/openssh/sftp-server
LogLevel VERBOSE
$extra
EOF
  )
  local changed=0
  write_if_changed "$cfg" 0644 "$conf" && changed=1
  install -d -m 0755 /run/sshd # privilege-separation directory (normally made by systemd)
  /usr/sbin/sshd -t -f "$cfg" 2>"$dir/config-test.err" || die "sshd config $cfg is invalid" "$dir/config-test.err"
  if ((changed)); then stop_pidfile "sshd[$name]" "$pidfile" sshd; fi
  if pid_alive "$pidfile" sshd; then
    log "sshd[$name]: running (pid $(cat "$pidfile"), 127.0.0.1:$port)"
    return
  fi
  rm -f "$pidfile"
  log "sshd[$name]: starting on 127.0.0.1:$port"
  setsid /usr/sbin/sshd -f "$cfg" -E "$logf" </dev/null 9>&- >>"$logf" 2>&1 || die "sshd[$name] failed to start" "$logf"
  wait_for 10 "sshd $name" bash -c "exec 3<>/dev/tcp/127.0.0.1/$port" ||
    die "sshd[$name] is not listening on 127.0.0.1:$port" "$logf"
  pid_alive "$pidfile" sshd || die "sshd[$name] wrote no live pid file" "$logf"
}

write_known_hosts() {
  local content="" d port
  # The login sshd first (tests read its line as the first ssh-ed25519 entry), then the others.
  for d in "$TB_SSHD/main/" "$TB_SSHD"/*/; do
    [[ $d == "$TB_SSHD/main/" && -n $content ]] && continue
    [[ -s $d/port && -s $d/ssh_host_ed25519_key.pub ]] || continue
    port=$(cat "$d/port")
    content+="[127.0.0.1]:$port $(cut -d' ' -f1,2 "$d/ssh_host_ed25519_key.pub")"$'\n'
  done
  write_if_changed "$TESTBED_DIR/known_hosts" 0644 "${content%$'\n'}" || true
}

write_testbed_json() {
  local json
  json=$(
    cat <<EOF
{
  "host": "127.0.0.1",
  "port": $SSH_PORT,
  "user": $(json_str "$TEST_USER"),
  "identityFile": $(json_str "$TB_KEYS/${TEST_USER}_ed25519"),
  "knownHostsFile": $(json_str "$TESTBED_DIR/known_hosts"),
  "clusterName": $(json_str "$CLUSTER_NAME"),
  "partitions": ["gpu_normal", "gpu_dev"],
  "defaultPartition": "gpu_normal",
  "account": $(json_str "$SLURM_ACCOUNT"),
  "nodeName": $(json_str "$NODE_NAME"),
  "stateDir": $(json_str "$TESTBED_DIR"),
  "bastionPort": $BASTION_PORT,
  "encryptedIdentityFile": $(json_str "$TB_KEYS/${TEST_USER}_ed25519_enc"),
  "encryptedIdentityPassphraseFile": $(json_str "$TB_KEYS/${TEST_USER}_ed25519_enc.passphrase")
}
EOF
  )
  write_if_changed "$TESTBED_DIR/testbed.json" 0644 "$json" || true
}

# ---------------------------------------------------------------------------------------------
# Main
# ---------------------------------------------------------------------------------------------

need_cmd munged munge unmunge mariadbd mariadb mariadb-admin mariadb-install-db slurmdbd slurmctld slurmd \
  sinfo sbatch sacct sacctmgr scontrol ssh ssh-keygen flock setsid runuser useradd usermod
[[ -x /usr/sbin/sshd ]] || need_cmd sshd
[[ -x /usr/lib/openssh/sftp-server ]] || die "/usr/lib/openssh/sftp-server missing (package openssh-sftp-server)"

take_lock
log "state dir $TESTBED_DIR (node $NODE_NAME, cluster $CLUSTER_NAME)"
install -d -m 0755 "$TESTBED_DIR" "$TB_RUN" "$TB_LOG" "$TB_KEYS" "$TB_SSHD" "$TB_SLURM"
if [[ ! -s $TESTBED_DIR/slurmdbd.dbpass ]]; then
  (umask 077 && head -c 18 /dev/urandom | base64 | tr -dc 'A-Za-z0-9' >"$TESTBED_DIR/slurmdbd.dbpass")
fi
chmod 0600 "$TESTBED_DIR/slurmdbd.dbpass"
[[ -e /scratch ]] && log "note: /scratch exists on this machine; the app's remote dir default may differ"

ensure_munge
ensure_mariadb
write_slurm_configs
ensure_slurmdbd
ensure_ssh_user "$TEST_USER"
ensure_encrypted_key "$TEST_USER"
ensure_slurm_user "$TEST_USER"
ensure_slurmctld
ensure_slurmd
ensure_sshd main "$SSH_PORT" "$TEST_USER"
# A ProxyJump bastion: the same user may log in, but only to forward to the login sshd.
ensure_sshd bastion "$BASTION_PORT" "$TEST_USER" "PermitOpen 127.0.0.1:$SSH_PORT
ForceCommand /bin/echo 'hpc-relay testbed bastion: forwarding only'"
write_known_hosts
write_testbed_json
verify
log "testbed OK: $TESTBED_DIR/testbed.json"
