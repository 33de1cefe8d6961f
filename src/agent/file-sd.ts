/**
 * file_sd_configs: target groups from YAML or JSON files (`[{targets: [...], labels: {...}}]`),
 * re-read when a file changes (checked by polling modification time and size) and at
 * refresh_interval. A file that fails to parse keeps its previous targets, as in Prometheus.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import YAML from 'yaml';
import { errorMessage } from '../errors.js';
import { labelMap, type FileSdConfig } from './config.js';
import type { TargetGroup } from './target.js';

export interface FileDiscoveryOptions {
  readonly pollMs?: number;
  readonly onError?: (file: string, message: string) => void;
}

export class FileDiscovery {
  private readonly byFile = new Map<string, TargetGroup[]>();
  private signature = '';
  private lastReadMs = 0;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly config: FileSdConfig,
    private readonly onChange: (groups: TargetGroup[]) => void,
    private readonly options: FileDiscoveryOptions = {},
  ) {}

  /** Reads the files now (so the first targets are known at once), then keeps watching. */
  start(): TargetGroup[] {
    this.refresh(true);
    const poll = (): void => {
      this.timer = setTimeout(() => {
        if (this.refresh(false)) this.onChange(this.groups());
        poll();
      }, this.options.pollMs ?? 1000);
      this.timer.unref();
    };
    poll();
    return this.groups();
  }

  stop(): void {
    clearTimeout(this.timer);
  }

  groups(): TargetGroup[] {
    return [...this.byFile.values()].flat();
  }

  /** Re-reads when the file set or a file's mtime/size changed, or refresh_interval passed. */
  private refresh(force: boolean): boolean {
    const files = this.files();
    const signature = files.map((f) => `${f}:${statSignature(f)}`).join('|');
    const due = Date.now() - this.lastReadMs >= this.config.refreshIntervalMs;
    if (!force && !due && signature === this.signature) return false;
    this.signature = signature;
    this.lastReadMs = Date.now();
    const before = JSON.stringify([...this.byFile]);
    for (const f of [...this.byFile.keys()]) if (!files.includes(f)) this.byFile.delete(f);
    for (const f of files) {
      try {
        this.byFile.set(f, readGroups(f));
      } catch (err) {
        this.options.onError?.(f, errorMessage(err));
      }
    }
    return JSON.stringify([...this.byFile]) !== before;
  }

  private files(): string[] {
    const out = new Set<string>();
    for (const pattern of this.config.files) {
      const dir = path.dirname(pattern);
      const base = path.basename(pattern);
      if (!base.includes('*')) {
        out.add(pattern);
        continue;
      }
      const re = new RegExp(`^${base.split('*').map(escapeRegex).join('[^/]*')}$`);
      let names: string[] = [];
      try {
        names = readdirSync(dir);
      } catch {
        // a missing folder lists no files
      }
      for (const name of names) if (re.test(name) && /\.(json|ya?ml)$/.test(name)) out.add(path.join(dir, name));
    }
    return [...out].sort();
  }
}

function readGroups(file: string): TargetGroup[] {
  const text = readFileSync(file, 'utf8');
  const doc: unknown = file.endsWith('.json') ? JSON.parse(text) : YAML.parse(text);
  if (doc === null || doc === undefined) return [];
  if (!Array.isArray(doc)) throw new Error('expected a list of target groups');
  return doc.map((g: unknown, i) => {
    if (g === null || typeof g !== 'object' || Array.isArray(g)) throw new Error(`group ${i} must be a mapping`);
    const o = g as Record<string, unknown>;
    for (const k of Object.keys(o)) if (k !== 'targets' && k !== 'labels') throw new Error(`group ${i}: unknown key ${k}`);
    const targets = o['targets'];
    if (!Array.isArray(targets) || !targets.every((t) => typeof t === 'string')) throw new Error(`group ${i}: targets must be a list of strings`);
    return {
      targets: targets as string[],
      labels: labelMap(o['labels'] ?? {}, `group ${i}.labels`),
      sourceLabels: [{ name: '__meta_filepath', value: file }],
    };
  });
}

function statSignature(file: string): string {
  try {
    const st = statSync(file);
    return `${st.mtimeMs}:${st.size}`;
  } catch {
    return 'missing';
  }
}

function escapeRegex(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
