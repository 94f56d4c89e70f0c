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
# A broken install would otherwise leave Node's stack trace, without a severity, in splunkd.log.
if [ ! -f "$script" ]; then
  echo "ERROR TA-sophos-central: $script is missing: reinstall the add-on." >&2
  exit 1
fi

# V8 heap settings. The collector keeps 15-30 MB live; the rest of its memory is garbage V8 collects late.
# - 4 MB semi-spaces: with V8's default 16 MB its young generation alone grows to about 48 MB under the
#   allocation rate of a large collection (1,000,000 events: ~155 MB peak RSS with 16, ~140 with 8, ~130 with 4).
# - Growing the old generation by 2.75x the live set between full collections instead of up to 4x: peak RSS
#   about 15% lower (four tenants at once: ~160 MB down to 130-143 MB) for about 5% more CPU per event
#   (npm run bench, CHANGELOG.md).
# - A first full collection once the old generation holds 48 MB, not at V8's small starting limit: a
#   100,000-item run collects twice instead of five times, 3-4% faster, for about 10 MB more at the peak of one
#   tenant's run (1,000,000 events: about 125 MB) and none with four tenants, whose heap outgrows it anyway.
heap_flags="--max-semi-space-size=4 --heap-growing-percent=175 --initial-old-space-size=48"
# Sparkplug, V8's baseline compiler (on by default), compiles each function at its first call instead of after
# it has run a while in the interpreter. The flag changes when, not what (V8 runs its test suite this way too):
# a run's first pages are read sooner, 3-4% of a 100,000-item run, for 3-5 MB (npm run bench, CHANGELOG.md).
# A Node that does not take it runs without it.
start_flags="--always-sparkplug"

# Prints the major version of the Node at $1, run with the rest of the arguments. Node rejects an option its
# V8 lacks even with --version, so this also tells whether it accepts them.
node_major() {
  v=$("$@" --version 2>/dev/null) || return 1
  v=${v#v}
  echo "${v%%.*}"
}

for candidate in "${SPLUNK_HOME:+$SPLUNK_HOME/bin/node}" "$(command -v node 2>/dev/null)"; do
  [ -n "$candidate" ] && [ -x "$candidate" ] || continue
  # The flags are unquoted on purpose: they split into their options.
  if major=$(node_major "$candidate" $heap_flags $start_flags); then
    flags="$heap_flags $start_flags"
  elif major=$(node_major "$candidate" $heap_flags); then
    flags=$heap_flags
  else
    major=$(node_major "$candidate") || continue
    flags=
  fi
  if [ "$major" -ge 20 ] 2>/dev/null; then
    # A later Node that dropped one of the V8 options would refuse to start with them: run without, and say so.
    [ -n "$flags" ] || echo "WARN TA-sophos-central: $candidate (v$major) does not accept $heap_flags; running without them, which uses more memory." >&2
    exec "$candidate" $flags "$script" "$@"
  fi
  found="$found $candidate (v$major)"
done

if [ -n "$found" ]; then
  echo "ERROR TA-sophos-central: Node.js 20 or newer is required, found only:$found. Install Node.js 20+ on this host." >&2
else
  echo "ERROR TA-sophos-central: Node.js 20 or newer is required, but neither \$SPLUNK_HOME/bin/node nor node on PATH exists. Install Node.js 20+ on this host." >&2
fi
exit 1
