/**
 * Keeps a listener's TLS material current: re-reads the certificate, key and CA when their files
 * change or on SIGHUP, and hands a complete, checked set to its subscribers. A set that fails to
 * load (say, a file caught half-written) is logged and the previous one stays in force.
 */
import { errorMessage } from '../errors.js';
import { loadServerTlsMaterial, type ServerTlsFiles, type ServerTlsMaterial } from './options.js';
import { watchFiles, type FileWatch, type FileWatchOptions } from './watch.js';

export type TlsMaterialListener = (material: ServerTlsMaterial) => void;

export interface TlsReloaderOptions extends FileWatchOptions {
  /** Told of each reload, good or failed. */
  readonly log?: (level: 'info' | 'error', message: string) => void;
}

export class TlsReloader {
  private readonly listeners = new Set<TlsMaterialListener>();
  private readonly failureListeners = new Set<(err: unknown) => void>();
  private watch: FileWatch | undefined;
  private reloading: Promise<boolean> | undefined;
  private again = false;

  private constructor(
    readonly config: ServerTlsFiles,
    private material: ServerTlsMaterial,
    private readonly options: TlsReloaderOptions,
  ) {}

  /** Loads the files once (failing loudly: a server must not start without its certificate), then watches them. */
  static async open(config: ServerTlsFiles, options: TlsReloaderOptions = {}): Promise<TlsReloader> {
    const reloader = new TlsReloader(config, await loadServerTlsMaterial(config), options);
    const files = [config.certFile, config.keyFile, ...(config.caFile === undefined ? [] : [config.caFile])];
    reloader.watch = watchFiles(files, () => void reloader.reload(), {
      ...options,
      logError: (message) => options.log?.('error', `TLS reload: ${message}`),
    });
    return reloader;
  }

  /** The material in force. */
  get current(): ServerTlsMaterial {
    return this.material;
  }

  /** Calls listener with every newly loaded set; returns the unsubscribe function. */
  onReload(listener: TlsMaterialListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Calls listener with every load failure (the old material stays in force). */
  onReloadFailure(listener: (err: unknown) => void): () => void {
    this.failureListeners.add(listener);
    return () => this.failureListeners.delete(listener);
  }

  /** Re-reads the files now; true if a new set took effect. Overlapping calls are folded into one more pass. */
  reload(): Promise<boolean> {
    if (this.reloading !== undefined) {
      this.again = true;
      return this.reloading;
    }
    this.reloading = (async () => {
      let changed = false;
      do {
        this.again = false;
        changed = (await this.reloadOnce()) || changed;
      } while (this.again);
      return changed;
    })().finally(() => {
      this.reloading = undefined;
    });
    return this.reloading;
  }

  close(): void {
    this.watch?.close();
    this.listeners.clear();
    this.failureListeners.clear();
  }

  private async reloadOnce(): Promise<boolean> {
    let next: ServerTlsMaterial;
    try {
      next = await loadServerTlsMaterial(this.config);
    } catch (err) {
      this.options.log?.('error', `TLS reload failed, keeping the previous certificates: ${errorMessage(err)}`);
      for (const listener of this.failureListeners) listener(err);
      return false;
    }
    if (sameMaterial(next, this.material)) return false;
    this.material = next;
    this.options.log?.('info', `TLS certificates reloaded from ${this.config.certFile}`);
    for (const listener of this.listeners) {
      try {
        listener(next);
      } catch (err) {
        this.options.log?.('error', `TLS reload: applying the new certificates failed: ${errorMessage(err)}`);
      }
    }
    return true;
  }
}

function sameMaterial(a: ServerTlsMaterial, b: ServerTlsMaterial): boolean {
  const sameCa = a.ca === undefined || b.ca === undefined ? a.ca === b.ca : a.ca.equals(b.ca);
  return sameCa && a.cert.equals(b.cert) && a.key.equals(b.key);
}
