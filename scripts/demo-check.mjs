#!/usr/bin/env node
// Checks one ONNX image classifier in the demo's photo mode, in headless chromium, as a user would use it:
//
//   node scripts/demo-check.mjs <model.onnx> [--photo file.png] [--screenshot out.png] [--timeout s] [--expect ref.json] [--json]
//   node scripts/demo-check.mjs tests/e2e/fixtures/photo/random-1000.onnx --screenshot /tmp/photo.png \
//     --expect tests/e2e/fixtures/photo/reference.json
//
// It starts the demo server (scripts/serve.mjs) on a free port and Debian's chromium through playwright-core (the
// browser tests' set-up, tests/e2e/helpers.mjs), opens the page, chooses the model in the file input #model-file,
// then the photo in #photo-file (default: tests/e2e/fixtures/photo/photo.png, a generated 200×150 scene), and
// waits until the demo has explained the photo with that model: window.__lrpDemo.lastResult.top5 is set (the
// demo's photo mode sets demo.mode = 'photo' and lastResult = { top5: [{ class, name, logit, probability }], … }).
// Then it prints the top-5, the explain time (demo.latency.photo: request → painted heatmap), the longest task the
// page's main thread ran after the photo was chosen (demo.maxLongTask, and this script's own measure from the
// browser's Long Tasks API), and writes a screenshot of the page. With --expect, the top-5 must agree with
// PyTorch's for that photo (a reference.json of scripts/make_photo_fixtures.py; compareTop5 of
// tests/e2e/photo-reference.mjs: within a tolerance for the browser's resize).
//
// Exit code 0: the photo was explained; 1: it was not (timeout, an error on the page — demo.error, demo.modelError
// or an uncaught exception —, no photo input on the page) or its top-5 disagrees with --expect; 2: bad arguments. --json prints the result as one
// line `DEMO_CHECK {…}` after the report (scripts/zoo.mjs reads it).

import { parseArgs } from 'node:util';
import { existsSync, statSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { performance } from 'node:perf_hooks';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
export const DEFAULT_PHOTO = path.join(ROOT, 'tests', 'e2e', 'fixtures', 'photo', 'photo.png');
export const JSON_TAG = 'DEMO_CHECK ';
const DEFAULT_TIMEOUT_S = 300; // a 45 MB ResNet-18 loads and explains in well under a minute; a slow machine gets room

const USAGE = `usage: node scripts/demo-check.mjs <model.onnx> [options]

Loads the model into the demo (#model-file) in headless chromium, chooses a photo (#photo-file), waits for the
photo mode's top-5 and prints it with the explain time and the longest main-thread task.

options:
  --photo FILE       the photo to explain (default: ${path.relative(ROOT, DEFAULT_PHOTO)})
  --screenshot FILE  write a full-page screenshot there (PNG)
  --timeout S        seconds for the whole check before it gives up (default ${DEFAULT_TIMEOUT_S})
  --expect FILE      PyTorch's reference for this model and photo (reference.json of make_photo_fixtures.py):
                     the top-5 must agree with it, within a tolerance for the browser's resize
  --json             also print the result as one line: ${JSON_TAG}{...}
  --help             this text`;

/** A failed check: the message says what the page showed (exit code 1). */
class CheckError extends Error {}

function usageError(message) {
  console.error(`demo-check: ${message}\n\n${USAGE}`);
  process.exit(2);
}

function readArguments(argv) {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        photo: { type: 'string', default: DEFAULT_PHOTO },
        screenshot: { type: 'string' },
        timeout: { type: 'string', default: String(DEFAULT_TIMEOUT_S) },
        expect: { type: 'string' },
        json: { type: 'boolean', default: false },
        help: { type: 'boolean', default: false },
      },
    });
  } catch (e) {
    usageError(e.message);
  }
  const { values, positionals } = parsed;
  if (values.help) {
    console.log(USAGE);
    process.exit(0);
  }
  if (positionals.length !== 1) usageError(`expected one model file, got ${positionals.length ? positionals.join(' ') : 'none'}`);
  const isFile = (f) => existsSync(f) && statSync(f).isFile();
  const model = path.resolve(positionals[0]);
  if (!isFile(model)) usageError(`the model ${positionals[0]} is not a file`);
  const photo = path.resolve(values.photo);
  if (!isFile(photo)) usageError(`the photo ${values.photo} is not a file`);
  const timeoutS = Number(values.timeout);
  if (!(timeoutS > 0)) usageError(`--timeout must be a positive number of seconds (got ${values.timeout})`);
  const expect = values.expect && path.resolve(values.expect);
  if (expect && !isFile(expect)) usageError(`the reference ${values.expect} is not a file`);
  return { model, photo, screenshot: values.screenshot && path.resolve(values.screenshot), timeoutS, expect, json: values.json };
}

