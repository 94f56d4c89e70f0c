import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const FIXTURES = join(ROOT, '..', 'shared', 'fixtures');
export const BUNDLE = join(ROOT, 'bin', 'app', 'sophos_central.js');
export const WRAPPER = join(ROOT, 'bin', 'sophos_central.sh');
