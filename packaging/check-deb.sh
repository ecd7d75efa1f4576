#!/bin/sh
# Installs a slipway .deb on a clean Debian 12 and checks the service there:
# debootstrap makes a minimal bookworm root, apt installs the package with
# its dependencies, and systemd-nspawn boots the root with systemd as PID 1.
# The service must then start with the packaged example pipeline, normalize
# the demo alerts, reload on `systemctl reload` and drain on stop.
#
#   sudo packaging/check-deb.sh build-deb/slipway_0.1.0_amd64.deb [WORK_DIR]
#
# Needs root, the debootstrap and systemd-container packages, and Debian's
# package mirror. WORK_DIR keeps the bootstrapped base between runs
# (default /var/tmp/slipway-check-deb); each run installs into a fresh copy.
set -eu

deb=$(realpath "$1")
work=${2:-/var/tmp/slipway-check-deb}
mirror=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
base="$work/base"
root="$work/root"

fail() {
  echo "check-deb: $*" >&2
  exit 1
}

# Polls `condition` (a shell command run inside the container) for up to
# 30 seconds.
wait_in_container() {
  condition=$1
  for _ in $(seq 150); do
    if nsenter -t "$init_pid" -a sh -c "$condition" 2>/dev/null; then
      return 0
    fi
    sleep 0.2
  done
  return 1
}

in_container() {
  nsenter -t "$init_pid" -a "$@"
}

for tool in debootstrap systemd-nspawn nsenter; do
  command -v "$tool" >/dev/null || fail "$tool is missing: apt-get install debootstrap systemd-container util-linux"
done
[ -f "$deb" ] || fail "no package at $1: build it with make deb"

# A minimal bookworm with systemd, made once and copied for every run.
if [ ! -x "$base/lib/systemd/systemd" ]; then
  rm -rf "$base"
  mkdir -p "$work"
  debootstrap --variant=minbase --include=systemd,systemd-sysv,dbus bookworm "$base" "$mirror"
fi
rm -rf "$root"
cp -a "$base" "$root"

# apt resolves the package's dependencies from the mirror, as on a real host.
cp "$deb" "$root/root/"
cp /etc/resolv.conf "$root/etc/resolv.conf"
chroot "$root" sh -c "apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq /root/$(basename "$deb")"
chroot "$root" systemctl enable slipway
chroot "$root" systemd-machine-id-setup
mkdir -p "$root/var/lib/slips/output"
cp "$root/usr/share/slipway/pipelines/demo/data/alerts-slips-1.1-idmefv2.json" "$root/var/lib/slips/output/alerts.json"
expected=$(wc -l < "$root/var/lib/slips/output/alerts.json")

# --register=no and --keep-unit let nspawn run where the host has no systemd.
systemd-nspawn -D "$root" -b --register=no --keep-unit --console=passive > "$work/nspawn.log" 2>&1 &
nspawn_pid=$!
trap 'kill "$nspawn_pid" 2>/dev/null || true' EXIT
for _ in $(seq 150); do
  init_pid=$(pgrep -P "$nspawn_pid" systemd || true)
  [ -n "$init_pid" ] && break
  sleep 0.2
done
[ -n "$init_pid" ] || fail "the container did not boot; see $work/nspawn.log"

archive=/var/log/slipway/alerts.idea.json
wait_in_container "[ \"\$(wc -l < $archive)\" -eq $expected ]" ||
  fail "the service did not write $expected records to $archive: $(in_container systemctl status slipway --no-pager)"
echo "check-deb: service started at boot and wrote $expected IDEA0 records"

head -n 5 "$root/usr/share/slipway/pipelines/demo/data/alerts-slips-1.0.13.json" >> "$root/var/lib/slips/output/alerts.json"
in_container systemctl reload slipway
wait_in_container "[ \"\$(wc -l < $archive)\" -eq $((expected + 5)) ]" || fail "records appended after the reload did not arrive"
in_container journalctl -u slipway -o cat --no-pager | grep -q "Reloaded the pipeline file" || fail "the service did not log its reload"
echo "check-deb: reload kept the service running and appended alerts arrived"

in_container systemctl stop slipway
in_container journalctl -u slipway -o cat --no-pager | grep -q "Stopped. dead_letter_file" || fail "the service did not drain on stop"
in_container systemctl is-failed slipway >/dev/null && fail "the service failed on stop"
echo "check-deb: stop drained the pipeline"

in_container systemctl poweroff
wait "$nspawn_pid" || true
trap - EXIT
echo "check-deb: passed"
