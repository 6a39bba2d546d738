// Every reference case computed by Zennit (tiny-mlp, tiny-cnn) and LXT (tiny-vit, tiny-text: attn-lrp, cp-lrp) must be reproduced (criterion: ../shared/golden/README.md).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadModel } from 'lrp-wasm';
import { loadGolden, relevanceError } from './helpers/golden.mjs';

for (const name of ['tiny-mlp', 'tiny-cnn', 'tiny-vit', 'tiny-text']) {
  const golden = loadGolden(name);

  test(`${name}: logits match the reference`, async () => {
    const model = await loadModel(golden.modelPath);
    assert.deepEqual(model.inputShape, golden.inputShape);
    for (const c of golden.cases) {
      const logits = model.predict(golden.input(c.input_index));
      const scale = Math.max(1, ...c.output.map(Math.abs));
      c.output.forEach((v, i) => assert.ok(Math.abs(logits[i] - v) <= 1e-4 * scale, `logit ${i}: ${logits[i]} vs ${v}`));
    }
    model.dispose();
  });

  test(`${name}: all ${golden.cases.length} reference relevances`, async () => {
    const model = await loadModel(golden.modelPath);
    const failures = [];
    for (const [i, c] of golden.cases.entries()) {
      const result = model.explain(golden.input(c.input_index), c.options);
      assert.equal(result.target, c.options.target);
      const { maxDiff, scale, ok } = relevanceError(result.relevance, c.expected(), c.output[c.options.target]);
      if (!ok) failures.push(`case ${i} ${JSON.stringify(c.options)}: max diff ${maxDiff.toExponential(2)} > 1e-4 × ${scale.toExponential(2)}`);
      const sum = result.relevance.reduce((a, b) => a + b, 0);
      assert.ok(Math.abs(sum - c.relevance_sum) <= 1e-4 * Math.max(1, Math.abs(c.relevance_sum)) + 1e-4 * scale * result.relevance.length, `case ${i}: sum ${sum} vs ${c.relevance_sum}`);
    }
    assert.deepEqual(failures, []);
    model.dispose();
  });
}
