#!/usr/bin/env node
// `sophos-central` (package.json "bin"): the standalone CLI. esbuild keeps the hashbang above.
import { FileCheckpointStore } from '../checkpoint/file-store.js';
import { runCleanupCommand } from '../cleanup/command.js';
import { runCli } from '../cli/main.js';
import { describeError, EXIT_FAILURE } from '../errors.js';

const controller = new AbortController();
for (const sig of ['SIGINT', 'SIGTERM'] as const) {
  process.once(sig, () => controller.abort());
}

runCli(process.argv.slice(2), {
  stdout: process.stdout,
  stderr: process.stderr,
  stdin: process.stdin,
  env: process.env,
  cwd: process.cwd(),
  signal: controller.signal,
  openStore: (dir) => new FileCheckpointStore(dir),
  cleanup: (argv) => runCleanupCommand(argv, { stdout: process.stdout, stderr: process.stderr, env: process.env, cwd: process.cwd() }),
}).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    process.stderr.write(`sophos-central: unexpected error: ${describeError(err)}\n`);
    process.exitCode = EXIT_FAILURE;
  },
);
