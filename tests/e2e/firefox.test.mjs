// The demo in Firefox too: Debian's firefox-esr, driven through WebDriver BiDi (Firefox's own remote
// protocol; playwright-core only drives its patched Firefox builds). It loads the page, explains a test
// digit, switches to the CNN, draws a stroke and computes the faithfulness curves — all in the page.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import WebSocket from 'ws';
import { startServer } from '../../scripts/serve.mjs';
import { SHOTS } from './helpers.mjs';

const PORT = 9300 + (process.pid % 500);
let server, firefox, profile, socket, context;
let nextId = 0;
const pending = new Map();

function send(method, params = {}) {
  return new Promise((resolve, reject) => {
    const id = ++nextId;
    pending.set(id, (m) => (m.type === 'error' ? reject(new Error(`${method}: ${m.error}: ${m.message}`)) : resolve(m.result)));
    socket.send(JSON.stringify({ id, method, params }));
  });
}

async function evaluate(expression) {
  const { result } = await send('script.evaluate', { expression, target: { context }, awaitPromise: true, resultOwnership: 'none' });
  return result.value;
}

async function waitFor(expression, what, ms = 30_000) {
  const start = Date.now();
  while (Date.now() - start < ms) {
    if (await evaluate(expression)) return;
    await new Promise((r) => setTimeout(r, 150));
  }
  throw new Error(`Firefox: timed out waiting for ${what}; status: ${await evaluate('document.getElementById("status").textContent')}`);
}

before(async () => {
  server = await startServer({ port: 0 });
  profile = mkdtempSync(path.join(tmpdir(), 'lrp-firefox-'));
  firefox = spawn('/usr/bin/firefox-esr', ['--headless', `--remote-debugging-port=${PORT}`, '--no-remote', '--profile', profile],
    { stdio: ['ignore', 'ignore', 'pipe'] });
  await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('firefox-esr did not start its WebDriver BiDi server')), 30_000);
    firefox.stderr.on('data', (d) => { if (String(d).includes('WebDriver BiDi listening')) { clearTimeout(timer); resolve(); } });
    firefox.on('exit', (code) => reject(new Error(`firefox-esr exited with ${code}`)));
  });
  socket = new WebSocket(`ws://127.0.0.1:${PORT}/session`);
  await new Promise((resolve, reject) => { socket.on('open', resolve); socket.on('error', reject); });
  socket.on('message', (data) => {
    const m = JSON.parse(String(data));
    if (m.id && pending.has(m.id)) {
      pending.get(m.id)(m);
      pending.delete(m.id);
    }
  });
  await send('session.new', { capabilities: {} });
  ({ contexts: [{ context }] } = await send('browsingContext.getTree', {}));
  await send('browsingContext.setViewport', { context, viewport: { width: 1180, height: 900 } });
});

after(async () => {
  socket?.close();
  firefox?.kill();
  await server?.close();
  if (profile) rmSync(profile, { recursive: true, force: true });
});

test('Firefox: the demo loads, explains a test digit and a drawn stroke, switches model, evaluates faithfulness', async () => {
  await send('browsingContext.navigate', { context, url: server.url, wait: 'complete' });
  await waitFor("['ready', 'error'].includes(document.body.dataset.state)", 'the model');
  assert.equal(await evaluate('document.body.dataset.state'), 'ready', await evaluate('document.getElementById("status").textContent'));
  assert.match(await evaluate('navigator.userAgent'), /Firefox\//);

  // MNIST test digit #0 is a 7.
  await evaluate(`(() => { const s = document.getElementById('sample');
    s.value = [...s.options].find((o) => /test #0\\)/.test(o.textContent)).value; s.dispatchEvent(new Event('change')); })()`);
  await waitFor('window.__lrpDemo.lastResult?.prediction === 7', 'the digit\'s explanation');
  assert.ok(await evaluate('window.__lrpDemo.lastResult.maxAbsRelevance') > 0);

  // The CNN, then a stroke drawn with pointer events: a vertical bar is a 1.
  await evaluate(`(() => { const m = document.getElementById('model'); m.value = 'cnn'; m.dispatchEvent(new Event('change')); })()`);
  await waitFor("window.__lrpDemo.lastResult?.model === 'cnn'", 'the CNN');
  await evaluate("document.getElementById('clear').click()");
  const rect = JSON.parse(await evaluate('JSON.stringify(document.getElementById("canvas").getBoundingClientRect())'));
  const x = Math.round(rect.x + rect.width / 2), top = Math.round(rect.y + 0.16 * rect.height), bottom = Math.round(rect.y + 0.84 * rect.height);
  await send('input.performActions', { context, actions: [{ type: 'pointer', id: 'mouse', parameters: { pointerType: 'mouse' }, actions: [
    { type: 'pointerMove', x, y: top }, { type: 'pointerDown', button: 0 },
    ...[0.25, 0.5, 0.75, 1].map((t) => ({ type: 'pointerMove', x, y: Math.round(top + t * (bottom - top)), duration: 30 })),
    { type: 'pointerUp', button: 0 }] }] });
  await waitFor("document.getElementById('prediction').textContent === '1' && window.__lrpDemo.latency?.cnn > 0", 'the stroke\'s explanation');
  const heat = await evaluate(`(() => { const d = document.getElementById('heatmap').getContext('2d').getImageData(0, 0, 28, 28).data;
    let coloured = 0; for (let i = 0; i < d.length; i += 4) if (d[i + 3] > 0 && (d[i] < 250 || d[i + 1] < 250 || d[i + 2] < 250)) coloured++; return coloured; })()`);
  assert.ok(heat > 0, 'the heatmap is painted');

  await evaluate("document.getElementById('faith-run').click()");
  await waitFor('window.__lrpDemo.faithfulness?.main?.morf', 'the perturbation curves');
  assert.match(await evaluate("document.getElementById('faith-readout').textContent"), /AOPC MoRF/);
  assert.notEqual(await evaluate("document.getElementById('status').dataset.kind"), 'error');

  const { data } = await send('browsingContext.captureScreenshot', { context, origin: 'document' });
  mkdirSync(SHOTS, { recursive: true });
  writeFileSync(path.join(SHOTS, '40-firefox.png'), Buffer.from(data, 'base64'));
});
