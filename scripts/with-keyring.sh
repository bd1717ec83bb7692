#!/usr/bin/env bash
# Runs a command with a private, unlocked Secret Service (gnome-keyring on its own D-Bus session),
# so keytar talks to a real keychain in tests without touching the developer's own keyrings.
set -euo pipefail
if [ "${HPC_RELAY_KEYRING:-}" = "outer" ] || ! command -v dbus-run-session >/dev/null || ! command -v gnome-keyring-daemon >/dev/null; then
  exec "$@"
fi
export XDG_DATA_HOME
XDG_DATA_HOME=$(mktemp -d /tmp/hpc-relay-keyring.XXXXXX)
export HPC_RELAY_KEYRING=outer
exec dbus-run-session -- bash -c 'echo -n hpc-relay-test | gnome-keyring-daemon --unlock --components=secrets >/dev/null; exec "$@"' bash "$@"
