// Browser tests of the explanation controls: MNIST test digits, methods, rule parameters, targets,
// the comparison map, the relevance flow with a unit click, colour maps and the overlay opacity.
import { test, before, after as afterAll } from 'node:test';
import assert from 'node:assert/strict';
import { openDemo, after, stroke, readHeatmap, pixelDiff, shot, ONE, noProblems } from './helpers.mjs';

let env, page;
before(async () => {
  ({ env, page } = await openDemo());
});
afterAll(() => env?.close());

test('picking an MNIST test digit explains it; its prediction equals its label', async () => {
  await page.waitForFunction(() => window.__lrpDemo.samples?.count > 0);
  const samples = await page.evaluate(() => window.__lrpDemo.samples);
  assert.equal(samples.count, 300);
  assert.ok((await page.locator('#sample option').count()) >= 300, 'the test digits are listed');
  // test digit #0 is a clear 7
  const value = await page.$eval('#sample', (s) => [...s.options].find((o) => /test #0\)/.test(o.textContent)).value);
  const r = await after(page, 'sample', () => page.selectOption('#sample', value));
  assert.equal(samples.labels[Number(value)], 7);
  assert.equal(r.prediction, 7, `test digit #0 (a 7) predicted as ${r.prediction}`);
  assert.ok(r.probability > 0.9);
  assert.equal((await page.textContent('#prediction')).trim(), '7');
  assert.match(await page.textContent('#status'), /test digit #0 \(label 7\)/);
  assert.ok((await readHeatmap(page)).red > 0);
  await shot(page, '10-test-digit');
  // the first digit of every class: the MLP gets (nearly) all of them
  let correct = 0;
  for (let c = 0; c < 10; c++) {
    const k = samples.labels.indexOf(c);
    const res = await after(page, 'sample', () => page.selectOption('#sample', String(k)));
    if (res.prediction === c) correct++;
  }
  assert.ok(correct >= 9, `${correct}/10 first test digits per class classified correctly`);
  // the random button picks one and shows it
  const rr = await after(page, 'sample', () => page.click('#random'));
  assert.match(rr.prediction.toString(), /^[0-9]$/);
  assert.notEqual(await page.inputValue('#sample'), '');
  // drawing over a test digit adds a stroke; undo goes back to the digit itself
  const digitMap = await readHeatmap(page);
  await stroke(page, [[0.1, 0.1], [0.9, 0.9]]);
  await after(page, 'undo', () => page.click('#undo'));
  assert.equal(pixelDiff(digitMap, await readHeatmap(page)), 0, 'undo returns to the test digit');
});

test('every method explains; methods change the heatmap', async () => {
  await page.click('#clear');
  await stroke(page, ONE);
  const values = await page.$$eval('#method option', (os) => os.map((o) => o.value));
  for (const v of ['epsilon-plus', 'epsilon-plus-flat', 'deep-taylor', 'epsilon-gamma-box', 'rule:epsilon', 'rule:gamma',
    'rule:alpha-beta', 'rule:z-box', 'rule:z-plus', 'gradient', 'gradient-x-input', 'integrated-gradients', 'smoothgrad']) {
    assert.ok(values.includes(v), `method ${v} is offered`);
  }
  const maps = {};
  for (const v of values) {
    const r = await after(page, 'method', () => page.selectOption('#method', v));
    assert.notEqual(await page.locator('#status').getAttribute('data-kind'), 'error', `${v}: ${await page.textContent('#status')}`);
    assert.equal(r.method, v);
    assert.equal(r.prediction, 1, `${v}: prediction must not depend on the method`);
    assert.ok(r.maxAbsRelevance > 0, `${v}: max |R| = ${r.maxAbsRelevance}`);
    maps[v] = await readHeatmap(page);
    assert.ok((await page.textContent('#method-help')).length > 10, `${v}: the method is described`);
    if (v === 'smoothgrad') await shot(page, '11-smoothgrad');
  }
  assert.ok(pixelDiff(maps['epsilon-plus'], maps.gradient) > 0, 'gradient differs from epsilon-plus');
  assert.ok(pixelDiff(maps['epsilon-plus'], maps['deep-taylor']) > 0);
  assert.ok(pixelDiff(maps.gradient, maps['gradient-x-input']) > 0);
  assert.ok(pixelDiff(maps.gradient, maps.smoothgrad) > 0);
  assert.ok(pixelDiff(maps['gradient-x-input'], maps['integrated-gradients']) > 0);
  await after(page, 'method', () => page.selectOption('#method', 'epsilon-plus'));
  assert.equal(pixelDiff(maps['epsilon-plus'], await readHeatmap(page)), 0, 'same method again → same heatmap');
});

test('a job the engine refuses: its error is shown for its panel; the prediction stays', async () => {
  await after(page, 'method', () => page.selectOption('#method', 'integrated-gradients'));
  assert.ok(await page.isVisible('#steps'));
  await page.evaluate(() => document.getElementById('status').removeAttribute('data-kind'));
  await page.fill('#steps', '5000'); // the engine takes 1 to 4096 steps
  await page.locator('#steps').dispatchEvent('change');
  await page.waitForFunction(() => document.getElementById('status').dataset.kind === 'error');
  assert.match(await page.textContent('#status'), /^Explaining with "integrated-gradients" failed: explain: steps must be an integer from 1 to 4096 \(got 5000\)/);
  assert.equal((await page.textContent('#prediction')).trim(), '1', 'the prediction of the same request is shown');
  assert.equal((await readHeatmap(page)).opaque, 0, 'the failed map is cleared, not left stale');
  await page.fill('#steps', '32');
  const r = await after(page, 'param', () => page.locator('#steps').dispatchEvent('change'));
  assert.equal(r.method, 'integrated-gradients');
  assert.ok(r.maxAbsRelevance > 0);
  assert.notEqual(await page.locator('#status').getAttribute('data-kind'), 'error', await page.textContent('#status'));
  await after(page, 'method', () => page.selectOption('#method', 'epsilon-plus'));
});

test('rule parameters change the map; α − β = 1 is enforced', async () => {
  await after(page, 'method', () => page.selectOption('#method', 'rule:epsilon'));
  assert.ok(await page.isVisible('#epsilon'));
  assert.equal(await page.isVisible('#gamma'), false, 'only the parameters of the chosen rule are shown');
  await after(page, 'param', () => page.fill('#epsilon', '0.001').then(() => page.locator('#epsilon').dispatchEvent('change')));
  const small = await readHeatmap(page);
  await after(page, 'param', () => page.fill('#epsilon', '30').then(() => page.locator('#epsilon').dispatchEvent('change')));
  assert.ok(pixelDiff(small, await readHeatmap(page)) > 0, 'ε changes the map');

  await after(page, 'method', () => page.selectOption('#method', 'rule:alpha-beta'));
  await page.fill('#alpha', '3');
  assert.equal(await page.inputValue('#beta'), '2', 'β follows α');
  const ab32 = await after(page, 'param', () => page.locator('#alpha').dispatchEvent('change'));
  assert.ok(ab32.maxAbsRelevance > 0);
  const m32 = await readHeatmap(page);
  await page.fill('#beta', '0');
  assert.equal(await page.inputValue('#alpha'), '1', 'α follows β');
  await after(page, 'param', () => page.locator('#beta').dispatchEvent('change'));
  assert.ok(pixelDiff(m32, await readHeatmap(page)) > 0, 'α/β changes the map');

  await after(page, 'method', () => page.selectOption('#method', 'rule:z-plus'));
  const zp = await readHeatmap(page);
  await after(page, 'param', () => page.selectOption('#first-rule', 'z-box'));
  assert.ok(await page.isVisible('#low'), 'z-box bounds are shown for a z-box first layer');
  const zb = await readHeatmap(page);
  assert.ok(pixelDiff(zp, zb) > 0, 'a z-box first layer changes the map');
  await after(page, 'param', () => page.fill('#low', '-1').then(() => page.locator('#low').dispatchEvent('change')));
  assert.ok(pixelDiff(zb, await readHeatmap(page)) > 0, 'the z-box bounds change the map');
  await shot(page, '12-rule-params');
  await page.selectOption('#first-rule', '');
  await after(page, 'method', () => page.selectOption('#method', 'epsilon-plus'));
});

test('target: any class, and the contrast "why A and not B"', async () => {
  const base = await readHeatmap(page);
  await page.selectOption('#target-kind', 'class');
  assert.ok(await page.isVisible('#target-a'));
  assert.equal(await page.isVisible('#target-b'), false);
  const r7 = await after(page, 'target', () => page.selectOption('#target-a', '7'));
  assert.equal(r7.target, 7);
  assert.equal(r7.prediction, 1);
  assert.match(await page.textContent('#heatmap-target'), /for 7/);
  assert.ok(pixelDiff(base, await readHeatmap(page)) > 0, 'explaining 7 differs from explaining 1');
  await after(page, 'target', () => page.selectOption('#target-kind', 'contrast'));
  const rc = await after(page, 'target', () => page.selectOption('#target-a', '1'));
  await after(page, 'target', () => page.selectOption('#target-b', '7'));
  const c = await page.evaluate(() => window.__lrpDemo.lastResult);
  assert.deepEqual(c.targetSpec, { kind: 'contrast', a: 1, b: 7 });
  assert.ok(Math.abs(c.fx - (c.logits[1] - c.logits[7])) < 1e-4, 'f(x) of the contrast is f1 − f7');
  assert.match(await page.textContent('#heatmap-target'), /for 1, not 7/);
  assert.match(await page.textContent('#relevance-stats'), /f1 − f7 =/);
  assert.ok(pixelDiff(base, await readHeatmap(page)) > 0, 'the contrast map differs from the plain one');
  assert.ok(rc.maxAbsRelevance > 0);
  await shot(page, '13-contrast');
  await after(page, 'target', () => page.selectOption('#target-kind', 'predicted'));
  assert.equal(pixelDiff(base, await readHeatmap(page)), 0);
});

test('comparison map: a second method side by side', async () => {
  const r = await after(page, 'compare', () => page.selectOption('#compare', 'epsilon-plus-flat'));
  assert.equal(r.compare.method, 'epsilon-plus-flat');
  const a = await readHeatmap(page, 'heatmap2');
  const r2 = await after(page, 'compare', () => page.selectOption('#compare', 'gradient'));
  assert.equal(r2.compare.method, 'gradient');
  assert.ok(pixelDiff(a, await readHeatmap(page, 'heatmap2')) > 0);
  await after(page, 'compare', () => page.selectOption('#compare', 'off'));
  assert.equal((await readHeatmap(page, 'heatmap2')).opaque, 0, 'no comparison: empty second map');
  await after(page, 'compare', () => page.selectOption('#compare', 'gradient'));
});

test('faithfulness panel: pixel-flipping curves of the method and the comparison method', async () => {
  await after(page, 'method', () => page.selectOption('#method', 'epsilon-plus'));
  await after(page, 'compare', () => page.selectOption('#compare', 'gradient'));
  await page.evaluate(() => {
    window.__lrpDemo.faithfulness = null;
    // every text the readout shows while the curves are computed
    const readout = document.getElementById('faith-readout');
    window.__faithTexts = [];
    new MutationObserver(() => window.__faithTexts.push(readout.textContent)).observe(readout, { childList: true, characterData: true, subtree: true });
  });
  await page.click('#faith-run');
  await page.waitForFunction(() => window.__lrpDemo.faithfulness?.compare);
  const f = await page.evaluate(() => window.__lrpDemo.faithfulness);
  const texts = await page.evaluate(() => window.__faithTexts);
  assert.equal(texts[0], 'Computing…');
  assert.ok(texts.includes('Computing… 1 of 2 methods done.'), `the progress is shown: ${JSON.stringify(texts)}`);
  assert.match(texts.at(-1), /AOPC MoRF/);
  for (const key of ['main', 'compare']) {
    assert.equal(f[key].morf.curve.length, 21, `${key}: 20 steps + the unperturbed input`);
    assert.equal(f[key].morf.curve[0], f[key].lerf.curve[0], `${key}: both orders start at f(x)`);
    assert.ok(Math.abs(f[key].morf.curve[20] - f[key].lerf.curve[20]) < 1e-4, `${key}: both end with every patch perturbed`);
    assert.ok(f[key].morf.aopc > f[key].lerf.aopc, `${key}: removing the most relevant patches first hurts more`);
  }
  assert.match(f.main.label, /epsilon-plus/);
  assert.match(await page.textContent('#faith-readout'), /AOPC MoRF \d+\.\d\d, LeRF -?\d+\.\d\d.*AOPC MoRF/);
  const inked = await page.$eval('#faith-chart', (c) => {
    const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
    let red = 0, blue = 0;
    for (let i = 0; i < d.length; i += 4) {
      if (d[i + 3] > 0 && d[i] > 150 && d[i + 2] < 100) red++;
      if (d[i + 3] > 0 && d[i + 2] > 150 && d[i] < 100) blue++;
    }
    return { red, blue };
  });
  assert.ok(inked.red > 50 && inked.blue > 50, `both methods' curves are drawn: ${JSON.stringify(inked)}`);
  await page.locator('#faith-chart').scrollIntoViewIfNeeded();
  await shot(page, '17-faithfulness');
});

test('relevance flow: per-layer bars, unit relevance, and a unit click restricts the map', async () => {
  const r = await page.evaluate(() => window.__lrpDemo.lastResult);
  assert.ok(r.layers && r.layers.length > 3, 'per-layer relevance is reported');
  const rows = await page.locator('#flow-chart .flow-row').count();
  assert.equal(rows, r.layers.length + 1, 'one bar per layer plus the input');
  const widths = await page.$$eval('#flow-chart .flow-bar', (bs) => bs.map((b) => parseFloat(b.style.width)));
  assert.ok(widths.every((w) => w > 0), `bars: ${widths}`);
  assert.match(await page.locator('#flow-chart .flow-row').last().getAttribute('aria-label'), /^input: Σ R = /);
  // units of the first hidden layer are drawn; click one
  const unitsInk = await page.evaluate(() => {
    const c = document.getElementById('units');
    const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
    let n = 0;
    for (let i = 3; i < d.length; i += 4) if (d[i] > 0) n++;
    return n;
  });
  assert.ok(unitsInk > 0, 'the unit bars are drawn');
  const full = await readHeatmap(page);
  const layer = Number(await page.inputValue('#flow-layer'));
  await page.locator('#units').scrollIntoViewIfNeeded();
  const box = await page.locator('#units').boundingBox();
  // click at the unit with the largest relevance, so the restricted map is not empty
  const best = await page.evaluate((li) => {
    const l = window.__lrpDemo.lastResult.layers.find((x) => x.index === li);
    return l ? li : null;
  }, layer);
  assert.equal(best, layer);
  const { k, n } = await page.evaluate(() => {
    const v = Array.from(window.__lrpDemo.units.values, Math.abs);
    return { k: v.indexOf(Math.max(...v)), n: v.length };
  });
  const ru = await after(page, 'unit', () => page.mouse.click(box.x + box.width * (k + 0.5) / n, box.y + box.height / 2));
  assert.equal(ru.unit.unit, k, 'the clicked unit is chosen');
  assert.ok(ru.unit && ru.unit.layer === layer, `unit chosen: ${JSON.stringify(ru.unit)}`);
  assert.ok(ru.unit.maxAbsRelevance > 0, 'a click snaps to a unit that holds relevance');
  const restricted = await readHeatmap(page, 'heatmap-unit');
  assert.equal(restricted.opaque, 784, 'the restricted map is painted');
  assert.ok(pixelDiff(full, restricted) > 0, 'the restricted map differs from the full one');
  assert.match(await page.textContent('#unit-caption'), /Through unit \d+ of layer/);
  assert.equal(await page.inputValue('#unit'), String(ru.unit.unit));
  await page.locator('#flow-title').scrollIntoViewIfNeeded();
  await shot(page, '14-flow-unit', { fullPage: true });
  // keyboard: the unit number field
  const rk = await after(page, 'unit', () => page.fill('#unit', '5').then(() => page.locator('#unit').dispatchEvent('change')));
  assert.equal(rk.unit.unit, 5);
  const r0 = await after(page, 'unit', () => page.click('#unit-clear'));
  assert.equal(r0.unit, null);
  assert.equal((await readHeatmap(page, 'heatmap-unit')).opaque, 0);
  // a CNN channel
  await after(page, 'model', () => page.selectOption('#model', 'cnn'));
  await page.selectOption('#flow-layer', '1');
  const rc = await after(page, 'unit', () => page.fill('#unit', '3').then(() => page.locator('#unit').dispatchEvent('change')));
  assert.equal(rc.unit.layer, 1);
  assert.ok(rc.unit.maxAbsRelevance > 0, 'relevance flows through channel 3 of the first ReLU');
  assert.ok(pixelDiff(await readHeatmap(page), await readHeatmap(page, 'heatmap-unit')) > 0);
  await shot(page, '15-cnn-channel', { fullPage: true });
  await after(page, 'unit', () => page.click('#unit-clear'));
  await after(page, 'model', () => page.selectOption('#model', 'mlp'));
});

test('colour maps and overlay opacity', async () => {
  const bwr = await readHeatmap(page);
  assert.deepEqual(bwr.pixels.slice(0, 3), [255, 255, 255], 'blue–white–red: zero relevance (a corner) is white');
  await page.selectOption('#colormap', 'coldhot');
  await page.waitForFunction(() => {
    const d = document.getElementById('heatmap').getContext('2d').getImageData(0, 0, 1, 1).data;
    return d[0] === 0 && d[1] === 0 && d[2] === 0;
  });
  const ch = await readHeatmap(page);
  assert.ok(pixelDiff(bwr, ch) > 0);
  // the hottest pixel is yellow-ish (red + green), no blue
  let hot = 0;
  for (let i = 0; i < ch.pixels.length; i += 4) if (ch.pixels[i] === 255 && ch.pixels[i + 1] > 200 && ch.pixels[i + 2] === 0) hot++;
  assert.ok(hot > 0, 'cold-and-hot: the most relevant pixels are yellow');
  await page.locator('#opacity').fill('30');
  const op = await page.$eval('#heatmap', (c) => getComputedStyle(c).opacity);
  assert.equal(op, '0.3');
  await shot(page, '16-coldhot');
  await page.selectOption('#colormap', 'bwr');
  await page.locator('#opacity').fill('72');
});

test('no console errors, page errors, failed or foreign requests', () => {
  assert.deepEqual(env.problems, noProblems, JSON.stringify(env.problems, null, 2));
});
