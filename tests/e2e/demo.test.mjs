// Browser test of the demo page: Debian chromium driven by playwright-core, against scripts/serve.mjs.
//   node --test tests/e2e/demo.test.mjs
// Screenshots go to test-output/e2e/ (git-ignored).
// LRP_DIST_DIR / LRP_MODELS_DIR (optional) point the server at another bundle / model folder.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { startServer } from '../../scripts/serve.mjs';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const SHOTS = path.join(ROOT, 'test-output', 'e2e');
const TIMEOUT = 30_000;

let server;
let browser;
let context;
let page;
const problems = { console: [], page: [], requests: [], foreign: [] };

function watch(p, sink, origin) {
  p.on('console', (msg) => {
    if (msg.type() === 'error') sink.console.push(`${msg.text()} @ ${msg.location()?.url ?? ''}`);
  });
  p.on('pageerror', (err) => sink.page.push(String(err?.stack || err)));
  p.on('requestfailed', (req) => sink.requests.push(`${req.method()} ${req.url()}: ${req.failure()?.errorText}`));
  p.on('response', (res) => {
    if (res.status() >= 400) sink.requests.push(`${res.request().method()} ${res.url()}: HTTP ${res.status()}`);
  });
  p.on('request', (req) => {
    const u = req.url();
    if (!u.startsWith(origin) && !u.startsWith('data:') && !u.startsWith('blob:')) sink.foreign.push(u);
  });
}

const describeProblems = () => JSON.stringify(problems, null, 2);

/** Waits for the page to finish loading the model; fails with the page's status text otherwise. */
async function waitReady(p) {
  await p.waitForFunction(() => ['ready', 'error'].includes(document.body.dataset.state), null, { timeout: TIMEOUT });
  const state = await p.evaluate(() => document.body.dataset.state);
  const status = await p.textContent('#status');
  assert.equal(state, 'ready', `demo did not become ready; #status says: ${status}\n${describeProblems()}`);
}

const explainedCount = (p) => p.evaluate(() => Number(document.body.dataset.explained || 0));

/** Waits until an explanation newer than `before` has been painted (for `trigger`, if given). */
async function waitExplained(p, before, trigger) {
  await p.waitForFunction(
    ([n, t]) => {
      const d = window.__lrpDemo;
      return Number(document.body.dataset.explained) > n && d.lastResult && (!t || d.lastResult.trigger === t);
    },
    [before, trigger ?? null],
    { timeout: TIMEOUT },
  );
  return p.evaluate(() => window.__lrpDemo.lastResult);
}

/** Draws one stroke with the mouse through points given as fractions (0..1) of the canvas. */
async function stroke(p, points, steps = 8) {
  const box = await p.locator('#canvas').boundingBox();
  const at = ([fx, fy]) => [box.x + fx * box.width, box.y + fy * box.height];
  const before = await explainedCount(p);
  await p.mouse.move(...at(points[0]));
  await p.mouse.down();
  for (const pt of points.slice(1)) await p.mouse.move(...at(pt), { steps });
  await p.mouse.up();
  return waitExplained(p, before, 'pointerup');
}

/** RGBA bytes of the #heatmap canvas plus a summary. */
function readHeatmap(p) {
  return p.evaluate(() => {
    const c = document.getElementById('heatmap');
    const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
    let coloured = 0, red = 0, blue = 0, opaque = 0;
    for (let i = 0; i < d.length; i += 4) {
      if (d[i + 3] === 0) continue;
      opaque++;
      const [r, g, b] = [d[i], d[i + 1], d[i + 2]];
      if (r < 250 || g < 250 || b < 250) coloured++;
      if (r > b + 10) red++;
      if (b > r + 10) blue++;
    }
    return { pixels: Array.from(d), coloured, red, blue, opaque, width: c.width, height: c.height };
  });
}

const pixelDiff = (a, b) => a.pixels.reduce((n, v, i) => n + (v !== b.pixels[i] ? 1 : 0), 0);

