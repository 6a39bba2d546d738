// The page's client of the engine: the package's bundle, the models (each loaded with
// loadModel(source, { worker: true }), so it lives in the package's worker, which runs the engine; the page
// never starts an engine of its own) and the explanation requests sent to them.
//
// Requests: at most one is in flight, so the worker is never flooded; the newest waits for it and replaces
// any older one waiting (the drawing moved on). A request made for any reason other than live drawing (a
// method, a parameter, a picked digit, the end of a stroke…) cancels the one in flight with its AbortSignal:
// the calls it still had queued in the worker are dropped, and its result (which no one wants any more) is
// never painted. While drawing, the request in flight runs to the end: its result keeps the heatmap live.
import { SIZE } from './preprocess.js';
import { attentionBlocks } from './transformer.js';
import { explainJobs } from './jobs.js';
import { demo, state } from './state.js';
import { showError, busyBegin, busyEnd } from './status.js';
import { TRANSFORMER_KINDS } from './methods.js';

const BUNDLE_URL = '/dist/lrp-wasm.js';

/**
 * The bundled models; `method`: the method a model starts on when it is chosen (else the current one is kept);
 * `labels`: its class names, one per line.
 */
export const MODELS = {
  mlp: { url: '/models/mnist-mlp.onnx', label: 'MLP', description: 'a 5-layer ReLU MLP' },
  cnn: { url: '/models/mnist-cnn.onnx', label: 'CNN', description: 'a small CNN (conv, batch-norm, pooling, dense)' },
  vit: {
    url: '/models/mnist-vit.onnx', label: 'ViT', method: 'attn-lrp',
    description: 'a small vision transformer (7×7 patches → 4×4 grid + CLS token, 4 heads)',
  },
  shapes: {
    url: '/models/shapes-cnn.onnx', label: 'Shapes CNN', method: 'epsilon-gamma-box', labels: '/models/shapes-labels.txt',
    description: 'a small CNN trained on generated photos of six shapes on cluttered backgrounds (scripts/train_shapes.py)',
  },
  custom: { url: null, label: 'your model', description: 'your model' },
};

let lib = null; // the package's browser build

export async function loadBundle() {
  try {
    lib = await import(BUNDLE_URL);
  } catch (err) {
    throw new Error(`Could not load the lrp-wasm bundle ${BUNDLE_URL} (build it with "npm run build"): ${err.message}`);
  }
}

// ---------------------------------------------------------------- models
const models = new Map(); // name → Promise of its WorkerModel (the bundled models are loaded once)

/** Loads a model into the package's worker from a URL, a File or Blob, or bytes. */
export const loadWorkerModel = (source) => lib.loadModel(source, { worker: true });

/** The bundled model `name`, loaded on first use; 'custom': the user's file (setCustomModel). */
export function modelNamed(name) {
  if (name === 'custom') return models.get(name);
  if (!models.has(name)) {
    const { url } = MODELS[name];
    const loading = loadWorkerModel(url).catch((err) => {
      models.delete(name); // not cached: choosing it again tries again
      const hint = /HTTP 404/.test(err.message) ? ' (train it with "npm run train")' : '';
      throw new Error(`Could not load the model ${url}: ${err.message}${hint}`);
    });
    models.set(name, loading);
  }
  return models.get(name);
}

/** Makes `model` the user's model; resolves with the one it replaces (to dispose once nothing uses it). */
export async function setCustomModel(model) {
  const previous = await models.get('custom');
  models.set('custom', Promise.resolve(model));
  return previous;
}

/** The image shape { C, H, W } of a model input shape, or null when it is not an image. */
export function imageShapeOf(shape) {
  if (shape.length === 3 && shape[0] >= 1 && shape[0] <= 4) return { C: shape[0], H: shape[1], W: shape[2] };
  if (shape.length === 2) return { C: 1, H: shape[0], W: shape[1] };
  if (shape.length === 1 && shape[0] === SIZE * SIZE) return { C: 1, H: SIZE, W: SIZE };
  return null;
}

/** What the page needs to know of a model (read from the WorkerModel, without a call to the worker). */
export function modelInfo(model) {
  const layers = model.layers;
  return {
    inputShape: model.inputShape, outputSize: model.outputSize, layers, image: imageShapeOf(model.inputShape),
    transformer: layers.some((l) => TRANSFORMER_KINDS.has(l.kind)),
    // the attention blocks, from the softmax layers' shapes (their weights arrive with each result)
    attention: attentionBlocks(layers.filter((l) => l.kind === 'softmax')),
  };
}

