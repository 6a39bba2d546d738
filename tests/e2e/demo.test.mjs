// Browser tests of the demo page (core: drawing, live updates, undo, models, phone, errors):
// Debian chromium driven by playwright-core, against scripts/serve.mjs.
//   node --test tests/e2e/*.test.mjs
// Screenshots go to test-output/e2e/ (git-ignored).
import { test, before, after as afterAll } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { loadModel, configure } from 'lrp-wasm';
import { formatCount } from '../../web/demo/format.js';
import {
  setup, watch, waitReady, explainedCount, waitExplained, after, stroke, readHeatmap, pixelDiff, shot,
  ONE, SEVEN, TIMEOUT, noProblems, ROOT,
} from './helpers.mjs';

let env, server, browser, page;
const problems = () => env.problems;
const describeProblems = () => JSON.stringify(env.problems, null, 2);

before(async () => {
  env = await setup();
  ({ server, browser } = env);
  page = await env.newPage();
});
afterAll(() => env?.close());

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

test('page loads the model (in a worker) and shows an empty state', async () => {
  await page.goto(server.url);
  await waitReady(page);
  assert.equal(await page.textContent('#prediction'), '');
  assert.equal(await page.locator('#scores [role="listitem"]').count(), 10);
  // epsilon-plus by default: on an MLP the flat first layer of epsilon-plus-flat gives a uniform map
  assert.equal(await page.inputValue('#method'), 'epsilon-plus');
  assert.equal(await page.isChecked('#overlay'), true, 'the heatmap is overlaid on the digit by default');
  assert.notEqual(await page.locator('#status').getAttribute('data-kind'), 'error', await page.textContent('#status'));
  // the summary's operations (and parameters, once the package reports them) are the package's own numbers in Node
  configure({ threads: 1 }); // (no engine threads that outlive the test)
  const mlp = await loadModel(path.join(ROOT, 'web', 'models', 'mnist-mlp.onnx'));
  const params = typeof mlp.parameters === 'number' ? ` · ${formatCount(mlp.parameters)} parameters` : '';
  const summary = await page.textContent('#model-summary');
  assert.ok(summary.startsWith(`MLP · input 1×28×28 · 10 outputs · 10 layers · ${formatCount(mlp.operations)} operations per pass${params} · `), summary);
  assert.match(summary, /· engine memory \d+\.\d MB \(\d+(\.\d)? [kM]?B in use\) · \d engine threads?$/);
  mlp.dispose();
  const dims = await page.evaluate(() => {
    const c = document.getElementById('canvas');
    const r = c.getBoundingClientRect();
    return { w: c.width, cssW: r.width, cssH: r.height, dpr: devicePixelRatio, ta: getComputedStyle(c).touchAction };
  });
  assert.equal(dims.w, Math.round(dims.cssW * dims.dpr));
  assert.equal(dims.cssW, dims.cssH);
  assert.equal(dims.ta, 'none');
  // the engine is not on the page's thread: the page loads its models with loadModel(url, { worker: true }), so
  // the package's worker script runs the engine, and the page's own copy of the package never starts one
  const here = await page.evaluate(async () => {
    const lib = await import('/dist/lrp-wasm.js'); // the module main.js imported (same URL: same instance)
    return { threads: lib.engineThreads(), memory: lib.engineMemoryBytes(), urls: performance.getEntriesByType('resource').map((e) => e.name) };
  });
  assert.ok(here.urls.some((u) => u.endsWith('/dist/lrp-worker.js')), `the package's worker is started: ${here.urls}`);
  assert.deepEqual(here.urls.filter((u) => /lrp-engine/.test(u)), [], 'the page itself fetches none of the engine\'s files');
  assert.equal(here.threads, 0, 'no engine started on the main thread');
  assert.equal(here.memory, 0, 'no engine memory on the main thread');
  await shot(page, '01-empty');
});

