#!/bin/sh
# Installs (or upgrades in place) the EdgeStream node that sits next to this script as a systemd service.
#   sudo ./install.sh                  install or upgrade: binary, unit, config (kept if present), data dir, user
#   sudo ./install.sh --uninstall      stop and remove the service and binary; keep config and data
#   sudo ./install.sh --uninstall --purge   also remove /etc/edgestream, /var/lib/edgestream and the user
# Options: --root DIR installs under DIR instead of / (packaging and tests: no user, no chown, no systemctl),
#          --bindir DIR puts the binary in DIR (default /usr/local/bin).
set -eu

here=$(cd "$(dirname "$0")" && pwd)
root=/
bindir=/usr/local/bin
action=install
purge=no
while [ $# -gt 0 ]; do
  case "$1" in
    --uninstall) action=uninstall ;;
    --purge) purge=yes ;;
    --root) root=${2:?--root needs a directory}; shift ;;
    --bindir) bindir=${2:?--bindir needs a directory}; shift ;;
    -h|--help) sed -n '2,7p' "$0"; exit 0 ;;
    *) echo "install.sh: unknown option $1 (see --help)" >&2; exit 2 ;;
  esac
  shift
done
[ "$purge" = yes ] && [ "$action" != uninstall ] && { echo "install.sh: --purge goes with --uninstall" >&2; exit 2; }

root=${root%/}
# Only a real install (into /) touches users, ownership and systemd; --root lays out files only.
live=no
[ -z "$root" ] && live=yes
if [ "$live" = yes ] && [ "$(id -u)" -ne 0 ]; then
  echo "install.sh: run as root (sudo ./install.sh)" >&2
  exit 1
fi

user=edgestream
etc="$root/etc/edgestream"
data="$root/var/lib/edgestream"
unitdir="$root/etc/systemd/system"
bin="$root$bindir/edgestream"
has_systemd() { [ "$live" = yes ] && command -v systemctl >/dev/null 2>&1 && [ -d /run/systemd/system ]; }

if [ "$action" = uninstall ]; then
  if has_systemd; then
    systemctl disable --now edgestream.service >/dev/null 2>&1 || true
  fi
  rm -f "$unitdir/edgestream.service" "$bin"
  has_systemd && systemctl daemon-reload
  if [ "$purge" = yes ]; then
    rm -rf "$etc" "$data"
    if [ "$live" = yes ] && id "$user" >/dev/null 2>&1; then userdel "$user" 2>/dev/null || true; fi
    echo "edgestream removed, with its configuration and data."
  else
    echo "edgestream removed; configuration in $etc and data in $data kept (--uninstall --purge removes them)."
  fi
  exit 0
fi

for f in edgestream edgestream.service config.json; do
  [ -f "$here/$f" ] || { echo "install.sh: $here/$f is missing; run me from the unpacked archive" >&2; exit 1; }
done

upgrade=no
[ -f "$bin" ] && upgrade=yes

if [ "$live" = yes ] && ! id "$user" >/dev/null 2>&1; then
  # A system user with no login and no home of its own: it only owns the data directory.
  useradd --system --user-group --home-dir /var/lib/edgestream --no-create-home --shell /usr/sbin/nologin "$user"
fi

mkdir -p "$root$bindir" "$etc" "$data" "$unitdir"
# install(1) unlinks the old file before writing the new one, so a running binary is replaced without ETXTBSY.
install -m 0755 "$here/edgestream" "$bin"
sed "s#^ExecStart=[^ ]*/edgestream #ExecStart=$bindir/edgestream #" "$here/edgestream.service" > "$unitdir/edgestream.service.new"
chmod 0644 "$unitdir/edgestream.service.new"
mv -f "$unitdir/edgestream.service.new" "$unitdir/edgestream.service"
if [ -f "$etc/config.json" ]; then
  # Never overwrite an operator's configuration; leave the new default beside it for comparison.
  install -m 0644 "$here/config.json" "$etc/config.json.default"
else
  install -m 0644 "$here/config.json" "$etc/config.json"
fi
chmod 0750 "$data"
if [ "$live" = yes ]; then
  chown -R "$user:$user" "$data"
fi

if has_systemd; then
  systemctl daemon-reload
  systemctl enable edgestream.service >/dev/null
  if [ "$upgrade" = yes ]; then systemctl restart edgestream.service; else systemctl start edgestream.service; fi
  echo "edgestream $("$bin" version | cut -d' ' -f2) $([ "$upgrade" = yes ] && echo upgraded || echo installed); running as edgestream.service (journalctl -u edgestream)."
else
  echo "edgestream $([ "$upgrade" = yes ] && echo upgraded || echo installed) under ${root:-/}; no systemd here: start it with $bindir/edgestream run --config /etc/edgestream/config.json"
fi
