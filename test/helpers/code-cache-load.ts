// A process that loads one file through requireCompiled, as the input's loader does, and prints how that went
// and what the file exported; it keeps the cache as it exits. Arguments: the file, then the cache directory
// (none: no cache).
import { requireCompiled } from '../../src/code-cache.js';

const [file, cacheDir] = process.argv.slice(2) as [string, string | undefined];
const loaded = requireCompiled(file, cacheDir);
process.once('exit', loaded.keep);
process.stdout.write(JSON.stringify({ cache: loaded.cache, exports: loaded.exports }));