test("a vertical stroke is a '1' with a heatmap, and results arrive WHILE drawing", async () => {
  const box = await page.locator('#canvas').boundingBox();
  const at = (fx, fy) => [box.x + fx * box.width, box.y + fy * box.height];
  const n0 = await explainedCount(page);
  await page.mouse.move(...at(0.5, 0.16));
  await page.mouse.down();
  for (let i = 1; i <= 6; i++) {
    await page.mouse.move(...at(0.5, 0.16 + i * 0.11), { steps: 3 });
    await page.waitForTimeout(60);
  }
  // still drawing: live explanations have already been painted
  await page.waitForFunction((n) => Number(document.body.dataset.explained) > n, n0);
  const live = await page.evaluate(() => window.__lrpDemo.lastResult);
  assert.equal(live.trigger, 'draw', 'the painted result comes from a frame during the stroke');
  assert.match(await page.textContent('#prediction'), /^[0-9]$/, 'a prediction is shown before pointerup');
  await shot(page, '02-live-while-drawing');
  const n1 = await explainedCount(page);
  await page.mouse.up();
  const r = await waitExplained(page, n1, 'pointerup');
  const text = (await page.textContent('#prediction')).trim();
  assert.equal(Number(text), r.prediction);
  assert.equal(text, '1', `the vertical line was classified as ${text}; logits ${r.logits.map((v) => v.toFixed(2))}`);
  assert.equal(r.target, 1, 'explained target is the predicted class');
  assert.ok(r.maxAbsRelevance > 0, `max |R| = ${r.maxAbsRelevance}`);
  assert.equal(await page.locator('#scores .predicted').getAttribute('data-class'), '1');
  assert.match(await page.textContent('#probability'), /\d+(\.\d)? %/);
  const h = await readHeatmap(page);
  assert.equal(h.width, 28);
  assert.equal(h.opaque, 784, 'heatmap is painted');
  assert.ok(h.red > 0, 'some pixels are positively relevant (red)');
  // Σ R vs f(x) readout
  assert.match(await page.textContent('#relevance-stats'), /Σ R = .* vs f1\(x\) = /);
  // the compare map (gradient by default) is painted too, and differs
  const h2 = await readHeatmap(page, 'heatmap2');
  assert.equal(h2.opaque, 784);
  assert.ok(pixelDiff(h, h2) > 0, 'the comparison map differs from epsilon-plus');
  await shot(page, '02-one');
});

test('undo removes the last stroke (button and Ctrl+Z); clear empties everything', async () => {
  const one = await readHeatmap(page);
  await stroke(page, [[0.3, 0.3], [0.7, 0.3]]);
  const two = await readHeatmap(page);
  assert.ok(pixelDiff(one, two) > 0, 'a second stroke changes the map');
  let r = await after(page, 'undo', () => page.click('#undo'));
  assert.equal(r.prediction, 1);
  assert.equal(pixelDiff(one, await readHeatmap(page)), 0, 'undo restores the one-stroke map');
  await stroke(page, [[0.3, 0.3], [0.7, 0.3]]);
  await page.focus('#method');
  await page.locator('body').click({ position: { x: 5, y: 5 } });
  r = await after(page, 'undo', () => page.keyboard.press('Control+z'));
  assert.equal(pixelDiff(one, await readHeatmap(page)), 0, 'Ctrl+Z restores the one-stroke map');
  await page.click('#undo');
  await page.waitForFunction(() => document.getElementById('prediction').textContent === '');
  assert.equal(await page.isDisabled('#undo'), true, 'nothing left to undo');
  await stroke(page, ONE);
  await page.click('#clear');
  await page.waitForFunction(() => document.getElementById('prediction').textContent === '');
  assert.equal(await page.evaluate(() => window.__lrpDemo.lastResult), null);
  assert.equal((await readHeatmap(page)).opaque, 0, 'heatmap is cleared');
  assert.equal(await page.locator('#scores .predicted').count(), 0);
  await shot(page, '03-cleared');
});

