// What the bundles take from undici: its dispatchers and their request API. undici's index also loads
// fetch, WebSocket, EventSource, the cache and the mock agents, with the Node modules they need; none of
// them is used here, and loading them cost the modular input about 20 ms of start-up on every run
// (npm run bench, "1st event"). scripts/build.mjs points the bundles' `undici` here; src/ keeps importing
// 'undici' itself, so its types and the tests are undici's own. The paths below are undici's own files, not an
// interface it promises: an upgrade of undici fails the build if they move, and test/e2e/startup.test.ts and the
// end-to-end tests run the bundle.
const Dispatcher = require('undici/lib/dispatcher/dispatcher');

// As undici's index does: the request API (request, stream, pipeline...) is mixed into every dispatcher.
Object.assign(Dispatcher.prototype, require('undici/lib/api'));

module.exports = {
  Agent: require('undici/lib/dispatcher/agent'),
  ProxyAgent: require('undici/lib/dispatcher/proxy-agent'),
};
