// The command line (bin/lrp-wasm.mjs), run as a child process: explain writes heatmaps and relevances
// that match the library, explain --tokens prints and writes the relevance of each token of a text model,
// evaluate prints the AOPC table, --help documents every flag, bad arguments fail.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync, existsSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { PNG } from 'pngjs';
import { loadModel } from 'lrp-wasm';
import { readMnist } from '../scripts/mnist.mjs';

const cli = fileURLToPath(new URL('../bin/lrp-wasm.mjs', import.meta.url));
const mlp = fileURLToPath(new URL('../web/models/mnist-mlp.onnx', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'lrp-wasm-cli-'));
test.after(() => rmSync(dir, { recursive: true, force: true }));

function run(...args) {
  const { status, stdout, stderr } = spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8', cwd: dir });
  return { status, stdout, stderr };
}

// A digit as a PNG: grey 28×28 (as MNIST's bytes), or RGB upscaled `scale` times (box-resized back exactly).
function writeDigit(file, image, scale = 1) {
  const size = 28 * scale;
  const png = new PNG({ width: size, height: size });
  for (let y = 0; y < size; y++)
    for (let x = 0; x < size; x++) {
      const v = Math.round(image[Math.floor(y / scale) * 28 + Math.floor(x / scale)] * 255);
      png.data.set([v, v, v, 255], 4 * (y * size + x));
    }
  writeFileSync(file, PNG.sync.write(png, scale === 1 ? { colorType: 0 } : { colorType: 2 }));
}

function assertRelevanceClose(actual, expected, what) {
  assert.equal(actual.length, expected.length);
  const scale = Math.max(...Array.from(expected, Math.abs));
  actual.forEach((v, i) => assert.ok(Math.abs(v - expected[i]) <= 1e-4 * scale, `${what}: value ${i}: ${v} vs ${expected[i]}`));
}

test('cli explain: heatmap PNGs and JSON relevances that match model.explain', async () => {
  const { images } = readMnist('test', 2);
  writeDigit(join(dir, 'seven.png'), images[0]);
  writeDigit(join(dir, 'two-big.png'), images[1], 2);
  const out = join(dir, 'out');
  const { status, stdout, stderr } = run('explain', mlp, 'seven.png', 'two-big.png', '--composite', 'epsilon-plus', '--out', out);
  assert.equal(status, 0, stderr);
  assert.match(stdout, /wrote 2 heatmap/);
  assert.match(stderr, /explain: 2\/2/); // plain progress lines when stderr is not a terminal

  const model = await loadModel(mlp);
  for (const [name, image] of [['seven', images[0]], ['two-big', images[1]]]) {
    const heatmap = PNG.sync.read(readFileSync(join(out, `${name}.heatmap.png`)));
    assert.equal(heatmap.width, 280);
    assert.equal(heatmap.height, 280);
    const record = JSON.parse(readFileSync(join(out, `${name}.json`), 'utf8'));
    const expected = model.explain(image, { composite: 'epsilon-plus' });
    assert.equal(record.target, expected.target);
    assert.equal(record.composite, 'epsilon-plus');
    assert.equal(record.method, 'lrp');
    assert.deepEqual(record.shape, [1, 28, 28]);
    assertRelevanceClose(record.logits, expected.output, `${name} logits`);
    assertRelevanceClose(record.relevance, expected.relevance, `${name} relevance`);
    // The most relevant pixel is drawn red (positive), a pixel of zero relevance white.
    const best = expected.relevance.indexOf(Math.max(...expected.relevance));
    const o = 4 * ((Math.floor(best / 28) * 10) * 280 + (best % 28) * 10);
    assert.deepEqual(Array.from(heatmap.data.subarray(o, o + 3)), [255, 0, 0]);
  }

  // Dark ink on white paper with --invert reads as the same digit.
  const inverted = new PNG({ width: 28, height: 28 });
  images[0].forEach((v, i) => inverted.data.set([255 - Math.round(v * 255), 255 - Math.round(v * 255), 255 - Math.round(v * 255), 255], 4 * i));
  writeFileSync(join(dir, 'paper.png'), PNG.sync.write(inverted));
  const inv = run('explain', mlp, 'paper.png', '--invert', '--composite', 'epsilon-plus', '--out', out);
  assert.equal(inv.status, 0, inv.stderr);
  const paper = JSON.parse(readFileSync(join(out, 'paper.json'), 'utf8'));
  assertRelevanceClose(paper.relevance, model.explain(images[0], { composite: 'epsilon-plus' }).relevance, 'inverted');

  // Gradient method and a fixed target; --scale.
  const g = run('explain', mlp, 'seven.png', '--method', 'gradient', '--target', '3', '--scale', '2', '--out', out);
  assert.equal(g.status, 0, g.stderr);
  const record = JSON.parse(readFileSync(join(out, 'seven.json'), 'utf8'));
  assert.equal(record.target, 3);
  assert.equal(record.method, 'gradient');
  assertRelevanceClose(record.relevance, model.explain(images[0], { method: 'gradient', target: 3 }).relevance, 'gradient');
  assert.equal(PNG.sync.read(readFileSync(join(out, 'seven.heatmap.png'))).width, 56);
  model.dispose();

  // A vision transformer (softmax and LayerNorm layers) is explained with attn-lrp unless --composite says otherwise.
  const vitPath = fileURLToPath(new URL('../web/models/mnist-vit.onnx', import.meta.url));
  const vit = run('explain', vitPath, 'seven.png', '--out', out);
  assert.equal(vit.status, 0, vit.stderr);
  const vitRecord = JSON.parse(readFileSync(join(out, 'seven.json'), 'utf8'));
  assert.equal(vitRecord.composite, 'attn-lrp');
  const vitModel = await loadModel(vitPath);
  assertRelevanceClose(vitRecord.relevance, vitModel.explain(images[0], { composite: 'attn-lrp' }).relevance, 'vit');
  vitModel.dispose();
});

