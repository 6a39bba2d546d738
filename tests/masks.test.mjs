// Attention masks computed from the ids (ATTNLRP rule 13), token models with a dynamic sequence axis, and
// the conservation report. References: the operator fixtures masked-text and masked-text-inf
// (scripts/make_fixtures.py: PyTorch's logits, also for input 0 without its padding, and a float64
// reference of the rules, which ops.test.mjs compares case by case), and the conservation figures that
// ../shared/ATTNLRP.md gives for LXT on the golden tiny-vit.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { loadModel, evaluate } from 'lrp-wasm';
import { loadGolden } from './helpers/golden.mjs';

const fixtures = fileURLToPath(new URL('./fixtures/ops/', import.meta.url));
const MASKED = ['masked-text', 'masked-text-inf'];

function fixture(name) {
  const dir = `${fixtures}${name}/`;
  const meta = JSON.parse(readFileSync(`${dir}cases.json`, 'utf8'));
  const bytes = readFileSync(`${dir}${meta.inputs}`);
  const ids = new Int32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
  const length = meta.input_shape[0];
  return { meta, path: `${dir}model.onnx`, input: (i) => ids.slice(i * length, (i + 1) * length) };
}

const maxAbs = (values) => values.reduce((m, v) => Math.max(m, Math.abs(v)), 0);

for (const name of MASKED) {
  test(`${name}: padded positions get no relevance under every composite, and −inf/−10000 leave no NaN`, async () => {
    const { path, input } = fixture(name);
    const model = await loadModel(path);
    try {
      assert.deepEqual(model.inputShape, [-1], 'the sequence axis is dynamic');
      for (const index of [0, 1]) {
        const ids = input(index);
        const pads = [...ids.keys()].filter((i) => ids[i] === 0);
        assert.ok(pads.length > 0, 'the fixture pads its inputs');
        for (const composite of ['attn-lrp', 'cp-lrp', 'epsilon-plus', 'epsilon-plus-flat']) {
          const { relevance } = model.explain(ids, { composite });
          assert.ok(relevance.every(Number.isFinite), `${composite}: finite`);
          const limit = 1e-6 * maxAbs(relevance);
          assert.ok(maxAbs(relevance) > 0, `${composite}: some relevance`);
          for (const i of pads) assert.ok(Math.abs(relevance[i]) <= limit, `${composite}, input ${index}: pad at ${i} has ${relevance[i]} (> 1e-6 · max)`);
        }
        const { relevance } = model.explain(ids, { method: 'gradient' });
        assert.ok(relevance.every(Number.isFinite));
      }
    } finally {
      model.dispose();
    }
  });

  test(`${name}: a dynamic sequence takes any length up to the positional table, each with PyTorch's logits`, async () => {
    const { meta, path, input } = fixture(name);
    const model = await loadModel(path);
    try {
      const padded = input(0);
      const short = new Int32Array(meta.unpadded.ids);
      assert.ok(short.length < padded.length);
      // Without its padding: PyTorch's logits at that length, which (the pads being masked) are the padded ones.
      const logits = model.predict(short);
      meta.unpadded.output.forEach((v, k) => assert.ok(Math.abs(logits[k] - v) <= 1e-4 * Math.max(1, Math.abs(v)), `logit ${k}: ${logits[k]} vs ${v}`));
      const shortExplanation = model.explain(short, { composite: 'attn-lrp', layerRelevance: true });
      assert.deepEqual(shortExplanation.shape, [short.length]);
      assert.equal(shortExplanation.layers[0].outputShape[0], short.length, 'layers at the length explained');
      const paddedExplanation = model.explain(padded, { composite: 'attn-lrp' });
      assert.deepEqual(paddedExplanation.shape, [padded.length]);
      const scale = maxAbs(paddedExplanation.relevance);
      short.forEach((_, i) => assert.ok(Math.abs(shortExplanation.relevance[i] - paddedExplanation.relevance[i]) <= 1e-4 * scale, `token ${i}`));
      // Lengths from 1 to the table's 10 rows work; 11 is an Error naming the length, and the model still works.
      for (const length of [1, 3, 10]) assert.equal(model.predict(new Int32Array(length).fill(5)).length, 3);
      assert.throws(() => model.predict(new Int32Array(11).fill(5)), /predict: this model does not take a sequence of 11 tokens/);
      assert.throws(() => model.explain(new Int32Array(0)), /at least one token id/);
      // An absurd length is refused before any conversion (which would exhaust memory).
      assert.throws(() => model.predict(new Int32Array(2 ** 20 + 1)), /1048577 token ids is more than the 1048576/);
      await assert.rejects(() => evaluate(model, [padded]), /evaluate: the model takes token ids \(int64\); pixel flipping perturbs float inputs only/);
      assert.throws(() => model.explainBatch([short, padded]), /different numbers of tokens \(4, 8\)/);
      const again = model.predict(padded);
      assert.ok(Math.abs(again[0] - meta.cases[0].output[0]) <= 1e-4 * Math.max(1, Math.abs(meta.cases[0].output[0])));
      // A batch of one length, with its masks per input.
      const batch = model.explainBatch([input(0), input(1)], { composite: 'attn-lrp' });
      const single = model.explain(input(1), { composite: 'attn-lrp' });
      single.relevance.forEach((v, i) => assert.ok(Math.abs(batch[1].relevance[i] - v) <= 1e-6 * maxAbs(single.relevance)));
    } finally {
      model.dispose();
    }
  });

  test(`${name}: the conservation report matches the reference's absorbed shares`, async () => {
    const { meta, path, input } = fixture(name);
    const model = await loadModel(path);
    try {
      for (const c of meta.cases.filter((c) => c.conservation)) {
        const e = model.explain(input(c.input_index), { ...c.options, layerRelevance: true });
        const { output, input: inputSum, absorbed } = e.conservation;
        const tolerance = 1e-4 * Math.max(1, Math.abs(output));
        const total = Object.values(absorbed).reduce((a, b) => a + b, 0);
        assert.ok(Math.abs(output - inputSum - total) <= tolerance, `output ${output} = input ${inputSum} + absorbed ${total}`);
        assert.ok(Math.abs(output - c.conservation.target_output) <= tolerance);
        const reference = (pattern) => Object.entries(c.conservation.absorbed)
          .filter(([key]) => pattern.test(key)).reduce((sum, [, v]) => sum + v, 0);
        const label = JSON.stringify(c.options);
        assert.ok(Math.abs(absorbed.softmax - reference(/:softmax$/)) <= tolerance, `${label}: softmax ${absorbed.softmax}`);
        assert.ok(Math.abs(absorbed.positions - reference(/:add-constant$/)) <= tolerance, `${label}: positions ${absorbed.positions}`);
        assert.ok(Math.abs(absorbed.biases - reference(/:dense:/)) <= tolerance, `${label}: biases ${absorbed.biases}`);
      }
    } finally {
      model.dispose();
    }
  });
}

