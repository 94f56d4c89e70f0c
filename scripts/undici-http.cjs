// undici's node:http (scripts/build.mjs). undici takes two things from it: IncomingMessage, to tell node:http's
// messages (a server's requests, a client's responses) from other streams it is asked to destroy, and
// maxHeaderSize, the default limit on a response's headers. Loading node:http (its server, agent and parser with
// it) took about 5 ms of every run's start-up here, for neither: these bundles use node:http neither as a server
// nor as a client, so no IncomingMessage ever reaches undici (this class has no instances), and the limit is
// Node's own default, 16 KiB, which only --max-http-header-size changes; neither splunkd nor the wrappers pass it.
class IncomingMessage {}

module.exports = { IncomingMessage, maxHeaderSize: 16 * 1024 };
