/** A one-line progress bar redrawn on a terminal; silent otherwise. */
export interface Progress {
  update(doneBytes: number, samples: number): void;
  done(): void;
}

const WIDTH = 30;

export function createProgress(totalBytes: number, isTty: boolean, write: (text: string) => void): Progress {
  if (!isTty) return { update: () => undefined, done: () => undefined };
  let drawn = false;
  return {
    update(doneBytes, samples) {
      const fraction = totalBytes === 0 ? 1 : Math.min(1, doneBytes / totalBytes);
      const filled = Math.round(fraction * WIDTH);
      const bar = `${'#'.repeat(filled)}${'.'.repeat(WIDTH - filled)}`;
      write(`\r[${bar}] ${(fraction * 100).toFixed(0).padStart(3)}%  ${mib(doneBytes)}/${mib(totalBytes)} MiB  ${samples} samples`);
      drawn = true;
    },
    done() {
      if (drawn) write('\n');
      drawn = false;
    },
  };
}

function mib(bytes: number): string {
  return (bytes / 1024 / 1024).toFixed(1);
}