/** Reads the status of the worker's engine (its threads and memory) into state.engine; resolves with it. */
export async function refreshEngineStatus(model) {
  state.engine = await model.engineStatus();
  demo.engineThreads = state.engine.threads; // > 1 when the page is cross-origin isolated
  demo.engineMemoryBytes = state.engine.memoryBytes;
  return state.engine;
}

// ---------------------------------------------------------------- requests
let seq = 0;
let inFlight = null; // the explain request being computed (at most one: the worker is never flooded)
let pending = null; // the newest request waiting for it (older ones are dropped)
let painted = 0; // id of the newest painted result
let deliver = () => {}; // paints a fresh result (main.js sets it)

/** `paint(req, result)` is called with each result that is still wanted (newer than any painted, same model). */
export function onResult(paint) {
  deliver = paint;
}

function send(req) {
  inFlight = req;
  demo.sent += 1;
  busyBegin();
  req.controller = new AbortController();
  explainJobs(req.model, req.input, req.jobs, { wantLayers: req.wantLayers, wantAttention: req.wantAttention, signal: req.controller.signal })
    .then((result) => receive(req, result), (err) => onExplainError(req, err))
    .finally(() => {
      if (inFlight !== req) return; // cancelled: the page has moved on
      inFlight = null;
      sendPending();
      if (!inFlight) busyEnd();
    });
}

function sendPending() {
  if (!pending || inFlight) return;
  const next = pending;
  pending = null;
  send(next);
}

function receive(req, result) {
  if (req.controller.signal.aborted) return; // cancelled just after its result arrived
  if (req.id < painted) return; // stale (a newer input was already painted or cleared)
  if (req.model !== state.model) return; // the model changed meanwhile
  painted = req.id;
  demo.painted = req.id;
  demo.paintedIds.push(req.id);
  if (demo.paintedIds.length > 200) demo.paintedIds.shift();
  deliver(req, result);
}

/** Aborts the request in flight: its calls still queued in the worker are dropped, its Promise rejects at once. */
function abortInFlight() {
  inFlight.controller.abort();
  demo.cancelled += 1;
  const aborted = inFlight;
  inFlight = null;
  return aborted;
}

/** Drops the pending request and aborts the one in flight (nothing on the page wants them any more). */
export function cancelExplaining() {
  pending = null;
  if (inFlight) abortInFlight();
  busyEnd();
  painted = seq + 1; // results still on their way are stale now
}

function onExplainError(req, err) {
  // a cancelled request: the page asked for it, nothing went wrong
  if (err?.name === 'AbortError' || req.controller.signal.aborted || req.model !== state.model) return;
  showError('Explaining failed', err);
}

/** Same model, jobs and input: the result of `a` answers `b` as well. */
function sameRequest(a, b) {
  if (a.model !== b.model || a.input.length !== b.input.length) return false;
  if (JSON.stringify(a.jobs) !== JSON.stringify(b.jobs)) return false;
  for (let i = 0; i < a.input.length; i++) if (a.input[i] !== b.input[i]) return false;
  return true;
}

/**
 * Queues an explanation request { trigger, model, input, jobs, wantLayers, wantAttention, … } (the rest is the
 * painter's); only the newest pending one is kept. Returns its id (demo.requested).
 */
export function request(req) {
  // A pointerup usually adds nothing to what the last frame of the stroke already sent: rather than
  // queue the same computation behind it, let that request answer this trigger too (its result then
  // arrives within one computation of the pointerup instead of two).
  const latest = pending ?? inFlight;
  if (latest && sameRequest(latest, req)) {
    latest.triggers.push(req.trigger);
    latest.trigger = req.trigger;
    latest.id = ++seq; // it is now the newest request
    demo.requested = latest.id;
    return latest.id;
  }
  req.id = ++seq;
  // Not live drawing: the request in flight computes what no one waits for any more, so it is cancelled rather
  // than finished (while drawing, it is finished: its result is the live heatmap, and a newer frame comes soon).
  const aborted = req.trigger !== 'draw' && inFlight ? abortInFlight() : null;
  // a replaced request's triggers are carried over: its result is this one's
  req.triggers = [...(aborted?.triggers ?? []), ...(pending?.triggers ?? []), req.trigger];
  demo.requested = req.id;
  if (pending) demo.dropped += 1;
  pending = req;
  sendPending();
  return req.id;
}