test('cli evaluate: --mnist 5 prints the AOPC table of each method and writes JSON', () => {
  const json = join(dir, 'faithfulness.json');
  const { status, stdout, stderr } = run('evaluate', mlp, '--mnist', '5', '--methods', 'epsilon-plus,gradient,random',
    '--patch', '4', '--steps', '7', '--perturbation', 'constant:0', '--json', json);
  assert.equal(status, 0, stderr);
  assert.match(stdout, /mnist-mlp\.onnx: 5 MNIST test digits, 4x4 patches \(49\), 7 steps, perturbation constant 0/);
  assert.match(stdout, /\| method \| AOPC MoRF \(higher is better\) \| AOPC LeRF \(lower is better\) \| time \(s\) \|/);
  for (const method of ['epsilon-plus', 'gradient', 'random']) assert.match(stdout, new RegExp(`\\| ${method} \\| -?\\d+\\.\\d{3} ± \\d+\\.\\d{3} \\| -?\\d+\\.\\d{3} ± `));
  assert.match(stderr, /random: 5\/5/);
  const result = JSON.parse(readFileSync(json, 'utf8'));
  assert.equal(result.digits, 5);
  assert.deepEqual(Object.keys(result.methods), ['epsilon-plus', 'gradient', 'random']);
  assert.equal(result.methods.gradient.morf.curve.length, 8);
  assert.ok(result.methods['epsilon-plus'].morf.aopc > result.methods['epsilon-plus'].lerf.aopc);
  // Uniform noise, seeded.
  const uniform = run('evaluate', mlp, '--mnist', '2', '--methods', 'smoothgrad', '--patch', '7', '--steps', '4', '--perturbation', 'uniform:0:0.5', '--seed', '3');
  assert.equal(uniform.status, 0, uniform.stderr);
  assert.match(uniform.stdout, /perturbation uniform \[0, 0\.5\) seed 3/);
});

test('cli --threads: any thread count gives the same relevances; a bad count fails clearly', () => {
  const { images } = readMnist('test', 1);
  writeDigit(join(dir, 'threads.png'), images[0]);
  const relevanceAt = (threads) => {
    const out = join(dir, `threads-${threads}`);
    const { status, stderr } = run('explain', mlp, 'threads.png', '--threads', String(threads), '--out', out);
    assert.equal(status, 0, stderr);
    return JSON.parse(readFileSync(join(out, 'threads.json'), 'utf8')).relevance;
  };
  assert.deepEqual(relevanceAt(2), relevanceAt(1));
  for (const bad of ['0', '65', 'two']) {
    const { status, stderr } = run('explain', mlp, 'threads.png', '--threads', bad);
    assert.notEqual(status, 0);
    assert.match(stderr, new RegExp(`--threads must be an integer from 1 to 64 \\(got '${bad}'\\)`));
  }
});

