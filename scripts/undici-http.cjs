// undici's node:http (scripts/build.mjs). undici takes two things from it: IncomingMessage, to tell a Node
// server's request from other streams it is asked to destroy, and maxHeaderSize, the default limit on a
// response's headers. Loading node:http (its server, agent and parser with it) took about 5 ms of every run's
// start-up here, for neither: these bundles run no server, so no IncomingMessage ever reaches undici (this
// class has no instances), and the limit is Node's own default, 16 KiB, which only --max-http-header-size
// changes; neither splunkd nor the wrappers pass that option.
class IncomingMessage {}

module.exports = { IncomingMessage, maxHeaderSize: 16 * 1024 };
