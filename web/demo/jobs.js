// The demo's requests to a model of the package that lives in a worker (loadModel(url, { worker: true })):
// several explanations of one input (the jobs), and the pixel-flipping curves of one or two methods. Every
// call returns a Promise and runs in the package's worker; this module only shapes options and results.
//
// A job is { key, options, target }: `options` are model.explain's options of a method, `target` is
// { kind: 'predicted' } | { kind: 'class', a } | { kind: 'contrast', a, b } ("why A and not B").

const message = (err) => (err && err.message ? err.message : String(err));

/**
 * The target options of a job: a class index, or the output relevance of a contrast. `n` is the number of
 * outputs; `logits` (only needed for a contrast explained by LRP) the model's outputs for the input.
 */
export function seedFor(target, { n, logits = null }, gradient) {
  if (target.kind === 'predicted') return { target: 'predicted' };
  const check = (k) => {
    if (!Number.isInteger(k) || k < 0 || k >= n) throw new Error(`class ${k} is not an output (0..${n - 1})`);
  };
  check(target.a);
  if (target.kind === 'class') return { target: target.a };
  check(target.b);
  // why A and not B: e_A·f_A − e_B·f_B for LRP; for gradients e_A − e_B (∂(f_A − f_B)/∂x)
  if (!gradient && !logits) throw new Error('a contrast explained by LRP needs the logits');
  const seed = new Float32Array(n);
  seed[target.a] = gradient ? 1 : logits[target.a];
  seed[target.b] -= gradient ? 1 : logits[target.b];
  return { outputRelevance: seed };
}

const isGradient = (options) => !!options.method && options.method !== 'lrp';

/**
 * model.explain's options for a job: its method's options and target, plus, for the main job, the
 * relevance of every layer (LRP methods only) and the attention weights (from the same forward pass).
 */
export function explainOptions(job, outputs, { wantLayers = false, wantAttention = false } = {}) {
  const gradient = isGradient(job.options);
  const options = { ...job.options, ...seedFor(job.target, outputs, gradient) };
  if (wantLayers && job.key === 'main' && !gradient) options.layerRelevance = true;
  if (wantAttention && job.key === 'main') options.attention = true;
  return options;
}

/** What the page keeps of an explanation: the relevance, the explained class and the layers' relevance. */
function jobResult(job, r) {
  const out = { relevance: r.relevance, target: job.target.kind === 'contrast' ? job.target.a : r.target };
  if (r.layers) {
    out.layers = r.layers.map(({ index, name, kind, outputShape, sum, absorbed, relevance }) =>
      ({ index, name, kind, outputShape, sum, absorbed, relevance }));
  }
  return out;
}

/**
 * Explains `input` for every job with a worker model. Resolves with
 * { logits, results: { [key]: { relevance, target, layers? } | { error } }, attention, ms } (one job's failure is
 * that job's { error }); rejects when the model cannot predict at all, or with an AbortError when `signal` aborts.
 * The explanations are all requested at once (the worker runs them in order). Each brings the logits along (its
 * `output`, bit for bit what predict returns), so predict is called only when a contrast explained by LRP needs
 * them for its seed, or when every job failed.
 */
export async function explainJobs(model, input, jobs, { wantLayers = false, wantAttention = false, signal } = {}) {
  const t0 = performance.now();
  const needLogits = jobs.some((job) => job.target.kind === 'contrast' && !isGradient(job.options));
  const outputs = { n: model.outputSize, logits: needLogits ? await model.predict(input, { signal }) : null };
  const settled = await Promise.allSettled(jobs.map(async (job) => {
    const options = explainOptions(job, outputs, { wantLayers, wantAttention });
    return model.explain(input, { ...options, signal });
  }));
  signal?.throwIfAborted(); // the calls that were dropped would otherwise show as the jobs' errors
  const answered = settled.find(({ status }) => status === 'fulfilled');
  const logits = outputs.logits ?? answered?.value.output ?? await model.predict(input, { signal });
  const results = {};
  let attention = null;
  jobs.forEach((job, k) => {
    const { status, value, reason } = settled[k];
    results[job.key] = status === 'fulfilled' ? jobResult(job, value) : { error: message(reason) };
    if (status === 'fulfilled' && value.attention) {
      attention = value.attention.map(({ index, name, outputShape, weights }) => ({ index, name, outputShape, weights }));
    }
  });
  return { logits, results, attention, ms: performance.now() - t0 };
}

/**
 * Pixel flipping (the package's evaluate) of `input` for each method, one after the other. Resolves with
 * { curves: { [key]: { morf: { curve, aopc }, lerf: { curve, aopc } } | { error } }, perturbed, patches };
 * onProgress(done, total) counts the methods done (fractions while one runs).
 */
export async function evaluateMethods(model, input, methods, { patchSize, steps, signal, onProgress } = {}) {
  const curves = {};
  let shape = null;
  for (const [k, { key, options }] of methods.entries()) {
    try {
      const r = await model.evaluate([input], {
        explain: options, patchSize, steps, signal,
        onProgress: (done, total) => onProgress?.(k + done / total, methods.length),
      });
      curves[key] = { morf: { curve: r.morf.curve, aopc: r.morf.aopc }, lerf: { curve: r.lerf.curve, aopc: r.lerf.aopc } };
      shape = { perturbed: r.perturbed, patches: r.patches };
    } catch (err) {
      if (signal?.aborted) throw err;
      curves[key] = { error: message(err) };
    }
  }
  return { curves, ...shape };
}