test('every control is labelled and reachable by keyboard', async () => {
  await stroke(page, ONE);
  await page.focus('#clear');
  await page.keyboard.press('Enter');
  await page.waitForFunction(() => document.getElementById('prediction').textContent === '');
  const unlabelled = await page.evaluate(() =>
    [...document.querySelectorAll('button, select, input, canvas')].filter((el) => {
      if (el.closest('[hidden]') || el.getAttribute('aria-hidden') === 'true') return false;
      return !(el.getAttribute('aria-label') || (el.labels && el.labels.length) || el.textContent.trim());
    }).map((el) => el.id || el.outerHTML.slice(0, 60)));
  assert.deepEqual(unlabelled, [], 'every control has a label');
  // overlay checkbox by keyboard
  await page.focus('#overlay');
  await page.keyboard.press('Space');
  assert.equal(await page.isChecked('#overlay'), false);
  assert.equal(await page.isVisible('#heatmap-under'), false);
  await page.keyboard.press('Space');
  assert.equal(await page.isChecked('#overlay'), true);
  assert.ok(await page.isVisible('#heatmap-under'));
});

test('switching the model to the CNN re-explains the drawing, and back restores the MLP map', async () => {
  await stroke(page, ONE);
  const mlpMap = await readHeatmap(page);
  const r = await after(page, 'model', () => page.selectOption('#model', 'cnn'));
  assert.equal(await page.evaluate(() => window.__lrpDemo.modelName), 'cnn');
  assert.equal(r.prediction, 1, 'the CNN also reads the vertical bar as a 1');
  assert.ok(pixelDiff(mlpMap, await readHeatmap(page)) > 0, 'the CNN explains differently from the MLP');
  assert.match(await page.textContent('#model-description'), /CNN/);
  assert.match(await page.textContent('#model-summary'), /CNN · input 1×28×28/);
  await after(page, 'method', () => page.selectOption('#method', 'epsilon-plus-flat'));
  assert.equal(await page.isVisible('#relevance-note'), false, 'a conv first layer: no uniform map');
  await shot(page, '04-cnn', { fullPage: true });
  await after(page, 'method', () => page.selectOption('#method', 'epsilon-plus'));
  await after(page, 'model', () => page.selectOption('#model', 'mlp'));
  assert.equal(pixelDiff(mlpMap, await readHeatmap(page)), 0, 'back on the MLP: the same map as before');
  await page.click('#clear');
});

test('a busy engine: requests are coalesced, results painted in order, the page keeps drawing', async (t) => {
  await page.selectOption('#model', 'cnn');
  await page.waitForFunction(() => window.__lrpDemo.modelName === 'cnn' && document.body.dataset.state === 'ready');
  await page.selectOption('#method', 'smoothgrad'); // slow on purpose: 64 noisy backward passes
  await page.fill('#samples', '64');
  await page.locator('#samples').dispatchEvent('change');
  await page.evaluate(() => {
    window.__longTasks = [];
    new PerformanceObserver((l) => window.__longTasks.push(...l.getEntries().map((e) => e.duration))).observe({ entryTypes: ['longtask'] });
  });
  const before = await page.evaluate(() => ({ sent: window.__lrpDemo.sent, dropped: window.__lrpDemo.dropped, n: window.__lrpDemo.paintedIds.length }));
  const box = await page.locator('#canvas').boundingBox();
  await page.mouse.move(box.x + box.width * 0.3, box.y + box.height * 0.2);
  await page.mouse.down();
  for (let i = 1; i <= 24; i++) {
    await page.mouse.move(box.x + box.width * (0.3 + 0.4 * Math.sin(i / 4) ** 2), box.y + box.height * (0.2 + i * 0.025));
    await page.waitForTimeout(16);
  }
  const r = await after(page, 'pointerup', () => page.mouse.up());
  const s = await page.evaluate(() => ({ sent: window.__lrpDemo.sent, dropped: window.__lrpDemo.dropped, ids: window.__lrpDemo.paintedIds, long: window.__longTasks }));
  const ids = s.ids.slice(before.n);
  assert.ok(s.dropped > before.dropped, `stale requests were dropped while the worker was busy (${s.dropped - before.dropped})`);
  assert.ok(ids.every((v, i) => i === 0 || v > ids[i - 1]), `painted in order: ${ids}`);
  assert.equal(r.method, 'smoothgrad');
  assert.ok(r.maxAbsRelevance > 0);
  t.diagnostic(`sent ${s.sent - before.sent} requests, dropped ${s.dropped - before.dropped}, painted ${ids.length}; main-thread long tasks: ${s.long.map((d) => d.toFixed(0)).join(', ') || 'none'} ms`);
  await shot(page, '05-busy-cnn-smoothgrad');
  await page.fill('#samples', '16');
  await after(page, 'method', () => page.selectOption('#method', 'epsilon-plus'));
  await after(page, 'model', () => page.selectOption('#model', 'mlp'));
  await page.click('#clear');
});

