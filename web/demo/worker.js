// The demo's engine thread: a module worker that owns the lrp-wasm models, so drawing never stutters.
//
// Messages from the page (each with an `id`, answered with the same `id`):
//   { type: 'load', id, name, url }            fetch + load a model (cached by name)
//   { type: 'load', id, name, bytes }          load a model from bytes (a user's file; replaces `name`)
//   { type: 'explain', id, model, input, jobs, wantLayers, wantAttention }
//        input: Float32Array of the model's input size
//        jobs:  [{ key, options, target }] explanations of the same input; `target` is
//               { kind: 'predicted' } | { kind: 'class', a } | { kind: 'contrast', a, b }
//        wantAttention: also return the softmax outputs (a transformer's attention weights)
//   { type: 'evaluate', id, model, input, methods: [{ key, options }], patchSize, steps }
//        pixel flipping of the input for each method (lrp-wasm's evaluate: MoRF and LeRF curves, AOPC)
// Answers: { type: 'loaded', id, name, inputShape, outputSize, layers, memoryBytes (the engine's wasm memory),
//            engineThreads (the threads the engine runs: > 1 when the page is cross-origin isolated) }
//          { type: 'evaluated', id, curves: { [key]: { morf: { curve, aopc }, lerf: { curve, aopc } } | { error } }, perturbed, patches }
//          { type: 'result', id, logits, results: { [key]: { relevance, target, layers? } | { error } },
//            attention?: [{ index, name, outputShape, weights }], ms }
//          { type: 'error', id, message }
// The page sends at most one 'explain' at a time and keeps only the newest pending one (coalescing).

const BUNDLE_URL = '/dist/lrp-wasm.js';
let lib = null;
const models = new Map();

async function bundle() {
  if (!lib) {
    try {
      lib = await import(BUNDLE_URL);
    } catch (err) {
      throw new Error(`Could not load the lrp-wasm bundle ${BUNDLE_URL} (build it with "npm run build"): ${err.message}`);
    }
  }
  return lib;
}

async function load({ name, url, bytes }) {
  const { loadModel } = await bundle();
  if (url && models.has(name)) return models.get(name);
  if (url) {
    let resp;
    try {
      resp = await fetch(url);
      if (!resp.ok) throw new Error(`HTTP ${resp.status}${resp.status === 404 ? ' (train it with "npm run train")' : ''}`);
      bytes = new Uint8Array(await resp.arrayBuffer());
    } catch (err) {
      throw new Error(`Could not download the model ${url}: ${err.message}`);
    }
  }
  let model;
  try {
    model = await loadModel(bytes);
  } catch (err) {
    throw new Error(`Could not load the model ${url || 'file'}: ${err.message}`);
  }
  models.get(name)?.dispose();
  models.set(name, model);
  return model;
}

function seedFor(target, logits, gradient) {
  if (target.kind === 'predicted') return { target: 'predicted' };
  const n = logits.length;
  const check = (k) => {
    if (!Number.isInteger(k) || k < 0 || k >= n) throw new Error(`class ${k} is not an output (0..${n - 1})`);
  };
  check(target.a);
  if (target.kind === 'class') return { target: target.a };
  check(target.b);
  // why A and not B: e_A·f_A − e_B·f_B for LRP; for gradients e_A − e_B (∂(f_A − f_B)/∂x)
  const seed = new Float32Array(n);
  seed[target.a] = gradient ? 1 : logits[target.a];
  seed[target.b] -= gradient ? 1 : logits[target.b];
  return { outputRelevance: seed };
}

function explain({ model: name, input, jobs, wantLayers, wantAttention }) {
  const model = models.get(name);
  if (!model) throw new Error(`model "${name}" is not loaded`);
  const t0 = performance.now();
  const logits = model.predict(input);
  const results = {};
  const transfer = new Set([logits.buffer]);
  let attention = null;
  for (const { key, options, target } of jobs) {
    try {
      const gradient = options.method && options.method !== 'lrp';
      const opts = { ...options, ...seedFor(target, logits, gradient) };
      if (wantLayers && key === 'main' && !gradient) opts.layerRelevance = true;
      // the attention weights come from the forward pass of the main explanation (no extra pass)
      if (wantAttention && key === 'main') opts.attention = true;
      const r = model.explain(input, opts);
      if (r.attention) {
        attention = r.attention.map(({ index, name, outputShape, weights }) => ({ index, name, outputShape, weights }));
        for (const a of attention) transfer.add(a.weights.buffer);
      }
      const out = { relevance: r.relevance, target: target.kind === 'contrast' ? target.a : r.target };
      transfer.add(r.relevance.buffer);
      if (r.layers) {
        out.layers = r.layers.map((l) => ({
          index: l.index, name: l.name, kind: l.kind, outputShape: l.outputShape,
          sum: l.sum, absorbed: l.absorbed, relevance: l.relevance,
        }));
        for (const l of out.layers) transfer.add(l.relevance.buffer);
      }
      results[key] = out;
    } catch (err) {
      results[key] = { error: err && err.message ? err.message : String(err) };
    }
  }
  return { msg: { logits, results, attention, ms: performance.now() - t0 }, transfer: [...transfer] };
}

async function evaluateMethods({ model: name, input, methods, patchSize, steps }) {
  const model = models.get(name);
  if (!model) throw new Error(`model "${name}" is not loaded`);
  const { evaluate } = await bundle();
  const curves = {};
  let shape = null;
  for (const { key, options } of methods) {
    try {
      const r = await evaluate(model, [input], { explain: options, patchSize, steps });
      curves[key] = { morf: { curve: r.morf.curve, aopc: r.morf.aopc }, lerf: { curve: r.lerf.curve, aopc: r.lerf.aopc } };
      shape = { perturbed: r.perturbed, patches: r.patches };
    } catch (err) {
      curves[key] = { error: err && err.message ? err.message : String(err) };
    }
  }
  return { curves, ...shape };
}

self.onmessage = async (e) => {
  const m = e.data;
  try {
    if (m.type === 'load') {
      const model = await load(m);
      self.postMessage({
        type: 'loaded', id: m.id, name: m.name,
        inputShape: model.inputShape, outputSize: model.outputSize,
        layers: model.layers.map(({ index, name, kind, outputShape }) => ({ index, name, kind, outputShape })),
        memoryBytes: typeof lib.engineMemoryBytes === 'function' ? lib.engineMemoryBytes() : null,
        engineThreads: typeof lib.engineThreads === 'function' ? lib.engineThreads() : 1,
      });
    } else if (m.type === 'evaluate') {
      self.postMessage({ type: 'evaluated', id: m.id, ...(await evaluateMethods(m)) });
    } else if (m.type === 'explain') {
      const { msg, transfer } = explain(m);
      self.postMessage({ type: 'result', id: m.id, ...msg }, transfer);
    } else {
      throw new Error(`unknown message type ${m.type}`);
    }
  } catch (err) {
    self.postMessage({ type: 'error', id: m.id, message: err && err.message ? err.message : String(err) });
  }
};