// -------------------------------------------------------------------------------------------------
// In the page

// Installed before the page's own scripts: the longest main-thread task (Long Tasks API, tasks ≥ 50 ms) since
// window.__demoCheck.reset(), so that the figure covers the photo's explanation, not the engine's start-up.
function watchLongTasks() {
  const state = { max: 0, count: 0, since: 0 };
  window.__demoCheck = { state, reset: () => Object.assign(state, { max: 0, count: 0, since: performance.now() }) };
  try {
    new PerformanceObserver((list) => {
      for (const e of list.getEntries()) {
        if (e.startTime < state.since) continue;
        state.max = Math.max(state.max, e.duration);
        state.count++;
      }
    }).observe({ type: 'longtask', buffered: true });
  } catch {
    state.unsupported = true;
  }
}

/** What the page shows now: the error fields, the model, the photo result (read in the page). */
function pageState() {
  const d = window.__lrpDemo;
  const r = d?.lastResult;
  return {
    state: document.body.dataset.state,
    status: document.getElementById('status')?.textContent ?? '',
    error: d?.error ?? null,
    modelError: d?.modelError ?? null,
    modelName: d?.modelName ?? null,
    modelLabel: document.querySelector('#model option[value="custom"]')?.textContent ?? '',
    mode: d?.mode ?? null,
    hasPhotoInput: Boolean(document.getElementById('photo-file')),
    top5: r?.top5 ?? null,
    source: r?.source ?? null, // what was explained: the photo's file name (the page may first explain a sample photo)
    latency: d?.latency ?? null,
    maxLongTask: d?.maxLongTask ?? null,
    longTasks: window.__demoCheck?.state ?? null,
  };
}

// -------------------------------------------------------------------------------------------------
// The steps