test('clearing or switching the model while the engine is busy: the stale request is cancelled, never painted', async () => {
  await page.waitForFunction(() => window.__lrpDemo.samples?.count > 0);
  await page.selectOption('#model', 'cnn');
  await page.waitForFunction(() => window.__lrpDemo.modelName === 'cnn' && document.body.dataset.state === 'ready');
  await page.selectOption('#method', 'smoothgrad'); // slow on purpose: about 2 s on the CNN, much less on the MLP
  await page.fill('#samples', '4096');
  await page.locator('#samples').dispatchEvent('change');
  const state = () => page.evaluate(() => ({ ...window.__lrpDemo, lastResult: window.__lrpDemo.lastResult, ready: undefined }));
  // request #id is being computed: made, not painted
  const waitInFlight = (id) => page.waitForFunction((n) => window.__lrpDemo.requested === n && window.__lrpDemo.painted < n, id);

  // a test digit, cleared while it is explained
  let before = await state();
  await page.selectOption('#sample', '0');
  const stale = before.requested + 1;
  await waitInFlight(stale);
  await page.click('#clear');
  let now = await state();
  assert.equal(now.cancelled, before.cancelled + 1, 'the request in flight was cancelled');
  assert.equal(now.lastResult, null);
  // the next request is answered; the cancelled one was never painted, and no error was shown for it
  const r = await after(page, 'sample', () => page.selectOption('#sample', '1'));
  assert.ok(r.id > stale);
  now = await state();
  assert.ok(!now.paintedIds.includes(stale), `request #${stale} was cancelled, yet painted: ${now.paintedIds}`);
  assert.notEqual(await page.locator('#status').getAttribute('data-kind'), 'error', await page.textContent('#status'));

  // another digit, and the model switched while it is explained: the MLP's result is painted, not the CNN's
  before = await state();
  await page.selectOption('#sample', '0');
  await waitInFlight(before.requested + 1);
  const switched = await after(page, 'model', () => page.selectOption('#model', 'mlp'));
  now = await state();
  assert.equal(now.cancelled, before.cancelled + 1, 'the CNN\'s request was cancelled by the switch');
  assert.equal(switched.model, 'mlp');
  assert.equal(switched.method, 'smoothgrad');
  assert.equal(switched.prediction, now.samples.labels[0], 'the MLP reads the digit right');
  assert.ok(!now.paintedIds.includes(before.requested + 1), 'the cancelled CNN request was not painted');
  assert.notEqual(await page.locator('#status').getAttribute('data-kind'), 'error', await page.textContent('#status'));
  await page.fill('#samples', '16');
  await after(page, 'method', () => page.selectOption('#method', 'epsilon-plus'));
  await page.click('#clear');
});

