/** Every settings key the NixOS module writes is a key the server's configuration accepts. */
import { readFileSync } from 'node:fs';
import { expect } from 'chai';
import { settingByKey } from '../../src/config/schema.js';
import { MODULE_FILE, moduleSettingsKeys } from './nix-files.js';

describe('NixOS module settings keys', () => {
  const text = readFileSync(MODULE_FILE, 'utf8');
  const keys = moduleSettingsKeys(text);

  it('finds the typed options in the settings-keys block', () => {
    // The options the module promises: listeners, data, retention, TLS and FlareDB.
    for (const key of ['server.http_addr', 'server.grpc_addr', 'storage.data_dir', 'storage.retention_days', 'server.tls.cert_file', 'storage.flaredb.endpoints']) {
      expect(keys, key).to.include(key);
    }
    expect(new Set(keys).size, 'no key written twice').to.equal(keys.length);
  });

  it('writes only keys the server schema accepts', () => {
    const unknown = keys.filter((key) => settingByKey(key) === undefined);
    expect(unknown, 'keys the server would reject as unknown').to.deep.equal([]);
  });

  it('writes settings only through the settings-keys block', () => {
    // One assignment of services.metricstor.settings, built from typedSettings.
    const assignments = [...text.matchAll(/services\.metricstor\.settings\s*=\s*(.*);/g)].map((m) => m[1]);
    expect(assignments).to.deep.equal(['nestSettings typedSettings']);
  });

  it('rejects a key the server does not know (the check can fail)', () => {
    const sample = '# BEGIN settings-keys\n  typedSettings = {\n    "server.http_address" = cfg.httpAddress;\n  };\n  # END settings-keys\n';
    expect(moduleSettingsKeys(sample).filter((key) => settingByKey(key) === undefined)).to.deep.equal(['server.http_address']);
  });

  it('never opens with `with lib;`', () => {
    expect(text).not.to.match(/^\s*with\s+lib\s*;/m);
  });
});