// ATTNLRP.md "Conservation": tiny-vit, input 0, attn-lrp (LXT): f_t = 1.857, Σ R = 0.384; softmax 0.878,
// CLS 0.414, positions 0.310, linear biases −0.161, LayerNorm −0.018, patch conv +0.049 (three decimals).
test('tiny-vit: the conservation report gives the absorbed shares ATTNLRP.md lists for LXT', async () => {
  const golden = loadGolden('tiny-vit');
  const model = await loadModel(golden.modelPath);
  try {
    const e = model.explain(golden.input(0), { composite: 'attn-lrp', layerRelevance: true });
    const { output, input, absorbed } = e.conservation;
    const near = (got, want, what) => assert.ok(Math.abs(got - want) <= 0.0015, `${what}: ${got.toFixed(4)}, LXT ${want}`);
    near(output, 1.857, 'f_t');
    near(input, 0.384, 'Σ R at the input');
    near(absorbed.softmax, 0.878, 'softmax');
    near(absorbed.clsToken, 0.414, 'CLS token');
    near(absorbed.positions, 0.310, 'positions');
    near(absorbed.layerNorm, -0.018, 'LayerNorm');
    near(absorbed.biases, -0.161 + 0.049, 'biases (linear maps and the patch conv)');
    assert.equal(absorbed.masks, 0);
    // CP-LRP: Σ R = 1.009.
    near(model.explain(golden.input(0), { composite: 'cp-lrp', layerRelevance: true }).conservation.input, 1.009, 'CP-LRP Σ R');
  } finally {
    model.dispose();
  }
});

