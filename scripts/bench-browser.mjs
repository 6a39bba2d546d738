// The demo's stroke → heatmap latency, measured inside the page (Debian chromium via playwright-core):
// strokes are drawn on the canvas and the page times each pointerup to the repainted heatmap
// (window.__lrpDemo.latency: medians per model). Run alone or by scripts/bench.mjs; prints one line
// `BROWSER_JSON {...}` at the end.
import { setup, waitReady, stroke, after } from '../tests/e2e/helpers.mjs';

const STROKES = [
  [[0.5, 0.16], [0.5, 0.5], [0.5, 0.84]],
  [[0.24, 0.2], [0.76, 0.2], [0.6, 0.5], [0.44, 0.84]],
  [[0.3, 0.25], [0.7, 0.25], [0.7, 0.5], [0.3, 0.5], [0.3, 0.8], [0.7, 0.8]],
  [[0.65, 0.2], [0.35, 0.5], [0.5, 0.8], [0.65, 0.6], [0.4, 0.55]],
  [[0.35, 0.2], [0.35, 0.5], [0.65, 0.5], [0.65, 0.2], [0.65, 0.85]],
  [[0.3, 0.3], [0.5, 0.15], [0.7, 0.3], [0.3, 0.8], [0.75, 0.8]],
  [[0.5, 0.2], [0.5, 0.8]],
];
const ROUNDS = Number(process.env.BENCH_BROWSER_ROUNDS ?? 3);

const env = await setup();
try {
  const page = await env.newPage();
  await page.goto(env.server.url);
  await waitReady(page);
  const result = {};
  for (const model of ['mlp', 'cnn']) {
    if ((await page.inputValue('#model')) !== model) await after(page, 'model', () => page.selectOption('#model', model));
    for (let round = 0; round < ROUNDS; round++)
      for (const points of STROKES) {
        await page.click('#clear');
        await stroke(page, points);
      }
    result[model] = await page.evaluate((m) => {
      const list = [...window.__lrpDemo.latencies[m]].sort((a, b) => a - b);
      return { median: window.__lrpDemo.latency[m], p90: list[Math.floor(0.9 * (list.length - 1))], n: list.length };
    }, model);
    const r = result[model];
    console.log(`demo ${model}: stroke → heatmap median ${r.median.toFixed(1)} ms, p90 ${r.p90.toFixed(1)} ms over ${r.n} strokes ` +
      `(${r.median <= 16.7 ? 'within' : 'over'} one 60 Hz frame; includes the comparison map and the per-layer relevance)`);
  }
  console.log(`BROWSER_JSON ${JSON.stringify(result)}`);
} finally {
  await env.close();
}
