// The command line (bin/lrp-wasm.mjs), run as a child process: explain writes heatmaps and relevances
// that match the library, evaluate prints the AOPC table, --help documents every flag, bad arguments fail.
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

test('cli --help documents every flag', () => {
  const { status, stdout } = run('--help');
  assert.equal(status, 0);
  for (const flag of ['--method', '--composite', '--target', '--low', '--high', '--invert', '--scale', '--out', '--mnist',
    '--methods', '--patch', '--steps', '--perturbation', '--seed', '--json', '--help'])
    assert.ok(stdout.includes(flag), `--help does not mention ${flag}`);
  assert.match(stdout, /lrp-wasm explain MODEL\.onnx IMAGE\.png\.\.\./);
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