test('a method change while the engine is busy: the request in flight is cancelled, the new method is painted, no error; the busy indicator shows meanwhile', async () => {
  await page.waitForFunction(() => window.__lrpDemo.samples?.count > 0);
  await page.selectOption('#model', 'cnn');
  await page.waitForFunction(() => window.__lrpDemo.modelName === 'cnn' && document.body.dataset.state === 'ready');
  await page.selectOption('#method', 'smoothgrad'); // slow on purpose: about 2 s on the CNN
  await page.fill('#samples', '4096');
  await page.locator('#samples').dispatchEvent('change');
  const state = () => page.evaluate(() => ({ ...window.__lrpDemo, lastResult: window.__lrpDemo.lastResult, ready: undefined }));
  const before = await state();
  await page.selectOption('#sample', '0');
  const slow = before.requested + 1;
  await page.waitForFunction((n) => window.__lrpDemo.requested === n && window.__lrpDemo.painted < n, slow);
  // the busy indicator: shown once the explanation has run for 200 ms, with the seconds it has run
  await page.waitForFunction(() => document.body.dataset.busy === '1');
  assert.ok(await page.isVisible('#busy'), 'the busy indicator is visible');
  assert.match(await page.textContent('#busy-text'), /^Explaining… \d+\.\d s$/);
  await shot(page, '05-busy-indicator');
  const r = await after(page, 'method', () => page.selectOption('#method', 'epsilon-plus'));
  const now = await state();
  assert.equal(now.cancelled, before.cancelled + 1, 'the smoothgrad request in flight was cancelled by the method change');
  assert.equal(r.method, 'epsilon-plus', 'the new method\'s result is painted');
  assert.equal(r.model, 'cnn');
  assert.equal(r.prediction, now.samples.labels[0], 'the CNN reads the test digit right');
  assert.ok(!now.paintedIds.includes(slow), `the cancelled request #${slow} was painted: ${now.paintedIds}`);
  assert.equal(now.error, before.error, `no error for the cancelled request: ${now.error}`);
  assert.notEqual(await page.locator('#status').getAttribute('data-kind'), 'error', await page.textContent('#status'));
  // nothing runs any more: the indicator is gone
  await page.waitForFunction(() => document.body.dataset.busy === undefined);
  assert.equal(await page.isVisible('#busy'), false);
  await page.evaluate(() => { document.getElementById('samples').value = '16'; }); // (hidden now: epsilon-plus has no samples)
  await after(page, 'model', () => page.selectOption('#model', 'mlp'));
  await page.click('#clear');
});

test("the page records the main thread's long tasks (demo.longTasks, demo.maxLongTask)", async () => {
  const n = await page.evaluate(() => window.__lrpDemo.longTasks.length);
  // a task that blocks the main thread for 120 ms: Chromium reports it as a long task (over 50 ms)
  await page.evaluate(() => setTimeout(() => {
    const t0 = performance.now();
    while (performance.now() - t0 < 120) { /* busy on purpose */ }
  }, 0));
  await page.waitForFunction((k) => window.__lrpDemo.longTasks.slice(k).some((ms) => ms >= 120), n);
  const { longTasks, maxLongTask } = await page.evaluate(() => window.__lrpDemo);
  assert.equal(maxLongTask, Math.max(...longTasks), 'maxLongTask is the longest recorded');
});

test('phone-sized screen: no horizontal scrolling, canvas fits, drawing works', async () => {
  const sink = { console: [], page: [], requests: [], foreign: [] };
  const p = await env.newPage({ viewport: { width: 375, height: 740 }, deviceScaleFactor: 3, isMobile: true, hasTouch: true }, sink);
  const phone = p.context();
  try {
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
    // a finger: real touch events (CDP), which the page receives as pointer events of type 'touch'
    await p.locator('#canvas').scrollIntoViewIfNeeded();
    const box = await p.locator('#canvas').boundingBox();
    const cdp = await phone.newCDPSession(p);
    const touch = (type, fy) => cdp.send('Input.dispatchTouchEvent', {
      type, touchPoints: type === 'touchEnd' ? [] : [{ x: box.x + box.width / 2, y: box.y + fy * box.height }],
    });
    await touch('touchStart', 0.18);
    for (let i = 1; i <= 8; i++) {
      await touch('touchMove', 0.18 + i * 0.08);
      await p.waitForTimeout(30);
    }
    await p.waitForFunction(() => window.__lrpDemo.lastResult?.trigger === 'draw');
    assert.equal(await p.evaluate(() => window.__lrpDemo.pointerType), 'touch');
    const r = await after(p, 'pointerup', () => touch('touchEnd'));
    assert.equal(r.prediction, 1);
    await shot(p, '06-phone', { fullPage: true });
    await p.tap('#random');
    await p.waitForFunction(() => window.__lrpDemo.lastResult?.trigger === 'sample');
    await shot(p, '06-phone-sample', { fullPage: true });
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
  assert.deepEqual(problems(), noProblems, describeProblems());
});