test('cli --help documents every flag', () => {
  const { status, stdout } = run('--help');
  assert.equal(status, 0);
  for (const flag of ['--method', '--composite', '--target', '--low', '--high', '--invert', '--scale', '--out', '--mnist',
    '--methods', '--patch', '--steps', '--perturbation', '--seed', '--json', '--tokens', '--vocab', '--threads', '--help'])
    assert.ok(stdout.includes(flag), `--help does not mention ${flag}`);
  assert.match(stdout, /lrp-wasm explain MODEL\.onnx IMAGE\.png\.\.\./);
  assert.match(stdout, /lrp-wasm explain MODEL\.onnx --tokens ID,ID,\.\.\. \[--vocab VOCAB\.txt\]/);
  assert.match(stdout, /default epsilon-plus-flat; attn-lrp for token ids/);
  assert.match(stdout, /lrp-wasm evaluate MODEL\.onnx --mnist N/);
  // `npx lrp-wasm` finds it through package.json's bin entry.
  const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'));
  assert.equal(pkg.bin['lrp-wasm'], 'bin/lrp-wasm.mjs');
  assert.match(readFileSync(cli, 'utf8'), /^#!\/usr\/bin\/env node\n/);
});

test('cli: bad arguments exit non-zero with a clear message', () => {
  writeFileSync(join(dir, 'not-a.png'), 'hello');
  const cases = [
    [[], /missing command: explain or evaluate/],
    [['frobnicate'], /unknown command 'frobnicate'/],
    [['explain', mlp, 'x.png', '--colour', 'red'], /Unknown option '--colour'/],
    [['explain', mlp], /missing IMAGE\.png/],
    [['explain', mlp, 'missing.png'], /missing\.png: cannot read as PNG \(no such file\)/],
    [['explain', mlp, 'not-a.png'], /not-a\.png: cannot read as PNG/],
    [['explain', 'nope.onnx', 'x.png'], /cannot load model nope\.onnx: no such file/],
    [['explain', mlp, 'x.png', '--composite', 'epsilon'], /unknown --composite 'epsilon'/],
    [['explain', mlp, 'x.png', '--target', 'seven'], /--target must be 'predicted' or a class index/],
    [['explain', mlp, 'x.png', '--mnist', '3'], /--mnist is not an option of explain/],
    [['evaluate', mlp], /--mnist N is required/],
    [['evaluate', mlp, '--mnist', 'many'], /--mnist must be an integer from 1 to 10000/],
    [['evaluate', mlp, '--mnist', '2', '--methods', 'epsilon-plus,magic'], /unknown method 'magic'/],
    [['evaluate', mlp, '--mnist', '2', '--perturbation', 'blur'], /--perturbation must be constant:VALUE or uniform/],
    [['evaluate', mlp, '--mnist', '2', '--patch', '7', '--steps', '20'], /--steps 20 exceeds the number of 7x7 patches \(16\)/],
    [['evaluate', mlp, '--mnist', '2', '--out', 'dir'], /--out is not an option of evaluate/],
  ];
  for (const [args, pattern] of cases) {
    const { status, stderr } = run(...args);
    assert.notEqual(status, 0, `lrp-wasm ${args.join(' ')} exited 0`);
    assert.match(stderr, pattern, `lrp-wasm ${args.join(' ')}`);
  }
  assert.ok(!existsSync(join(dir, 'x.heatmap.png')));
});

// ---- explain --tokens: a model of token ids (the golden tiny-text: a BERT-style encoder, 12 ids from 50) ----

const tinyText = fileURLToPath(new URL('./fixtures/golden/tiny-text/', import.meta.url));
const textModel = join(tinyText, 'model.onnx');

function goldenTokenInputs() {
  const bytes = readFileSync(join(tinyText, 'inputs.i32'));
  const all = new Int32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.length));
  return Array.from({ length: all.length / 12 }, (_, k) => Array.from(all.subarray(12 * k, 12 * (k + 1))));
}

// The rows of the printed table: position, id, word (when a vocabulary is given), relevance, bar.
function tokenRows(stdout, withWords) {
  const row = withWords ? /^ *(\d+) +(\d+)  (\S+) +(\S+)(?:  ([+-]+))?$/ : /^ *(\d+) +(\d+) +(\S+)(?:  ([+-]+))?$/;
  return stdout.split('\n').map((line) => line.match(row)).filter(Boolean).map((m) => withWords
    ? { position: Number(m[1]), id: Number(m[2]), word: m[3], relevance: Number(m[4]), bar: m[5] ?? '' }
    : { position: Number(m[1]), id: Number(m[2]), relevance: Number(m[3]), bar: m[4] ?? '' });
}

// Printed with six significant digits.
function assertPrinted(printed, exact, what) {
  assert.ok(Math.abs(printed - exact) <= 1e-5 * Math.abs(exact) + 1e-12, `${what}: printed ${printed}, explain() gives ${exact}`);
}

