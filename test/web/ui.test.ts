/**
 * The web UI end to end: a real server with pushed samples, the page driven in headless Chromium.
 * Needs Debian's chromium; skipped (loudly) without it unless CI=true, where its absence fails.
 */
import { existsSync } from 'node:fs';
import { mkdir, rm } from 'node:fs/promises';
import path from 'node:path';
import { expect } from 'chai';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { buildWeb } from '../../scripts/build-web.mjs';
import { startServer, type RunningServer } from '../../src/server.js';
import { testConfig } from '../api/config.js';
import { generateSeries, pushRemoteWrite } from '../api/push.js';
import { tempDir } from '../helpers/tmp.js';

const CHROMIUM = '/usr/bin/chromium';
const SCREENSHOT_DIR = path.resolve('test-output');

/** Page-side conditions, as strings: this project's type-check has no DOM library. */
const suggested = (item: string): string =>
  `[...document.querySelectorAll('#suggestions li')].some((li) => li.textContent === ${JSON.stringify(item)})`;
const tableRows = (n: number): string => `document.querySelectorAll('#result-table tbody td.series').length === ${n}`;

describe('web UI in headless Chromium', function () {
  this.timeout(60_000);
  let dataDir: string;
  let profileDir: string;
  let server: RunningServer;
  let base: string;
  let browser: BrowserContext;
  let page: Page;
  const pageErrors: string[] = [];

  before(async function () {
    if (!existsSync(CHROMIUM)) {
      if (process.env['CI'] === 'true') throw new Error(`${CHROMIUM} is missing; .ci/run installs Debian's chromium`);
      console.warn(`\n    SKIPPED: ${CHROMIUM} not found; the web UI end-to-end test did not run\n`);
      this.skip();
    }
    await buildWeb();
    dataDir = await tempDir('web-ui');
    profileDir = await tempDir('web-ui-chromium');
    server = await startServer(testConfig(dataDir));
    base = `http://${server.httpAddress}`;
    // Fifteen minutes of node_exporter-like data up to now, so the default 1h range shows it, and
    // five more into the future, so a [1m] window at any moment of the test holds 4 or 5 samples.
    await pushRemoteWrite(base, generateSeries(Math.floor(Date.now() / 15_000) * 15_000 + 300_000, 81, 15_000));
    browser = await chromium.launchPersistentContext(profileDir, {
      executablePath: CHROMIUM,
      headless: true,
      viewport: { width: 1280, height: 900 },
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
    });
    page = browser.pages()[0] ?? (await browser.newPage());
    page.on('pageerror', (err) => pageErrors.push(err.message));
  });

  after(async () => {
    await browser?.close();
    await server?.close();
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
    if (profileDir) await rm(profileDir, { recursive: true, force: true });
  });

  it('serves the page and its assets with content types and caching headers', async () => {
    const index = await fetch(`${base}/`);
    expect(index.status).to.equal(200);
    expect(index.headers.get('content-type')).to.equal('text/html; charset=utf-8');
    expect(index.headers.get('cache-control')).to.equal('no-cache');
    const html = await index.text();
    const script = /src="(assets\/app-[^"]+\.js)"/.exec(html)?.[1];
    expect(script, 'index.html names the bundle').to.be.a('string');
    const js = await fetch(`${base}/${script!}`);
    expect(js.status).to.equal(200);
    expect(js.headers.get('content-type')).to.equal('text/javascript; charset=utf-8');
    expect(js.headers.get('cache-control')).to.contain('immutable');
    const again = await fetch(`${base}/${script!}`, { headers: { 'if-none-match': js.headers.get('etag')! } });
    expect(again.status).to.equal(304);
    for (const probe of ['/assets/..%2F..%2Fpackage.json', '/assets/%2e%2e%2findex.html', '/assets/../../package.json', '/assets/nope.js']) {
      const res = await fetch(`${base}${probe}`);
      expect(res.status, probe).to.equal(404);
      expect(await res.text(), probe).not.to.contain('"name"');
    }
  });

  it('runs a query: rows in the table and a drawn chart', async () => {
    await page.goto(`${base}/`);
    await page.fill('#expr', 'node_load1');
    await page.press('#expr', 'Enter');
    await page.waitForSelector('#result-table tbody tr td.series');
    const rows = await page.$$eval('#result-table tbody tr', (trs) =>
      trs.map((tr) => [...tr.querySelectorAll('td')].map((td) => td.textContent ?? '')),
    );
    expect(rows).to.have.length(3);
    expect(rows.map((r) => r[0]).sort()).to.deep.equal([0, 1, 2].map((h) => `node_load1{instance="host-${h}:9100", job="node"}`));
    for (const [, value] of rows) expect(Number(value)).to.be.within(0, 2);
    await page.waitForSelector('#chart canvas');
    // Runs in the page (a string: this project's type-check has no DOM library).
    const painted = await page.evaluate<number>(`(() => {
      const canvas = document.querySelector('#chart canvas');
      const pixels = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data;
      let coloured = 0;
      for (let i = 0; i < pixels.length; i += 4) {
        // Line colours are saturated; axes, grid and text are grey (r = g = b).
        const r = pixels[i], g = pixels[i + 1], b = pixels[i + 2], a = pixels[i + 3];
        if (a > 0 && Math.max(r, g, b) - Math.min(r, g, b) > 60) coloured++;
      }
      return coloured;
    })()`);
    expect(painted, 'coloured line pixels on the chart canvas').to.be.greaterThan(100);
    const legend = await page.$$eval('.u-legend .u-series', (els) => els.length);
    expect(legend).to.equal(4); // the time column and three series
    expect(await page.isHidden('#error')).to.equal(true);
    await mkdir(SCREENSHOT_DIR, { recursive: true });
    await page.screenshot({ path: path.join(SCREENSHOT_DIR, 'web-ui.png'), fullPage: true });
  });

  it('suggests metric names, label names and label values from the API', async () => {
    await page.goto(`${base}/`);
    await page.click('#expr');
    await page.keyboard.type('node_c');
    await page.waitForSelector('#suggestions li');
    expect(await page.$$eval('#suggestions li', (lis) => lis.map((li) => li.textContent))).to.include('node_cpu_seconds_total');
    await page.keyboard.press('Tab');
    expect(await page.inputValue('#expr')).to.equal('node_cpu_seconds_total');

    await page.keyboard.type('{mo');
    await page.waitForFunction(suggested('mode'));
    await page.keyboard.press('Enter');
    expect(await page.inputValue('#expr')).to.equal('node_cpu_seconds_total{mode');

    await page.keyboard.type('="s');
    await page.waitForFunction(suggested('system'));
    const values = await page.$$eval('#suggestions li', (lis) => lis.map((li) => li.textContent));
    // Values starting with the prefix come first, then those containing it; `idle` has no `s`.
    expect(values).to.deep.equal(['system', 'user']);
    await page.keyboard.press('Enter');
    await page.keyboard.type('"}');
    expect(await page.inputValue('#expr')).to.equal('node_cpu_seconds_total{mode="system"}');
    await page.keyboard.press('Enter');
    await page.waitForFunction(tableRows(6));
  });

  it('lists a range vector in the table and says why it has no graph', async () => {
    await page.goto(`${base}/?expr=${encodeURIComponent('up{instance="host-0:9100"}[1m]')}`);
    await page.waitForSelector('#result-table tbody td.series');
    const value = await page.textContent('#result-table tbody td.value');
    // Four or five 15-second samples in a minute, one line each: "1 @<seconds> (<time>)".
    expect(value!.split('\n').length).to.be.within(4, 5);
    expect(value).to.match(/^1 @\d+ \(/);
    expect(await page.textContent('#chart-note')).to.match(/^No graph: .*range vector/);
    expect(await page.$$eval('#chart canvas', (els) => els.length)).to.equal(0);
  });

  it('shows errors plainly and clears them on the next good query', async () => {
    await page.goto(`${base}/`);
    await page.fill('#expr', 'sum(rate(node_cpu_seconds_total[5m])');
    await page.click('#run');
    await page.waitForSelector('#error:not([hidden])');
    const message = await page.textContent('#error');
    expect(message).to.match(/^Error \(bad_data\): .*unclosed left parenthesis/);
    expect(await page.$$eval('#result-table tbody tr', (trs) => trs.length)).to.equal(0);
    await page.screenshot({ path: path.join(SCREENSHOT_DIR, 'web-ui-error.png') });

    await page.fill('#expr', 'sum by (mode) (rate(node_cpu_seconds_total[5m]))');
    await page.click('#run');
    await page.waitForSelector('#error', { state: 'hidden' });
    await page.waitForFunction(tableRows(3));
    expect(pageErrors, 'uncaught errors in the page').to.deep.equal([]);
  });
});
