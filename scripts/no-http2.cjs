// undici's HTTP/2 client loads node:http2 as it is itself loaded, and falls back to nothing when Node lacks
// it. The bundles never ask undici for HTTP/2 (no allowH2), so they take that fallback rather than spend
// about 8 ms of every start-up loading node:http2 (npm run bench, "1st event"). See scripts/build.mjs.
throw new Error('node:http2 is left out of this bundle');