test('cli explain --tokens: the table and JSON of a token model match model.explain (attn-lrp by default)', async () => {
  const inputs = goldenTokenInputs();
  const model = await loadModel(textModel);
  assert.equal(model.inputType, 'int64');
  const cases = JSON.parse(readFileSync(join(tinyText, 'cases.json'), 'utf8')).cases;
  for (const k of [0, 1]) {
    const ids = inputs[k];
    const out = join(dir, `tokens-${k}`);
    const { status, stdout, stderr } = run('explain', textModel, '--tokens', ids.join(','), '--out', out);
    assert.equal(status, 0, stderr);
    const expected = model.explain(Int32Array.from(ids), { composite: 'attn-lrp' });
    // The table: one row per token, in order, with the package's relevance; bars show sign and size.
    const rows = tokenRows(stdout, false);
    assert.deepEqual(rows.map((r) => r.position), ids.map((_, i) => i));
    assert.deepEqual(rows.map((r) => r.id), ids);
    rows.forEach((r, i) => assertPrinted(r.relevance, expected.relevance[i], `input ${k} token ${i}`));
    const largest = expected.relevance.reduce((best, v, i, all) => (Math.abs(v) > Math.abs(all[best]) ? i : best), 0);
    assert.equal(rows[largest].bar, (expected.relevance[largest] < 0 ? '-' : '+').repeat(20));
    rows.forEach((r, i) => assert.ok(r.bar === '' || r.bar[0] === (expected.relevance[i] < 0 ? '-' : '+'), `bar of token ${i}: '${r.bar}'`));
    assert.match(stdout, new RegExp(`model\\.onnx: 12 tokens, lrp, attn-lrp, target ${expected.target} \\(predicted\\)`));
    const sum = Array.from(expected.relevance).reduce((a, b) => a + b, 0);
    const [, printedSum, printedClass, printedLogit] = stdout.match(/sum of relevance (\S+), logit of class (\d+) (\S+)/);
    assertPrinted(Number(printedSum), sum, 'sum');
    assert.equal(Number(printedClass), expected.target);
    assertPrinted(Number(printedLogit), expected.output[expected.target], 'logit');

    // The JSON next to it: model.tokens.json in --out.
    const file = join(out, 'model.tokens.json');
    assert.match(stdout, new RegExp(`wrote ${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`));
    const record = JSON.parse(readFileSync(file, 'utf8'));
    assert.equal(record.method, 'lrp');
    assert.equal(record.composite, 'attn-lrp');
    assert.equal(record.target, expected.target);
    assert.equal(record.predicted, expected.target);
    assert.equal(record.logit, expected.output[expected.target]);
    assertRelevanceClose(record.logits, expected.output, 'logits');
    assert.ok(Math.abs(record.sum - sum) < 1e-6);
    assert.deepEqual(record.tokens.map(({ position, id, word }) => ({ position, id, word })), ids.map((id, position) => ({ position, id, word: null })));
    assertRelevanceClose(record.tokens.map((t) => t.relevance), expected.relevance, `input ${k} JSON`);
    // ... which is LXT's reference (the golden case of this input, target and composite).
    const golden = cases.find((c) => c.input_index === k && c.options.composite === 'attn-lrp' && c.options.target === expected.target && Object.keys(c.options).length === 2);
    const bytes = readFileSync(join(tinyText, golden.relevance));
    const reference = new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.length));
    const scale = Math.max(...Array.from(reference, Math.abs), 0.01 * Math.abs(golden.output[golden.options.target]));
    record.tokens.forEach((t, i) => assert.ok(Math.abs(t.relevance - reference[i]) <= 1e-4 * scale, `token ${i}: ${t.relevance} vs LXT ${reference[i]}`));
  }

  // --composite, --target, --vocab (fewer lines than the ids need: #ID and one warning), --out FILE.json.
  const ids = inputs[0]; // 39,36,46,44,42,2,32,41,18,0,31,20
  writeFileSync(join(dir, 'vocab.txt'), `${Array.from({ length: 45 }, (_, i) => (i === 2 ? '[CLS]' : `word${i}`)).join('\r\n')}\r\n`);
  const json = join(dir, 'text', 'explained.json');
  const v = run('explain', textModel, '--tokens', ids.join(', '), '--vocab', 'vocab.txt', '--composite', 'cp-lrp', '--target', '2', '--out', json);
  assert.equal(v.status, 0, v.stderr);
  const expected = model.explain(Int32Array.from(ids), { composite: 'cp-lrp', target: 2 });
  const rows = tokenRows(v.stdout, true);
  assert.deepEqual(rows.map((r) => r.word), ids.map((id) => (id === 2 ? '[CLS]' : id < 45 ? `word${id}` : `#${id}`)));
  rows.forEach((r, i) => assertPrinted(r.relevance, expected.relevance[i], `cp-lrp token ${i}`));
  assert.match(v.stdout, /lrp, cp-lrp, target 2 \(predicted: 0\)/);
  assert.equal(v.stderr.match(/warning/g)?.length, 1, v.stderr);
  assert.match(v.stderr, /vocab\.txt has 45 lines \(ids 0 to 44\); no word for id 46 \(shown as #ID\)/);
  const record = JSON.parse(readFileSync(json, 'utf8'));
  assert.equal(record.composite, 'cp-lrp');
  assert.equal(record.target, 2);
  assert.deepEqual(record.tokens.map((t) => t.word), ids.map((id) => (id === 2 ? '[CLS]' : id < 45 ? `word${id}` : null)));
  assertRelevanceClose(record.tokens.map((t) => t.relevance), expected.relevance, 'cp-lrp JSON');

  // A gradient method: no composite.
  const g = run('explain', textModel, '--tokens', inputs[3].join(','), '--method', 'gradient-x-input', '--target', '1', '--out', 'grad');
  assert.equal(g.status, 0, g.stderr);
  const grad = JSON.parse(readFileSync(join(dir, 'grad', 'model.tokens.json'), 'utf8'));
  assert.equal(grad.method, 'gradient-x-input');
  assert.equal(grad.composite, null);
  assertRelevanceClose(grad.tokens.map((t) => t.relevance), model.explain(Int32Array.from(inputs[3]), { method: 'gradient-x-input', target: 1 }).relevance, 'gradient-x-input');
  assert.match(g.stdout, /12 tokens, gradient-x-input, target 1/);
  model.dispose();
});

