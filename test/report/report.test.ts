import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { after, before, test } from 'node:test';
import sharp from 'sharp';
import type { Browser } from 'playwright-core';
import { escapeHtml, jsonForScript, safeImageDataUri } from '../../src/report/escape.js';
import { renderReport, writeReport } from '../../src/report/render.js';
import { thumbnailDataUri } from '../../src/report/thumbnail.js';
import { collectErrors, launchChromium } from '../browser/chromium.js';
import { EVIL_LABEL, reportFixture } from './fixture.js';

let dir: string;
let browser: Browser;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'graft-report-'));
  browser = await launchChromium();
});
after(async () => {
  await browser?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

test('escaping helpers', () => {
  assert.equal(escapeHtml(`<a href="x">'&'</a>`), '&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;');
  const json = jsonForScript({ s: '</script><!-- \u2028' });
  assert.ok(!json.includes('<') && !json.includes('\u2028'));
  assert.deepEqual(JSON.parse(json), { s: '</script><!-- \u2028' });
  assert.equal(safeImageDataUri('javascript:alert(1)'), undefined);
  assert.equal(safeImageDataUri('https://example.com/a.png'), undefined);
  assert.equal(safeImageDataUri('data:image/png;base64,AAAA" onload="x'), undefined);
  assert.equal(safeImageDataUri('data:image/png;base64,iVBORw0KGgo='), 'data:image/png;base64,iVBORw0KGgo=');
});

test('thumbnailDataUri fits the box and keeps the aspect ratio', async () => {
  const png = await sharp({ create: { width: 200, height: 100, channels: 3, background: '#3366cc' } })
    .png()
    .toBuffer();
  const uri = await thumbnailDataUri(png);
  assert.match(uri, /^data:image\/png;base64,/);
  const meta = await sharp(Buffer.from(uri.split(',')[1]!, 'base64')).metadata();
  assert.deepEqual([meta.width, meta.height], [64, 32]);
  const ga = await thumbnailDataUri(
    { width: 2, height: 4, channels: 2, data: new Uint8Array(16).fill(128) },
    16,
  );
  const m2 = await sharp(Buffer.from(ga.split(',')[1]!, 'base64')).metadata();
  assert.deepEqual([m2.width, m2.height], [8, 16]);
  await assert.rejects(thumbnailDataUri(new Uint8Array([1, 2, 3])), /thumbnail/);
});

test('report renders in Chromium: charts, n×n confusion cells, thumbnails, escaped labels', async () => {
  const data = await reportFixture();
  const n = data.evaluation.labels.length;
  const path = await writeReport(dir, data);
  assert.deepEqual(await readdir(dir), ['report.html'], 'no temp files left behind');
  const html = await readFile(path, 'utf8');
  assert.equal(html, renderReport(data));
  assert.ok(!html.includes(EVIL_LABEL), 'the raw <script> label must not appear in the HTML');
  assert.ok(!/<script[^>]+src=|<link /i.test(html), 'self-contained: no external scripts or stylesheets');

  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  const errors = collectErrors(page);
  const external: string[] = [];
  await page.route('**/*', (route) => {
    const url = route.request().url();
    if (url.startsWith('file:') || url.startsWith('data:')) return route.continue();
    external.push(url);
    return route.abort();
  });
  await page.goto(pathToFileURL(path).href);
  await page.waitForSelector('body[data-charts="ready"]', { timeout: 30_000 });

  const charts = await page.$$eval('.chart', (els) =>
    els.map((el) => {
      const canvas = el.querySelector('canvas');
      const svg = el.querySelector('svg');
      return { id: el.id, drawn: (canvas !== null && canvas.width > 0 && canvas.height > 0) || svg !== null };
    }),
  );
  assert.deepEqual(
    charts.map((c) => c.id),
    ['chart-loss', 'chart-accuracy', 'chart-confusion', 'chart-per-class', 'chart-comparison'],
  );
  for (const c of charts) assert.ok(c.drawn, `${c.id} has a non-empty canvas`);

  const heat = await page.evaluate(() => {
    const el = document.getElementById('chart-confusion')!;
    const w = window as unknown as {
      echarts: { getInstanceByDom(el: Element): { getOption(): { series: { data: unknown[] }[] } } };
    };
    return {
      attr: el.getAttribute('data-cells'),
      items: w.echarts.getInstanceByDom(el).getOption().series[0]!.data,
    };
  });
  assert.equal(heat.attr, String(n * n));
  assert.equal(heat.items.length, n * n);
  assert.deepEqual(heat.items[n * 1 + 0], [0, 1, data.evaluation.confusion[1]![0]]);

  const thumbs = await page.$$eval('img.thumb', (imgs) =>
    imgs.map((i) => (i as HTMLImageElement).complete && (i as HTMLImageElement).naturalWidth),
  );
  assert.equal(thumbs.length, 4);
  for (const w of thumbs) assert.ok(typeof w === 'number' && w > 0, 'thumbnail decoded');

  const dom = await page.evaluate(() => ({
    scripts: document.querySelectorAll('script').length,
    imgs: document.querySelectorAll('img').length,
    injected: (window as unknown as { __injected?: number }).__injected,
    text: document.body.innerText,
    title: document.title,
  }));
  assert.equal(dom.scripts, 3, 'no injected <script> elements');
  assert.equal(dom.imgs, 4, 'no injected <img> elements');
  assert.equal(dom.injected, undefined);
  assert.ok(dom.text.includes(EVIL_LABEL), 'the hostile label is shown as text');
  assert.ok(dom.text.includes('</blockquote><b>markup</b>'), 'text snippets are shown as text');
  assert.equal(dom.title, data.title);

  await mkdir('test-artifacts', { recursive: true });
  await page.screenshot({ path: join('test-artifacts', 'report.png'), fullPage: true });
  await page.close();
  assert.deepEqual(errors, []);
  assert.deepEqual(external, []);
});
