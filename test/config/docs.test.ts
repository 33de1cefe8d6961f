import { readFileSync } from 'node:fs';
import { expect } from 'chai';
import { defaultText, flagOf, SETTINGS } from '../../src/config/schema.js';

const DOC = readFileSync(new URL('../../docs/configuration.md', import.meta.url), 'utf8');

/** Table rows of the settings tables: cells by column, keyed by the setting's YAML key. */
function documentedRows(): Map<string, string[]> {
  const rows = new Map<string, string[]>();
  for (const line of DOC.split('\n')) {
    const m = /^\| `([a-z_.]+)` \|/.exec(line);
    if (m === null) continue;
    const cells = line
      .slice(1, -1)
      .split(/(?<!\\)\|/)
      .map((c) => c.trim());
    rows.set(m[1]!, cells);
  }
  return rows;
}

describe('docs/configuration.md', () => {
  const rows = documentedRows();

  it('documents every setting of the schema', () => {
    const missing = SETTINGS.map((s) => s.key).filter((key) => !rows.has(key));
    expect(missing, 'settings missing from docs/configuration.md').to.deep.equal([]);
  });

  it('documents no setting the schema lacks', () => {
    const known = new Set(SETTINGS.map((s) => s.key));
    expect([...rows.keys()].filter((key) => !known.has(key)), 'documented but not in the schema').to.deep.equal([]);
  });

  it('gives each setting its environment variable, flag and default as the schema has them', () => {
    for (const s of SETTINGS) {
      const [, , defaultCell, envCell, flagCell] = rows.get(s.key) ?? [];
      const d = defaultText(s);
      expect(defaultCell, `${s.key} default`).to.equal(d === undefined ? '—' : `\`${d}\``);
      expect(envCell, `${s.key} environment`).to.equal(s.env === undefined ? '—' : `\`${s.env}\``);
      expect(flagCell, `${s.key} flag`).to.equal(`\`${flagOf(s)}\``);
    }
  });
});