test('cli explain --tokens: bad ids, the wrong kind of model or input, and ids outside the vocabulary fail clearly', () => {
  const ids = goldenTokenInputs()[0];
  const outside = [...ids.slice(0, 5), 50, ...ids.slice(6)];
  writeFileSync(join(dir, 'digit.png'), PNG.sync.write(new PNG({ width: 28, height: 28 })));
  const cases = [
    [['explain', textModel, '--tokens', '3,x,9'], /--tokens must be comma-separated non-negative integer ids: entry 2 is 'x'/],
    [['explain', textModel, '--tokens', '3,-1,9'], /entry 2 is '-1'/],
    [['explain', textModel, '--tokens', '3,,9'], /entry 2 is empty/],
    [['explain', textModel, '--tokens', '1.5'], /entry 1 is '1\.5'/],
    [['explain', mlp, '--tokens', '1,2,3'], /--tokens is for models whose input is token ids; this model takes float32 input of shape \[1, 28, 28\]/],
    [['explain', textModel, 'digit.png'], /this model's input is token ids \(int64, shape \[12\]\), not an image: give --tokens/],
    [['explain', textModel, 'digit.png', '--tokens', ids.join(',')], /give IMAGE\.png files or --tokens, not both/],
    [['explain', textModel, '--tokens', outside.join(',')], /token id 50 at position 5 is not an integer from 0 to 49/],
    [['explain', textModel, '--tokens', '1,2,3'], /input has 3 token ids, expected 12/],
    [['explain', textModel, '--tokens', ids.join(','), '--target', '3'], /--target 3: the model has 3 outputs/],
    [['explain', textModel, '--tokens', ids.join(','), '--scale', '2'], /--scale applies to images, not to --tokens/],
    [['explain', textModel, '--tokens', ids.join(','), '--vocab', 'no-such-vocab.txt'], /--vocab no-such-vocab\.txt: cannot read \(no such file\)/],
    [['explain', mlp, 'digit.png', '--vocab', 'vocab.txt'], /--vocab needs --tokens/],
    [['explain', textModel, '--tokens', ids.join(','), '--composite', 'deep-taylor'], /needs 'low' and 'high'/],
    [['explain', textModel], /missing IMAGE\.png \(one or more\), or --tokens/],
  ];
  for (const [args, pattern] of cases) {
    const { status, stdout, stderr } = run(...args);
    assert.notEqual(status, 0, `lrp-wasm ${args.join(' ')} exited 0`);
    assert.match(stderr, pattern, `lrp-wasm ${args.join(' ')}`);
    assert.doesNotMatch(stderr, /\n\s+at /, `a stack trace for lrp-wasm ${args.join(' ')}`);
    assert.equal(stdout, '', `lrp-wasm ${args.join(' ')} printed a table`);
  }
  assert.ok(!existsSync(join(dir, 'model.tokens.json')));
});
