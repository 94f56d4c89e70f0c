#!/bin/sh
# splunkd runs this for the sophos_central_cleanup custom alert action (default/alert_actions.conf),
# with --execute and the JSON payload on stdin. sophos_central.sh finds Node 20+ and runs
# bin/app/sophos_central_cleanup.js; arguments and stdin pass through unchanged.
TA_SOPHOS_CENTRAL_ENTRY=sophos_central_cleanup exec "$(cd "$(dirname "$0")" && pwd)/sophos_central.sh" "$@"
