/** The repository's .nix files and the module's settings-keys block, for the Nix tests. */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';

export const REPO_ROOT = path.resolve(import.meta.dirname, '..', '..');
export const MODULE_FILE = path.join(REPO_ROOT, 'nix', 'modules', 'metricstor.nix');

const SKIPPED_DIRS = new Set(['node_modules', 'dist', '.git', 'test-output', 'data', 'result']);

/** Every .nix file under the repository root, as repository-relative paths. */
export function nixFiles(dir: string = REPO_ROOT): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (entry.isDirectory()) {
      if (!SKIPPED_DIRS.has(entry.name)) out.push(...nixFiles(path.join(dir, entry.name)));
    } else if (entry.isFile() && entry.name.endsWith('.nix')) {
      out.push(path.relative(REPO_ROOT, path.join(dir, entry.name)));
    }
  }
  return out.sort();
}

/**
 * The dotted YAML keys the module writes: the quoted attribute names between the
 * `# BEGIN settings-keys` and `# END settings-keys` lines.
 */
export function moduleSettingsKeys(text: string = readFileSync(MODULE_FILE, 'utf8')): string[] {
  const begin = text.indexOf('# BEGIN settings-keys');
  const end = text.indexOf('# END settings-keys');
  if (begin < 0 || end < begin) throw new Error('the module has no settings-keys block');
  const block = text.slice(begin, end);
  return [...block.matchAll(/^\s*"([^"]+)"\s*=/gm)].map((m) => m[1]!);
}
