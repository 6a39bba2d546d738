// Shared set-up of the browser tests: the static server, Debian's chromium via playwright-core, and
// helpers that read what the demo page shows. Screenshots go to test-output/e2e/ (git-ignored).
// LRP_DIST_DIR / LRP_MODELS_DIR (optional) point the server at another bundle / model folder.
import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { startServer } from '../../scripts/serve.mjs';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
export const SHOTS = path.join(ROOT, 'test-output', 'e2e');
export const TIMEOUT = 30_000;

/**
 * Starts the server (`serverOptions`: createHandler's, e.g. another demoDir or a contentSecurityPolicy) and the
 * browser; returns { server, browser, newPage(opts), close() }.
 */
export async function setup(serverOptions = {}) {
  await fs.mkdir(SHOTS, { recursive: true });
  const server = await startServer({
    port: 0,
    distDir: process.env.LRP_DIST_DIR || undefined,
    modelsDir: process.env.LRP_MODELS_DIR || undefined,
    ...serverOptions,
  });
  const browser = await chromium.launch({
    executablePath: '/usr/bin/chromium',
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  const origin = new URL(server.url).origin;
  const env = {
    server,
    browser,
    origin,
    problems: { console: [], page: [], requests: [], foreign: [] },
    async newPage(contextOptions = { viewport: { width: 1180, height: 900 }, deviceScaleFactor: 1 }, sink = env.problems) {
      const context = await browser.newContext({ acceptDownloads: true, ...contextOptions });
      const page = await context.newPage();
      page.setDefaultTimeout(TIMEOUT);
      watch(page, sink, origin);
      return page;
    },
    async close() {
      await browser.close().catch(() => {});
      await server.close().catch(() => {});
    },
  };
  return env;
}

export function watch(p, sink, origin) {
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

/** Starts the server and the browser and opens the demo on a ready page: { env, page }. */
export async function openDemo() {
  const env = await setup();
  const page = await env.newPage();
  await page.goto(env.server.url);
  await waitReady(page);
  return { env, page };
}

/** Waits for the page to finish loading the model; fails with the page's status text otherwise. */
export async function waitReady(p) {
  await p.waitForFunction(() => ['ready', 'error'].includes(document.body.dataset.state), null, { timeout: TIMEOUT });
  const state = await p.evaluate(() => document.body.dataset.state);
  const status = await p.textContent('#status');
  assert.equal(state, 'ready', `demo did not become ready; #status says: ${status}`);
}

export const explainedCount = (p) => p.evaluate(() => Number(document.body.dataset.explained || 0));

/** Waits until an explanation newer than `before` has been painted (for `trigger`, if given). */
export async function waitExplained(p, before, trigger) {
  try {
    await p.waitForFunction(
      ([n, t]) => {
        const d = window.__lrpDemo;
        return Number(document.body.dataset.explained) > n && d.lastResult && (!t || d.lastResult.trigger === t);
      },
      [before, trigger ?? null],
      { timeout: TIMEOUT },
    );
  } catch (err) {
    const state = await p.evaluate(() => ({
      status: document.getElementById('status').textContent,
      explained: document.body.dataset.explained,
      trigger: window.__lrpDemo.lastResult?.trigger,
    })).catch(() => null);
    throw new Error(`no explanation (trigger ${trigger}) after #${before}: ${JSON.stringify(state)}; ${err.message}`);
  }
  return p.evaluate(() => window.__lrpDemo.lastResult);
}

/**
 * Runs `action` and waits until the page has painted the result of the request the action made (or a
 * newer one: the page coalesces requests); returns window.__lrpDemo.lastResult.
 */
export async function after(p, trigger, action) {
  const before = await p.evaluate(() => window.__lrpDemo.requested);
  await action();
  try {
    await p.waitForFunction(
      ([b, t]) => {
        const d = window.__lrpDemo;
        // (not checked: the trigger `t`, since a later request, e.g. a blur's change event, may replace it)
        return d.requested > b && d.painted >= d.requested && d.lastResult && d.lastResult.id >= d.requested;
      },
      [before, trigger],
      { timeout: TIMEOUT },
    );
  } catch (err) {
    const state = await p.evaluate(() => ({
      status: document.getElementById('status').textContent,
      requested: window.__lrpDemo.requested,
      painted: window.__lrpDemo.painted,
      last: window.__lrpDemo.lastResult && { id: window.__lrpDemo.lastResult.id, triggers: window.__lrpDemo.lastResult.triggers },
    })).catch(() => null);
    throw new Error(`no explanation (trigger ${trigger}) after request #${before}: ${JSON.stringify(state)}; ${err.message}`);
  }
  return p.evaluate(() => window.__lrpDemo.lastResult);
}

/** Draws one stroke with the mouse through points given as fractions (0..1) of the canvas. */
export async function stroke(p, points, steps = 8) {
  await p.locator('#canvas').scrollIntoViewIfNeeded();
  const box = await p.locator('#canvas').boundingBox();
  const at = ([fx, fy]) => [box.x + fx * box.width, box.y + fy * box.height];
  await p.mouse.move(...at(points[0]));
  await p.mouse.down();
  for (const pt of points.slice(1)) await p.mouse.move(...at(pt), { steps });
  return after(p, 'pointerup', () => p.mouse.up());
}

export const ONE = [[0.5, 0.16], [0.5, 0.5], [0.5, 0.84]];
export const SEVEN = [[0.24, 0.2], [0.76, 0.2], [0.6, 0.5], [0.44, 0.84]];

/** RGBA bytes of a heatmap canvas plus a summary. */
export function readHeatmap(p, id = 'heatmap') {
  return p.evaluate((cid) => {
    const c = document.getElementById(cid);
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
  }, id);
}

export const pixelDiff = (a, b) => a.pixels.reduce((n, v, i) => n + (v !== b.pixels[i] ? 1 : 0), 0);

export async function shot(p, name, opts = {}) {
  await p.screenshot({ path: path.join(SHOTS, `${name}.png`), ...opts });
}

export const noProblems = { console: [], page: [], requests: [], foreign: [] };
