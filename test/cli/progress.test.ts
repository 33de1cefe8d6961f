import { expect } from 'chai';
import { createProgress } from '../../src/cli/progress.js';

describe('import progress', () => {
  it('redraws one line with a bar, percentage, MiB and samples on a terminal, then ends the line', () => {
    const written: string[] = [];
    const progress = createProgress(4 * 1024 * 1024, true, (t) => written.push(t));
    progress.update(1024 * 1024, 10);
    progress.update(4 * 1024 * 1024, 40);
    progress.done();
    expect(written).to.deep.equal([
      `\r[${'#'.repeat(8)}${'.'.repeat(22)}]  25%  1.0/4.0 MiB  10 samples`,
      `\r[${'#'.repeat(30)}] 100%  4.0/4.0 MiB  40 samples`,
      '\n',
    ]);
  });

  it('writes nothing when the output is not a terminal', () => {
    const written: string[] = [];
    const progress = createProgress(100, false, (t) => written.push(t));
    progress.update(50, 1);
    progress.done();
    expect(written).to.deep.equal([]);
  });
});
