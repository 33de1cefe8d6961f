/**
 * Calls back when any of a few files may have changed: their directories are watched (a file
 * replaced by rename keeps no watch of its own), events are debounced, and SIGHUP forces a call.
 */
import { watch, type FSWatcher } from 'node:fs';
import path from 'node:path';

export interface FileWatchOptions {
  /** Quiet time after the last event before the callback runs (default 200 ms). */
  readonly debounceMs?: number;
  /** Also call back on SIGHUP (default true). */
  readonly sighup?: boolean;
  /** Watch the directories (default true); false leaves SIGHUP as the only trigger. */
  readonly watchFiles?: boolean;
  /** Where watcher failures are reported. */
  readonly logError?: (message: string) => void;
}

export interface FileWatch {
  close(): void;
}

const DEFAULT_DEBOUNCE_MS = 200;

export function watchFiles(files: readonly string[], onChange: () => void, options: FileWatchOptions = {}): FileWatch {
  const debounceMs = options.debounceMs ?? DEFAULT_DEBOUNCE_MS;
  let timer: NodeJS.Timeout | undefined;
  let closed = false;
  const schedule = (): void => {
    if (closed) return;
    if (timer !== undefined) clearTimeout(timer);
    timer = setTimeout(() => {
      timer = undefined;
      if (!closed) onChange();
    }, debounceMs);
  };

  const namesByDir = new Map<string, Set<string>>();
  for (const file of files) {
    const dir = path.dirname(path.resolve(file));
    const names = namesByDir.get(dir) ?? new Set<string>();
    names.add(path.basename(file));
    namesByDir.set(dir, names);
  }
  const watchers: FSWatcher[] = [];
  if (options.watchFiles ?? true) {
    for (const [dir, names] of namesByDir) {
      try {
        const watcher = watch(dir, { persistent: false }, (_event, name) => {
          // Some platforms omit the name; then any change in the directory counts.
          if (name === null || names.has(name.toString())) schedule();
        });
        watcher.on('error', (err) => options.logError?.(`watching ${dir}: ${err.message}`));
        watchers.push(watcher);
      } catch (err) {
        options.logError?.(`cannot watch ${dir}: ${err instanceof Error ? err.message : String(err)}`);
      }
    }
  }
  const onSighup = (): void => schedule();
  const sighup = options.sighup ?? true;
  if (sighup) process.on('SIGHUP', onSighup);

  return {
    close: () => {
      closed = true;
      if (timer !== undefined) clearTimeout(timer);
      for (const watcher of watchers) watcher.close();
      if (sighup) process.off('SIGHUP', onSighup);
    },
  };
}