/** Polls the page until `done(state)` holds; a page error or the deadline ends it with a CheckError. */
async function waitFor(page, env, what, done, deadline) {
  for (;;) {
    const s = await page.evaluate(pageState);
    if (done(s)) return s;
    const pageError = env.problems.page[0];
    const shown = s.modelError ? `the model did not load: ${s.modelError}` : s.error ? `the page shows an error: ${s.error}` : pageError ? `uncaught exception on the page: ${pageError}` : null;
    if (shown) throw new CheckError(`${what}: ${shown}`);
    if (performance.now() > deadline) throw new CheckError(`${what}: timed out; the status line says: "${s.status}"`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function check({ model, photo, screenshot, timeoutS, expect }, log) {
  const started = performance.now();
  const deadline = started + timeoutS * 1000;
  const { setup } = await import(pathToFileURL(path.join(ROOT, 'tests', 'e2e', 'helpers.mjs')).href);
  const env = await setup();
  const result = { model, photo, ok: false };
  let page;
  try {
    page = await env.newPage();
    page.setDefaultTimeout(timeoutS * 1000);
    await page.addInitScript(watchLongTasks);
    await page.goto(env.server.url);
    // The page starts on a bundled MNIST model; ready (or an error there, which the user's file replaces).
    const opened = await page.waitForFunction(() => ['ready', 'error'].includes(document.body.dataset.state), null, { timeout: timeoutS * 1000 })
      .then(() => page.evaluate(pageState), () => null);
    if (!opened) throw new CheckError(`opening the demo: timed out (is dist/ built? npm run build)`);
    if (opened.state === 'error') {
      // the bundled model's failure is not the user's model's: noted, then cleared so the checks below see only new errors
      log(`note: the demo's start-up model failed (${opened.error ?? opened.status}); going on with the model file`);
      await page.evaluate(() => (window.__lrpDemo.error = null));
    }
    env.problems.page.length = 0;

    const t0 = performance.now();
    await page.setInputFiles('#model-file', model);
    const name = path.basename(model);
    let s = await waitFor(page, env, `loading ${name}`,
      (st) => st.modelName === 'custom' && st.modelLabel.includes(name) && st.state !== 'loading', deadline);
    result.loadMs = performance.now() - t0;
    log(`model loaded in ${(result.loadMs / 1000).toFixed(1)} s: ${s.status}`);

    if (!s.hasPhotoInput) throw new CheckError('the demo has no photo input (#photo-file): this page has no photo mode');
    await page.evaluate(() => {
      window.__demoCheck?.reset();
      window.__demoCheckBefore = window.__lrpDemo.lastResult; // kept in the page: identity, not a copy
    });
    const t1 = performance.now();
    await page.setInputFiles('#photo-file', photo);
    s = await waitFor(page, env, `explaining ${path.basename(photo)}`,
      (st) => Array.isArray(st.top5) && st.top5.length > 0 && st.modelName === 'custom' && st.source === path.basename(photo), deadline);
    // lastResult must be the photo's, not one from before the photo was chosen
    const fresh = await page.evaluate(() => window.__lrpDemo.lastResult !== window.__demoCheckBefore);
    if (!fresh) throw new CheckError('the top-5 on the page predates the photo');
    result.photoMs = performance.now() - t1;
    // the Long Tasks API reports a task after it ended, in a later task: give its observer a moment
    await page.evaluate(() => new Promise((r) => setTimeout(r, 250)));
    s.longTasks = await page.evaluate(() => window.__demoCheck?.state ?? null);
    Object.assign(result, {
      ok: true, mode: s.mode, top5: s.top5, status: s.status,
      latency: s.latency, explainMs: s.latency?.photo ?? null, maxLongTask: s.maxLongTask, // photo mode's median (ms)
      longTasks: s.longTasks,
    });
  } catch (e) {
    result.error = e instanceof CheckError ? e.message : `${e.name}: ${e.message}`;
  } finally {
    if (page && screenshot) {
      try {
        mkdirSync(path.dirname(screenshot), { recursive: true });
        await page.screenshot({ path: screenshot, fullPage: true });
        result.screenshot = screenshot;
      } catch (e) {
        log(`could not write the screenshot: ${e.message}`);
      }
    }
    await env.close();
  }
  result.seconds = (performance.now() - started) / 1000;
  if (result.ok && expect) await compareWithReference(result, expect);
  return result;
}

/** --expect: the page's top-5 against PyTorch's (tests/e2e/photo-reference.mjs); a disagreement fails the check. */
async function compareWithReference(result, file) {
  const { readPhotoReference, compareTop5, defaultTolerance } = await import(pathToFileURL(path.join(ROOT, 'tests', 'e2e', 'photo-reference.mjs')).href);
  const ref = readPhotoReference(file);
  const tolerance = defaultTolerance(ref);
  const problems = compareTop5(result.top5, ref, tolerance);
  result.expected = { file, top5: ref.top5, tolerance, problems };
  if (problems.length) {
    result.ok = false;
    result.error = `the top-5 disagrees with PyTorch's (${path.basename(file)}, tolerance ${tolerance.toFixed(4)}):\n  ${problems.join('\n  ')}`;
  }
}

const ms = (v) => (typeof v === 'number' && Number.isFinite(v) ? `${v.toFixed(0)} ms` : 'not recorded');

function report(r) {
  console.log(`model: ${r.model}\nphoto: ${r.photo}`);
  if (Array.isArray(r.top5)) {
    console.log(`mode: ${r.mode ?? '(demo.mode not set)'}\ntop-5:`);
    for (const [k, t] of r.top5.entries()) {
      const p = typeof t.probability === 'number' ? `${(100 * t.probability).toFixed(2)} %` : '-';
      const logit = typeof t.logit === 'number' ? t.logit.toFixed(4) : '-';
      console.log(`  ${k + 1}. class ${String(t.class).padStart(4)}  ${String(t.name ?? '').padEnd(30)}  logit ${logit.padStart(9)}  p ${p}`);
    }
    console.log(`explain time (demo.latency.photo, request → heatmap): ${ms(r.explainMs)}`);
    console.log(`photo chosen → top-5 on the page: ${ms(r.photoMs)} (model load: ${ms(r.loadMs)})`);
    const own = r.longTasks?.unsupported ? 'Long Tasks API unsupported' : `${ms(r.longTasks?.max)} (${r.longTasks?.count ?? 0} tasks ≥ 50 ms, Long Tasks API)`;
    console.log(`longest main-thread task after the photo: demo.maxLongTask ${ms(r.maxLongTask)}; measured ${own}`);
  }
  if (r.expected) console.log(`PyTorch's top-5 (${path.relative(ROOT, r.expected.file)}): ${r.expected.top5.join(', ')}; tolerance ${r.expected.tolerance.toFixed(4)}`);
  if (r.screenshot) console.log(`screenshot: ${r.screenshot}`);
  console.log(r.ok ? 'OK' : `FAIL: ${r.error}`);
}

async function main() {
  const options = readArguments(process.argv.slice(2));
  // the hard stop: a hung browser must not hang a zoo run
  const guard = setTimeout(() => {
    console.error(`demo-check: no result within ${options.timeoutS + 30} s; giving up`);
    process.exit(1);
  }, (options.timeoutS + 30) * 1000);
  guard.unref();
  const r = await check(options, (line) => console.log(line));
  report(r);
  if (options.json) console.log(`${JSON_TAG}${JSON.stringify(r)}`);
  process.exitCode = r.ok ? 0 : 1;
}

const isMain = process.argv[1] && import.meta.url === pathToFileURL(path.resolve(process.argv[1])).href;
if (isMain) await main();
