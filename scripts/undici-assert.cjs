// undici checks its own invariants with node:assert, called as assert(value) and nothing else. Loading
// node:assert (its AssertionError, colours, call tracker) takes 2 ms in a fresh Node, 9 ms with the wrappers'
// --always-sparkplug, on every start-up of every input; without it the input's first request to splunkd left
// about 2 ms sooner (a preload timing six runs). scripts/build.mjs points undici's node:assert here. A failed
// check means a bug in undici, thrown as node:assert would, by name and code.
module.exports = function assert(value, message) {
  if (value) return;
  if (message instanceof Error) throw message;
  const err = new Error(message ?? 'The expression evaluated to a falsy value');
  err.name = 'AssertionError';
  err.code = 'ERR_ASSERTION';
  throw err;
};
