#!/bin/sh
# splunkd runs this for the sophos_central modular input. It starts the bundled add-on with
# $SPLUNK_HOME/bin/node when that is Node 20 or newer, otherwise with node on PATH.
# Arguments and stdin pass through unchanged (exec keeps the pid, so SIGTERM reaches Node).
dir=$(cd "$(dirname "$0")" && pwd)
# The alert-action wrapper reuses this Node lookup for its own bundle (bin/sophos_central_cleanup.sh).
case "$TA_SOPHOS_CENTRAL_ENTRY" in
  sophos_central_cleanup) script="$dir/app/sophos_central_cleanup.js" ;;
  *) script="$dir/app/sophos_central.js" ;;
esac

node_major() {
  v=$("$1" --version 2>/dev/null) || return 1
  v=${v#v}
  echo "${v%%.*}"
}

for candidate in "${SPLUNK_HOME:+$SPLUNK_HOME/bin/node}" "$(command -v node 2>/dev/null)"; do
  [ -n "$candidate" ] && [ -x "$candidate" ] || continue
  major=$(node_major "$candidate") || continue
  if [ "$major" -ge 20 ] 2>/dev/null; then
    # 4 MB semi-spaces: the collector's live heap stays under 15 MB, but with V8's default 16 MB
    # semi-spaces its young generation alone grows to about 48 MB under the allocation rate of a large
    # collection. With 4 MB the peak RSS of 1,000,000 events drops from ~155 MB to ~130 MB, for 5-10%
    # more CPU; 8 MB measured ~140 MB, too close to the 150 MB budget (npm run bench, CHANGELOG.md).
    exec "$candidate" --max-semi-space-size=4 "$script" "$@"
  fi
  found="$found $candidate (v$major)"
done

if [ -n "$found" ]; then
  echo "ERROR TA-sophos-central: Node.js 20 or newer is required, found only:$found. Install Node.js 20+ on this host." >&2
else
  echo "ERROR TA-sophos-central: Node.js 20 or newer is required, but neither \$SPLUNK_HOME/bin/node nor node on PATH exists. Install Node.js 20+ on this host." >&2
fi
exit 1
