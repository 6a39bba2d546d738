// Measures, inside the page, the time from the last stroke's pointerup to the repainted heatmap
// (performance.now() in the page), for the MLP and the CNN. The page keeps every measurement in
// window.__lrpDemo.latencies[model] and their median in window.__lrpDemo.latency = { mlp, cnn } (ms),
// which a benchmark can read. No time bound is asserted: this reports.
import { test, before, after as afterAll } from 'node:test';
import assert from 'node:assert/strict';
import { openDemo, after, stroke, shot, ONE, SEVEN, noProblems } from './helpers.mjs';

const STROKES = [
  ONE,
  SEVEN,
  [[0.3, 0.25], [0.7, 0.25], [0.7, 0.5], [0.3, 0.5], [0.3, 0.8], [0.7, 0.8]],
  [[0.65, 0.2], [0.35, 0.5], [0.5, 0.8], [0.65, 0.6], [0.4, 0.55]],
  [[0.35, 0.2], [0.35, 0.5], [0.65, 0.5], [0.65, 0.2], [0.65, 0.85]],
  [[0.3, 0.3], [0.5, 0.15], [0.7, 0.3], [0.3, 0.8], [0.75, 0.8]],
  [[0.5, 0.2], [0.5, 0.8]],
];

let env, page;
before(async () => {
  ({ env, page } = await openDemo());
});
afterAll(() => env?.close());

test('stroke → heatmap latency, MLP and CNN (median of several strokes, measured in the page)', async (t) => {
  const medians = {};
  for (const model of ['mlp', 'cnn']) {
    if ((await page.inputValue('#model')) !== model) await after(page, 'model', () => page.selectOption('#model', model));
    for (const s of STROKES) {
      await page.click('#clear');
      const r = await stroke(page, s);
      assert.equal(r.model, model);
    }
    const { list, median } = await page.evaluate((m) => ({ list: window.__lrpDemo.latencies[m], median: window.__lrpDemo.latency[m] }), model);
    assert.equal(list.length, STROKES.length, `one measurement per stroke on the ${model}`);
    assert.ok(list.every((ms) => ms > 0 && Number.isFinite(ms)));
    medians[model] = median;
    t.diagnostic(`${model}: stroke → heatmap median ${median.toFixed(1)} ms (${list.map((v) => v.toFixed(0)).join(', ')} ms)`);
  }
  const exposed = await page.evaluate(() => window.__lrpDemo.latency);
  assert.deepEqual(Object.keys(exposed).sort(), ['cnn', 'mlp']);
  assert.deepEqual(exposed, medians);
  assert.match(await page.textContent('#latency'), /stroke → heatmap: \d+ ms/);
  await shot(page, '30-latency');
});

test('no console errors, page errors, failed or foreign requests', () => {
  assert.deepEqual(env.problems, noProblems, JSON.stringify(env.problems, null, 2));
});