// nn.TransformerEncoder with src_key_padding_mask = (ids == 0), exported by PyTorch (tests/fixtures/encoder,
// scripts/make_fixtures.py encoder): the mask runs through Where inside the attention, with the batch first
// and (sequence-first) merged with the heads. Reference: PyTorch's logits, padded and unpadded.
const encoders = JSON.parse(readFileSync(fileURLToPath(new URL('./fixtures/encoder/cases.json', import.meta.url)), 'utf8'));
for (const [name, { model: file, cases, causal, dynamic }] of Object.entries(encoders.models)) {
  if (causal) {
    // mask = generate_square_subsequent_mask(T): torch.triu (Trilu, folded at load) of −inf, added to the
    // scores as a constant. The classifier reads token 0, which attends only to itself.
    test(`nn.TransformerEncoder (${name}) with a causal mask: PyTorch's logits, and only the first token is relevant`, async () => {
      const model = await loadModel(fileURLToPath(new URL(`./fixtures/encoder/${file}`, import.meta.url)));
      try {
        assert.deepEqual(model.inputShape, dynamic ? [-1] : [cases[0].ids.length]);
        for (const c of cases) {
          const logits = model.predict(new Int32Array(c.ids));
          c.output.forEach((v, k) => assert.ok(Math.abs(logits[k] - v) <= 1e-4 * Math.max(1, Math.abs(v)), `logit ${k} ${logits[k]} vs ${v}`));
          for (const composite of ['attn-lrp', 'cp-lrp', 'epsilon-plus']) {
            const { relevance, conservation } = model.explain(new Int32Array(c.ids), { composite, layerRelevance: true });
            assert.ok(relevance.every(Number.isFinite), composite);
            assert.ok(Math.abs(relevance[0]) > 0);
            for (let i = 1; i < relevance.length; i++) assert.ok(Math.abs(relevance[i]) <= 1e-6 * Math.abs(relevance[0]), `${composite}: token ${i} is after token 0`);
            const total = Object.values(conservation.absorbed).reduce((a, b) => a + b, 0);
            assert.ok(Math.abs(conservation.output - conservation.input - total) <= 1e-4 * Math.max(1, Math.abs(conservation.output)));
          }
        }
        if (dynamic) assert.equal(model.predict(new Int32Array([4, 2, 7])).length, 3);
      } finally {
        model.dispose();
      }
    });
    continue;
  }
  test(`nn.TransformerEncoder (${name}) with a padding mask from the ids: PyTorch's logits at any length, no relevance on the padding`, async () => {
    const model = await loadModel(fileURLToPath(new URL(`./fixtures/encoder/${file}`, import.meta.url)));
    try {
      assert.deepEqual(model.inputShape, [-1]);
      for (const c of cases) {
        for (const [ids, want] of [[c.ids, c.output], [c.unpadded, c.unpadded_output]]) {
          const logits = model.predict(new Int32Array(ids));
          want.forEach((v, k) => assert.ok(Math.abs(logits[k] - v) <= 1e-4 * Math.max(1, Math.abs(v)), `${ids}: logit ${k} ${logits[k]} vs ${v}`));
        }
        for (const composite of ['attn-lrp', 'cp-lrp']) {
          const padded = model.explain(new Int32Array(c.ids), { composite, layerRelevance: true });
          const short = model.explain(new Int32Array(c.unpadded), { composite });
          const scale = maxAbs(padded.relevance);
          c.ids.forEach((id, i) => {
            if (id === 0) assert.ok(Math.abs(padded.relevance[i]) <= 1e-6 * scale, `${composite}: pad ${i}`);
            else assert.ok(Math.abs(padded.relevance[i] - short.relevance[i]) <= 1e-4 * scale, `${composite}: token ${i} padded vs not`);
          });
          const { output, input, absorbed } = padded.conservation;
          const total = Object.values(absorbed).reduce((a, b) => a + b, 0);
          assert.ok(Math.abs(output - input - total) <= 1e-4 * Math.max(1, Math.abs(output)));
        }
      }
    } finally {
      model.dispose();
    }
  });
}