async function shot(p, name, opts = {}) {
  await p.screenshot({ path: path.join(SHOTS, `${name}.png`), ...opts });
}

before(async () => {
  await fs.mkdir(SHOTS, { recursive: true });
  server = await startServer({
    port: 0,
    distDir: process.env.LRP_DIST_DIR || undefined,
    modelsDir: process.env.LRP_MODELS_DIR || undefined,
  });
  browser = await chromium.launch({
    executablePath: '/usr/bin/chromium',
    headless: true,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
  context = await browser.newContext({ viewport: { width: 1180, height: 860 }, deviceScaleFactor: 1 });
  page = await context.newPage();
  page.setDefaultTimeout(TIMEOUT);
  watch(page, problems, new URL(server.url).origin);
});

after(async () => {
  await browser?.close().catch(() => {});
  await server?.close().catch(() => {});
});

test('server: layout, MIME types, no-cache, nothing else exposed', async () => {
  const get = (p) => fetch(new URL(p, server.url));
  const index = await get('/');
  assert.equal(index.status, 200);
  assert.match(index.headers.get('content-type'), /^text\/html/);
  assert.equal(index.headers.get('cache-control'), 'no-cache');
  const main = await get('/main.js');
  assert.equal(main.status, 200);
  assert.match(main.headers.get('content-type'), /^text\/javascript/);
  const bundle = await get('/dist/lrp-wasm.js');
  assert.equal(bundle.status, 200, 'dist/lrp-wasm.js is served (build it with npm run build)');
  assert.match(bundle.headers.get('content-type'), /^text\/javascript/);
  const model = await get('/models/mnist-mlp.onnx');
  assert.equal(model.status, 200, 'web/models/mnist-mlp.onnx is served (train it with npm run train)');
  assert.equal(model.headers.get('content-type'), 'application/octet-stream');
  for (const hidden of ['/node_modules/sirv/package.json', '/package.json', '/../package.json',
    '/%2e%2e/package.json', '/dist/../package.json', '/dist/%2e%2e/package.json', '/.git/HEAD',
    '/web/demo/index.html', '/scripts/serve.mjs']) {
    const res = await get(hidden);
    assert.equal(res.status, 404, `${hidden} must not be served`);
    await res.arrayBuffer();
  }
  await Promise.all([index, main, bundle, model].map((r) => r.arrayBuffer()));
});

test('page loads the model and shows an empty state', async () => {
  await page.goto(server.url);
  await waitReady(page);
  assert.equal(await page.textContent('#prediction'), '');
  assert.equal(await page.locator('#scores [role="listitem"]').count(), 10);
  // epsilon-plus by default: on an MLP the flat first layer of epsilon-plus-flat gives a uniform map
  assert.equal(await page.inputValue('#composite'), 'epsilon-plus');
  assert.equal(await page.isChecked('#overlay'), true, 'the heatmap is overlaid on the digit by default');
  const status = await page.locator('#status').getAttribute('data-kind');
  assert.notEqual(status, 'error', await page.textContent('#status'));
  // the drawing canvas' backing store follows its CSS size × devicePixelRatio
  const dims = await page.evaluate(() => {
    const c = document.getElementById('canvas');
    const r = c.getBoundingClientRect();
    return { w: c.width, h: c.height, cssW: r.width, cssH: r.height, dpr: devicePixelRatio, ta: getComputedStyle(c).touchAction };
  });
  assert.equal(dims.w, Math.round(dims.cssW * dims.dpr));
  assert.equal(dims.cssW, dims.cssH);
  assert.equal(dims.ta, 'none');
  await shot(page, '01-empty');
});

test("a vertical stroke is a '1' with a non-empty relevance heatmap", async () => {
  const r = await stroke(page, [[0.5, 0.16], [0.5, 0.5], [0.5, 0.84]]);
  const text = (await page.textContent('#prediction')).trim();
  assert.match(text, /^[0-9]$/, `#prediction should show a digit, got "${text}"`);
  assert.equal(Number(text), r.prediction);
  assert.equal(r.logits.length, 10);
  assert.ok(r.probability > 0 && r.probability <= 1);
  assert.equal(text, '1', `the vertical line was classified as ${text}; logits ${r.logits.map((v) => v.toFixed(2))}`);
  assert.equal(r.target, 1, 'explained target is the predicted class');
  assert.ok(r.maxAbsRelevance > 0, `max |R| = ${r.maxAbsRelevance}`);
  assert.ok(Number.isFinite(r.sumRelevance));

  const highlighted = await page.locator('#scores .predicted').getAttribute('data-class');
  assert.equal(highlighted, '1');
  assert.match(await page.textContent('#probability'), /\d+(\.\d)? %/);

  const h = await readHeatmap(page);
  assert.equal(h.width, 28);
  assert.equal(h.height, 28);
  assert.equal(h.opaque, 784, 'heatmap is painted');
  assert.ok(h.coloured > 0, 'heatmap has non-white pixels');
  assert.ok(h.red > 0, 'some pixels are positively relevant (red)');

  // the 28×28 input is shown too
  const inputInk = await page.evaluate(() => {
    const c = document.getElementById('input');
    const d = c.getContext('2d').getImageData(0, 0, 28, 28).data;
    let n = 0;
    for (let i = 0; i < d.length; i += 4) if (d[i] > 0) n++;
    return n;
  });
  assert.ok(inputInk > 10 && inputInk < 784 / 2, `input pixels with ink: ${inputInk}`);
  await shot(page, '02-one');
});

test('every method in the selector explains, and switching changes the heatmap', async () => {
  const base = await readHeatmap(page);
  const values = await page.$$eval('#composite option', (os) => os.map((o) => o.value));
  assert.deepEqual(values.sort(), [
    'deep-taylor', 'epsilon-alpha2-beta1', 'epsilon-alpha2-beta1-flat', 'epsilon-gamma-box',
    'epsilon-plus', 'epsilon-plus-flat', 'gradient', 'gradient-x-input',
  ]);
  const maps = {};
  for (const v of ['epsilon-plus-flat', 'epsilon-alpha2-beta1', 'epsilon-alpha2-beta1-flat', 'deep-taylor',
    'epsilon-gamma-box', 'gradient', 'gradient-x-input', 'epsilon-plus']) {
    const n = await explainedCount(page);
    await page.selectOption('#composite', v);
    const r = await waitExplained(page, n, 'composite');
    const status = await page.textContent('#status');
    assert.notEqual(await page.locator('#status').getAttribute('data-kind'), 'error', `${v}: ${status}`);
    assert.equal(r.method, v);
    assert.equal(r.prediction, 1, `${v}: prediction must not depend on the method`);
    assert.ok(r.maxAbsRelevance > 0, `${v}: max |R| = ${r.maxAbsRelevance}`);
    maps[v] = await readHeatmap(page);
    assert.ok(maps[v].coloured > 0, `${v}: heatmap has coloured pixels`);
    // a uniform map (flat rule on a dense first layer) is explained by a note, other maps are not
    const uniform = maps[v].pixels.every((b, i) => b === maps[v].pixels[i % 4]);
    assert.equal(await page.isVisible('#relevance-note'), uniform, `${v}: note shown iff the map is uniform`);
    assert.ok((await page.textContent('#composite-help')).length > 10, `${v}: the method is described`);
    if (v === 'gradient') await shot(page, '03-gradient');
  }
  assert.ok(pixelDiff(base, maps['epsilon-plus-flat']) > 0, 'epsilon-plus-flat differs from epsilon-plus');
  assert.ok(pixelDiff(base, maps.gradient) > 0, 'gradient differs from epsilon-plus');
  // (an MLP has no conv layer, so epsilon-plus and epsilon-alpha2-beta1 coincide on it: both epsilon)
  assert.ok(pixelDiff(maps['epsilon-plus'], maps['deep-taylor']) > 0, 'epsilon-plus differs from deep-taylor');
  assert.ok(pixelDiff(maps.gradient, maps['gradient-x-input']) > 0, 'gradient differs from gradient × input');
  assert.equal(pixelDiff(base, maps['epsilon-plus']), 0, 'same method again → same heatmap');
});

test('the overlay checkbox stacks the heatmap on the input (keyboard operable)', async () => {
  const before = await readHeatmap(page);
  await page.focus('#overlay');
  await page.keyboard.press('Space');
  assert.equal(await page.isChecked('#overlay'), false);
  assert.equal(await page.isVisible('#heatmap-under'), false);
  await page.keyboard.press('Space');
  assert.equal(await page.isChecked('#overlay'), true);
  assert.equal(await page.evaluate(() => document.querySelector('.maps').classList.contains('overlay')), true);
  assert.ok(await page.isVisible('#heatmap-under'));
  await shot(page, '03-overlay');
  assert.equal(pixelDiff(before, await readHeatmap(page)), 0, 'the overlay only changes the display');
});

test('an explanation error is shown in #status, and the page recovers', async () => {
  const n = await explainedCount(page);
  await page.evaluate(() => {
    const o = new Option('bogus', 'no-such-composite');
    document.getElementById('composite').append(o);
  });
  await page.selectOption('#composite', 'no-such-composite');
  await page.waitForFunction(() => document.getElementById('status').dataset.kind === 'error');
  const msg = await page.textContent('#status');
  assert.match(msg, /no-such-composite/, `the error names the unknown composite: ${msg}`);
  assert.equal(await page.getAttribute('#status', 'role'), 'alert');
  await page.evaluate(() => document.querySelector('#composite option[value="no-such-composite"]').remove());
  await page.selectOption('#composite', 'epsilon-plus-flat');
  await waitExplained(page, n, 'composite');
  assert.notEqual(await page.locator('#status').getAttribute('data-kind'), 'error');
});

test('clear empties the prediction and the heatmap (button, keyboard)', async () => {
  await page.click('#clear');
  await page.waitForFunction(() => document.getElementById('prediction').textContent === '');
  assert.equal(await page.evaluate(() => window.__lrpDemo.lastResult), null);
  const h = await readHeatmap(page);
  assert.equal(h.opaque, 0, 'heatmap is cleared');
  assert.equal(await page.locator('#scores .predicted').count(), 0);
  await shot(page, '04-cleared');

  // keyboard: the controls are reachable and operable without a pointer
  await stroke(page, [[0.5, 0.2], [0.5, 0.8]]);
  assert.notEqual(await page.textContent('#prediction'), '');
  await page.focus('#clear');
  await page.keyboard.press('Enter');
  await page.waitForFunction(() => document.getElementById('prediction').textContent === '');
  const labelled = await page.evaluate(() =>
    ['canvas', 'clear', 'composite', 'heatmap', 'input'].filter((id) => {
      const el = document.getElementById(id);
      return !(el.getAttribute('aria-label') || (el.labels && el.labels.length) || el.textContent.trim());
    }));
  assert.deepEqual(labelled, [], 'every control has a label');
});

test("a '7' stroke gives a digit and a heatmap", async (t) => {
  const r = await stroke(page, [[0.24, 0.2], [0.76, 0.2], [0.6, 0.5], [0.44, 0.84]]);
  const text = (await page.textContent('#prediction')).trim();
  assert.match(text, /^[0-9]$/);
  t.diagnostic(`'7' stroke predicted as ${text} (p = ${r.probability.toFixed(3)})`);
  assert.ok(r.maxAbsRelevance > 0);
  assert.ok((await readHeatmap(page)).coloured > 0);
  await shot(page, '05-seven');
  await shot(page, '05-seven-full', { fullPage: true });
});

test('switching the model to the CNN re-explains the drawing, and switching back restores the MLP map', async () => {
  await page.click('#clear');
  await stroke(page, [[0.5, 0.16], [0.5, 0.5], [0.5, 0.84]]);
  await page.selectOption('#composite', 'epsilon-plus');
  const mlpMap = await readHeatmap(page);
  const n = await explainedCount(page);
  await page.selectOption('#model', 'cnn');
  const r = await waitExplained(page, n, 'model');
  assert.equal(await page.evaluate(() => window.__lrpDemo.modelName), 'cnn');
  assert.equal(r.prediction, 1, 'the CNN also reads the vertical bar as a 1');
  assert.ok(r.maxAbsRelevance > 0);
  const cnnMap = await readHeatmap(page);
  assert.ok(pixelDiff(mlpMap, cnnMap) > 0, 'the CNN explains differently from the MLP');
  assert.match(await page.textContent('#model-description'), /CNN/);
  // The CNN's first layer is a convolution: the flat rule no longer gives a uniform map.
  const m = await explainedCount(page);
  await page.selectOption('#composite', 'epsilon-plus-flat');
  await waitExplained(page, m, 'composite');
  assert.equal(await page.isVisible('#relevance-note'), false);
  await shot(page, '05-cnn', { fullPage: true });
  const k = await explainedCount(page);
  await page.selectOption('#composite', 'epsilon-plus');
  await waitExplained(page, k, 'composite');
  const j = await explainedCount(page);
  await page.selectOption('#model', 'mlp');
  await waitExplained(page, j, 'model');
  assert.equal(pixelDiff(mlpMap, await readHeatmap(page)), 0, 'back on the MLP: the same map as before');
});

test('phone-sized screen: no horizontal scrolling, canvas fits, drawing works', async () => {
  const phone = await browser.newContext({
    viewport: { width: 375, height: 740 },
    deviceScaleFactor: 3,
    isMobile: true,
    hasTouch: true,
  });
  const sink = { console: [], page: [], requests: [], foreign: [] };
  try {
    const p = await phone.newPage();
    watch(p, sink, new URL(server.url).origin);
    await p.goto(server.url);
    await waitReady(p);
    const m = await p.evaluate(() => {
      const c = document.getElementById('canvas');
      const r = c.getBoundingClientRect();
      return { scrollW: document.documentElement.scrollWidth, innerW: innerWidth, left: r.left, right: r.right, w: c.width, cssW: r.width };
    });
    assert.ok(m.scrollW <= m.innerW, `page is ${m.scrollW}px wide on a ${m.innerW}px screen`);
    assert.ok(m.left >= 0 && m.right <= m.innerW);
    assert.equal(m.w, Math.round(m.cssW * 3), 'canvas uses devicePixelRatio 3');
    await p.locator('#canvas').scrollIntoViewIfNeeded();
    const r = await stroke(p, [[0.5, 0.18], [0.5, 0.82]]);
    assert.equal(r.prediction, 1);
    await shot(p, '06-phone', { fullPage: true });
    assert.deepEqual(sink, { console: [], page: [], requests: [], foreign: [] }, JSON.stringify(sink, null, 2));
  } finally {
    await phone.close();
  }
});

test('a model that fails to load is reported on the page, not a blank screen', async () => {
  const ctx = await browser.newContext({ viewport: { width: 900, height: 700 } });
  try {
    const p = await ctx.newPage();
    const pageErrors = [];
    p.on('pageerror', (e) => pageErrors.push(String(e)));
    await p.route('**/models/mnist-mlp.onnx', (route) => route.fulfill({ status: 404, body: 'not found' }));
    await p.goto(server.url);
    await p.waitForFunction(() => document.body.dataset.state === 'error', null, { timeout: TIMEOUT });
    const status = p.locator('#status');
    assert.ok(await status.isVisible());
    assert.match(await status.textContent(), /mnist-mlp\.onnx.*404/);
    assert.equal(await p.evaluate(() => window.__lrpDemo.ready.then(() => 'resolved', () => 'rejected')), 'rejected');
    assert.deepEqual(pageErrors, []);
    await shot(p, '07-load-error');
  } finally {
    await ctx.close();
  }
});

test('no console errors, page errors, failed or foreign requests', () => {
  assert.deepEqual(problems, { console: [], page: [], requests: [], foreign: [] }, describeProblems());
});
