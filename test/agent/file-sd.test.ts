import { expect } from 'chai';
import { rename, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { FileDiscovery } from '../../src/agent/file-sd.js';
import type { TargetGroup } from '../../src/agent/target.js';
import { tempDir } from '../helpers/tmp.js';

async function put(file: string, text: string): Promise<void> {
  await writeFile(`${file}.tmp`, text);
  await rename(`${file}.tmp`, file);
}

describe('agent file_sd', () => {
  it('reads YAML and JSON files by glob, notices changes and keeps targets of a broken file', async () => {
    const dir = await tempDir('agent-filesd');
    await put(path.join(dir, 'a.yml'), '- targets: ["h1:1"]\n  labels: {team: db}\n');
    await put(path.join(dir, 'b.json'), JSON.stringify([{ targets: ['h2:2'] }]));
    await put(path.join(dir, 'ignored.txt'), 'not a target file');
    const seen: TargetGroup[][] = [];
    const errors: string[] = [];
    const sd = new FileDiscovery({ files: [path.join(dir, '*')], refreshIntervalMs: 60_000 }, (g) => seen.push(g), {
      pollMs: 50,
      onError: (file, message) => errors.push(`${path.basename(file)}: ${message}`),
    });
    const first = sd.start();
    try {
      expect(first.map((g) => [g.targets, g.labels, g.sourceLabels?.[0]?.value])).to.deep.equal([
        [['h1:1'], [{ name: 'team', value: 'db' }], path.join(dir, 'a.yml')],
        [['h2:2'], [], path.join(dir, 'b.json')],
      ]);
      await put(path.join(dir, 'b.json'), JSON.stringify([{ targets: ['h2:2', 'h3:3'] }]));
      const deadline = Date.now() + 3000;
      while (seen.length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      expect(seen.at(-1)!.flatMap((g) => g.targets)).to.deep.equal(['h1:1', 'h2:2', 'h3:3']);
      await put(path.join(dir, 'a.yml'), '- targets: [unclosed\n');
      while (errors.length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      expect(errors[0]).to.match(/^a\.yml: /);
      expect(sd.groups().flatMap((g) => g.targets)).to.deep.equal(['h1:1', 'h2:2', 'h3:3']);
    } finally {
      sd.stop();
    }
  });
});
