#!/usr/bin/env bash
# Runs README's two quick-start commands in a fresh Debian 12 root made with debootstrap, as on a
# new machine, and prints how long each took. Needs root, debootstrap and the Debian mirror.
# usage: scripts/fresh-debian-check.sh [ROOT_DIR]   (default /var/tmp/sbench-fresh; removed first)
set -euo pipefail
src=$(cd "$(dirname "$0")/.." && pwd)
root=${1:-/var/tmp/sbench-fresh}
mirror=${SBENCH_MIRROR:-http://deb.debian.org/debian}

cleanup() {
  for m in dev/pts dev proc sys; do umount -l "$root/$m" 2>/dev/null || true; done
}
trap cleanup EXIT
cleanup
rm -rf "$root"
start=$(date +%s)
debootstrap bookworm "$root" "$mirror" > "$root.debootstrap.log" 2>&1 || { tail -20 "$root.debootstrap.log"; exit 1; }
echo "debootstrap: $(( $(date +%s) - start )) s"
cat > "$root/etc/apt/sources.list" <<SRC
deb $mirror bookworm main
deb $mirror bookworm-updates main
deb http://deb.debian.org/debian-security bookworm-security main
SRC
cp /etc/resolv.conf "$root/etc/resolv.conf"
mount -t proc proc "$root/proc"
mount -t sysfs sys "$root/sys"
mount --bind /dev "$root/dev"
mount --bind /dev/pts "$root/dev/pts"
# The checkout as a user has it: the committed tree (git is not on a fresh machine yet).
mkdir -p "$root/root/sbench"
git -C "$src" archive HEAD | tar -x -C "$root/root/sbench"

for cmd in "bash scripts/demo.sh" "bash scripts/test.sh"; do
  t0=$(date +%s)
  if chroot "$root" /usr/bin/env -i HOME=/root PATH=/usr/sbin:/usr/bin:/sbin:/bin TERM=dumb \
      bash -c "cd /root/sbench && $cmd" > "$root.$(echo "$cmd" | tr ' /' '__').log" 2>&1; then
    status=ok
  else
    status=FAILED
  fi
  echo "$cmd: $status in $(( $(date +%s) - t0 )) s (log: $root.$(echo "$cmd" | tr ' /' '__').log)"
  [ "$status" = ok ] || exit 1
done
