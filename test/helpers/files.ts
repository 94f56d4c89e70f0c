import { readdirSync } from 'node:fs';
import { join } from 'node:path';

/** Every file under `dir`, at any depth. */
export function filesUnder(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((d) => d.isFile())
    // parentPath since Node 20.12; the Node 20 releases before it name the same thing path.
    .map((d) => join(d.parentPath ?? (d as unknown as { path: string }).path, d.name));
}
