// lrp-wasm demo: draw a digit → prediction → pixel relevance heatmap.
// No framework; the only requests are to this origin (/dist/ bundle, /models/ model).

import { preprocess, rgbaToGrey, SIZE } from './preprocess.js';

const BUNDLE_URL = '/dist/lrp-wasm.js';
// The bundled models, trained by scripts/train_mnist.py; the #model selector switches between them.
const MODELS = {
  mlp: { url: '/models/mnist-mlp.onnx', description: 'a 5-layer ReLU MLP' },
  cnn: { url: '/models/mnist-cnn.onnx', description: 'a small CNN (conv, batch-norm, pooling, dense)' },
};
const STROKE_WIDTH = 0.08; // fraction of the canvas side (≈ 22 px on a 280 px canvas, MNIST-like)

// Value of #composite → options for model.explain (target is added at the call) and a description.
const METHODS = {
  'epsilon-plus-flat': {
    options: { composite: 'epsilon-plus-flat' },
    help: 'LRP: flat rule on the first layer, z⁺ on conv layers, ε on dense layers.',
  },
  'epsilon-plus': {
    options: { composite: 'epsilon-plus' },
    help: 'LRP: z⁺ on conv layers, ε on dense layers.',
  },
  'epsilon-alpha2-beta1': {
    options: { composite: 'epsilon-alpha2-beta1' },
    help: 'LRP: α2β1 on conv layers, ε on dense layers.',
  },
  'epsilon-alpha2-beta1-flat': {
    options: { composite: 'epsilon-alpha2-beta1-flat' },
    help: 'LRP: flat rule on the first layer, α2β1 on conv layers, ε on dense layers.',
  },
  'deep-taylor': {
    options: { composite: 'deep-taylor', low: 0, high: 1 }, // bounds = the pixel range of the input
    help: 'Deep Taylor: z-box rule with pixel bounds [0, 1] on the first layer, z⁺ everywhere else.',
  },
  'epsilon-gamma-box': {
    options: { composite: 'epsilon-gamma-box', low: 0, high: 1 },
    help: 'LRP: z-box [0, 1] on the first conv layer, γ = 0.25 on conv layers, ε on dense layers.',
  },
  gradient: {
    options: { method: 'gradient' },
    help: 'Plain gradient ∂f/∂x of the predicted score: sensitivity, not a decomposition.',
  },
  'gradient-x-input': {
    options: { method: 'gradient-x-input' },
    help: 'Gradient × input: x ⊙ ∂f/∂x.',
  },
};

const $ = (id) => document.getElementById(id);
const body = document.body;
const canvas = $('canvas');
const ctx = canvas.getContext('2d', { willReadFrequently: true });
const clearButton = $('clear');
const select = $('composite');
const predictionEl = $('prediction');
const probabilityEl = $('probability');
const scoresEl = $('scores');
const inputCanvas = $('input');
const inputCtx = inputCanvas.getContext('2d');
const heatmap = $('heatmap');
const heatCtx = heatmap.getContext('2d', { willReadFrequently: true });
const heatUnder = $('heatmap-under');
const heatUnderCtx = heatUnder.getContext('2d');
const overlayBox = $('overlay');
const helpEl = $('composite-help');
const noteEl = $('relevance-note');
const heatTargetEl = $('heatmap-target');
const statsEl = $('relevance-stats');
const legendMin = $('legend-min');
const legendMax = $('legend-max');
const statusEl = $('status');
const hintEl = $('canvas-hint');

// ---------------------------------------------------------------- test / debugging hook
let resolveReady, rejectReady;
const ready = new Promise((res, rej) => {
  resolveReady = res;
  rejectReady = rej;
});
ready.catch(() => {}); // the failure is shown in #status; don't also report an unhandled rejection
const demo = { ready, lastResult: null, explained: 0, model: null, error: null };
window.__lrpDemo = demo;

// ---------------------------------------------------------------- status line
function setStatus(text, kind = 'info') {
  statusEl.textContent = text;
  statusEl.dataset.kind = kind;
  statusEl.classList.toggle('error', kind === 'error');
  statusEl.setAttribute('role', kind === 'error' ? 'alert' : 'status');
}

function showError(prefix, err) {
  const msg = err && err.message ? err.message : String(err);
  demo.error = `${prefix}: ${msg}`;
  setStatus(demo.error, 'error');
}

window.addEventListener('error', (e) => showError('Unexpected error', e.error || e.message));
window.addEventListener('unhandledrejection', (e) => showError('Unexpected error', e.reason));

// ---------------------------------------------------------------- score bars (built once)
const scoreRows = [];
for (let k = 0; k < 10; k++) {
  const row = document.createElement('div');
  row.className = 'score';
  row.setAttribute('role', 'listitem');
  row.dataset.class = String(k);
  row.innerHTML =
    `<span class="score-label">${k}</span>` +
    '<span class="score-track"><span class="score-zero"></span><span class="score-bar"></span></span>' +
    '<span class="score-value"></span>';
  scoresEl.appendChild(row);
  scoreRows.push({
    row,
    bar: row.querySelector('.score-bar'),
    zero: row.querySelector('.score-zero'),
    value: row.querySelector('.score-value'),
  });
}

function renderScores(logits, predicted) {
  let lo = 0, hi = 0;
  for (const v of logits) {
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  const span = hi - lo || 1;
  const zero = (-lo / span) * 100;
  scoreRows.forEach(({ row, bar, zero: zeroEl, value }, k) => {
    const v = logits[k];
    const a = ((Math.min(v, 0) - lo) / span) * 100;
    const b = ((Math.max(v, 0) - lo) / span) * 100;
    bar.style.left = `${a}%`;
    bar.style.width = `${Math.max(b - a, 0)}%`;
    bar.classList.toggle('negative', v < 0);
    zeroEl.style.left = `${zero}%`;
    value.textContent = v.toFixed(2);
    row.classList.toggle('predicted', k === predicted);
    row.setAttribute('aria-label', `digit ${k}: logit ${v.toFixed(2)}${k === predicted ? ' (predicted)' : ''}`);
  });
}

function resetScores() {
  for (const { row, bar, value } of scoreRows) {
    bar.style.width = '0';
    value.textContent = '';
    row.classList.remove('predicted');
    row.setAttribute('aria-label', `digit ${row.dataset.class}: no score yet`);
  }
}
resetScores();

// ---------------------------------------------------------------- drawing canvas
/** @type {{x:number,y:number}[][]} strokes in canvas-relative coordinates (0..1), redrawn on resize */
let strokes = [];
let activePointer = null;
let frameRequest = 0;

function fitCanvas() {
  const rect = canvas.getBoundingClientRect();
  const dpr = window.devicePixelRatio || 1;
  const size = Math.max(28, Math.round((rect.width || 280) * dpr));
  if (canvas.width !== size || canvas.height !== size) {
    canvas.width = size;
    canvas.height = size;
    redraw();
    return true;
  }
  return false;
}

function redraw() {
  const s = canvas.width;
  ctx.fillStyle = '#000';
  ctx.fillRect(0, 0, s, canvas.height);
  ctx.strokeStyle = '#fff';
  ctx.fillStyle = '#fff';
  ctx.lineWidth = STROKE_WIDTH * s;
  ctx.lineCap = 'round';
  ctx.lineJoin = 'round';
  for (const pts of strokes) {
    if (pts.length === 1) {
      ctx.beginPath();
      ctx.arc(pts[0].x * s, pts[0].y * s, ctx.lineWidth / 2, 0, 2 * Math.PI);
      ctx.fill();
      continue;
    }
    // Smooth: quadratic curves through the midpoints, with the samples as control points.
    ctx.beginPath();
    ctx.moveTo(pts[0].x * s, pts[0].y * s);
    for (let i = 1; i < pts.length - 1; i++) {
      const mx = ((pts[i].x + pts[i + 1].x) / 2) * s;
      const my = ((pts[i].y + pts[i + 1].y) / 2) * s;
      ctx.quadraticCurveTo(pts[i].x * s, pts[i].y * s, mx, my);
    }
    const last = pts[pts.length - 1];
    ctx.lineTo(last.x * s, last.y * s);
    ctx.stroke();
  }
  hintEl.hidden = strokes.length > 0;
}

function pointOf(e) {
  const rect = canvas.getBoundingClientRect();
  return { x: (e.clientX - rect.left) / rect.width, y: (e.clientY - rect.top) / rect.height };
}

function addPoint(pts, p) {
  const q = pts[pts.length - 1];
  if (!q || Math.hypot(p.x - q.x, p.y - q.y) > 0.002) pts.push(p);
}

// At most one redraw + explanation per animation frame while drawing.
function scheduleFrame() {
  if (frameRequest) return;
  frameRequest = requestAnimationFrame(() => {
    frameRequest = 0;
    redraw();
    update('draw');
  });
}

function flushFrame(trigger) {
  if (frameRequest) {
    cancelAnimationFrame(frameRequest);
    frameRequest = 0;
  }
  redraw();
  update(trigger);
}

canvas.addEventListener('pointerdown', (e) => {
  if (activePointer !== null) return; // one pointer draws at a time
  if (e.pointerType === 'mouse' && e.button !== 0) return;
  e.preventDefault();
  activePointer = e.pointerId;
  try {
    canvas.setPointerCapture(e.pointerId);
  } catch {
    /* synthetic events may have no capturable pointer */
  }
  strokes.push([pointOf(e)]);
  scheduleFrame();
});

canvas.addEventListener('pointermove', (e) => {
  if (e.pointerId !== activePointer) return;
  e.preventDefault();
  const pts = strokes[strokes.length - 1];
  const events = typeof e.getCoalescedEvents === 'function' ? e.getCoalescedEvents() : [];
  for (const ev of events.length ? events : [e]) addPoint(pts, pointOf(ev));
  scheduleFrame();
});

function endStroke(e) {
  if (e.pointerId !== activePointer) return;
  activePointer = null;
  if (e.type === 'pointerup') addPoint(strokes[strokes.length - 1], pointOf(e));
  if (canvas.hasPointerCapture?.(e.pointerId)) canvas.releasePointerCapture(e.pointerId);
  flushFrame('pointerup');
}
canvas.addEventListener('pointerup', endStroke);
canvas.addEventListener('pointercancel', endStroke);
canvas.addEventListener('lostpointercapture', endStroke);
canvas.addEventListener('contextmenu', (e) => e.preventDefault());

function clearDrawing() {
  strokes = [];
  activePointer = null;
  flushFrame('clear');
}
clearButton.addEventListener('click', clearDrawing);
function describeMethod() {
  helpEl.textContent = METHODS[select.value]?.help ?? '';
}
select.addEventListener('change', () => {
  describeMethod();
  flushFrame('composite');
});
describeMethod();

function applyOverlay() {
  document.querySelector('.maps').classList.toggle('overlay', overlayBox.checked);
}
overlayBox.addEventListener('change', applyOverlay);
applyOverlay();

new ResizeObserver(() => {
  if (fitCanvas() && strokes.length) update('resize');
}).observe(canvas);
window.addEventListener('resize', () => {
  if (fitCanvas() && strokes.length) update('resize');
});
fitCanvas();
redraw();

// ---------------------------------------------------------------- prediction + explanation
let model = null;

function softmax(logits) {
  let m = -Infinity;
  for (const v of logits) m = Math.max(m, v);
  const e = Array.from(logits, (v) => Math.exp(v - m));
  const z = e.reduce((a, b) => a + b, 0);
  return e.map((v) => v / z);
}

function argmax(a) {
  let k = 0;
  for (let i = 1; i < a.length; i++) if (a[i] > a[k]) k = i;
  return k;
}

function drawInput(x) {
  const img = inputCtx.createImageData(SIZE, SIZE);
  for (let i = 0; i < SIZE * SIZE; i++) {
    const v = Math.round(Math.min(1, Math.max(0, x[i])) * 255);
    img.data[4 * i] = img.data[4 * i + 1] = img.data[4 * i + 2] = v;
    img.data[4 * i + 3] = 255;
  }
  inputCtx.putImageData(img, 0, 0);
  // ink on paper (dark on white) beneath the heatmap for the overlay view
  for (let i = 0; i < SIZE * SIZE; i++) {
    const v = 255 - Math.round(Math.min(1, Math.max(0, x[i])) * 160);
    img.data[4 * i] = img.data[4 * i + 1] = img.data[4 * i + 2] = v;
  }
  heatUnderCtx.putImageData(img, 0, 0);
}

// Blue–white–red, symmetric around 0 (white), scaled by max |R|.
function drawHeatmap(relevance, maxAbs) {
  const img = heatCtx.createImageData(SIZE, SIZE);
  const d = img.data;
  for (let i = 0; i < SIZE * SIZE; i++) {
    const r = relevance[i];
    const v = maxAbs > 0 && Number.isFinite(r) ? Math.max(-1, Math.min(1, r / maxAbs)) : 0;
    const fade = Math.round(255 * (1 - Math.abs(v)));
    d[4 * i] = v < 0 ? fade : 255;
    d[4 * i + 1] = fade;
    d[4 * i + 2] = v > 0 ? fade : 255;
    d[4 * i + 3] = 255;
  }
  heatCtx.putImageData(img, 0, 0);
}

function showEmpty() {
  predictionEl.textContent = '';
  probabilityEl.textContent = '';
  heatTargetEl.textContent = '';
  statsEl.textContent = '';
  legendMin.textContent = '−max';
  legendMax.textContent = '+max';
  resetScores();
  inputCtx.clearRect(0, 0, SIZE, SIZE);
  heatUnderCtx.clearRect(0, 0, SIZE, SIZE);
  heatCtx.clearRect(0, 0, SIZE, SIZE);
  noteEl.hidden = true;
  body.dataset.drawing = 'empty';
  demo.lastResult = null;
}

const fmt = (v) => (Math.abs(v) >= 100 || (Math.abs(v) < 0.01 && v !== 0) ? v.toExponential(2) : v.toFixed(3));

function update(trigger) {
  if (!model) return; // still loading (or failed): the drawing is kept and explained once loaded
  const w = canvas.width, h = canvas.height;
  const x = preprocess(rgbaToGrey(ctx.getImageData(0, 0, w, h).data), w, h);
  if (!x) {
    showEmpty();
    if (body.dataset.state === 'ready') setStatus('Draw a digit from 0 to 9.');
    return;
  }
  body.dataset.drawing = 'digit';
  drawInput(x);

  const choice = select.value;
  const options = { ...(METHODS[choice]?.options ?? { composite: choice }), target: 'predicted' };
  let logits, result;
  try {
    logits = model.predict(x);
    result = model.explain(x, options);
  } catch (err) {
    showError(`Explaining with "${choice}" failed`, err);
    heatCtx.clearRect(0, 0, SIZE, SIZE);
    statsEl.textContent = '';
    noteEl.hidden = true;
    return;
  }

  const predicted = argmax(logits);
  const probs = softmax(logits);
  predictionEl.textContent = String(predicted);
  probabilityEl.textContent = `${(probs[predicted] * 100).toFixed(1)} % (softmax)`;
  renderScores(logits, predicted);

  const R = result.relevance;
  if (!R || R.length !== SIZE * SIZE) {
    showError('Explanation', new Error(`expected ${SIZE * SIZE} relevance values, got ${R ? R.length : 'none'}`));
    return;
  }
  let maxAbs = 0, sum = 0, lo = Infinity, hi = -Infinity;
  for (let i = 0; i < R.length; i++) {
    if (!Number.isFinite(R[i])) continue;
    maxAbs = Math.max(maxAbs, Math.abs(R[i]));
    lo = Math.min(lo, R[i]);
    hi = Math.max(hi, R[i]);
    sum += R[i];
  }
  // The flat rule gives every input of a dense layer the same share: on an MLP, whose first layer is
  // dense, the map is uniform. Say so rather than leave the user puzzling over a flat red square.
  const uniform = maxAbs > 0 && hi - lo <= 1e-4 * maxAbs;
  noteEl.hidden = !uniform;
  noteEl.textContent = uniform
    ? 'Every pixel got the same relevance: the flat rule on a dense first layer (every pixel feeds ' +
      'every neuron) spreads relevance evenly. Try epsilon-plus or deep-taylor for a per-pixel map.'
    : '';
  drawHeatmap(R, maxAbs);
  const target = typeof result.target === 'number' ? result.target : predicted;
  heatTargetEl.textContent = `for ${target}`;
  legendMin.textContent = maxAbs > 0 ? `−${fmt(maxAbs)}` : '−max';
  legendMax.textContent = maxAbs > 0 ? `+${fmt(maxAbs)}` : '+max';
  const isLrp = !options.method || options.method === 'lrp';
  statsEl.textContent = isLrp
    ? `Σ relevance = ${fmt(sum)} (logit of ${target} = ${fmt(logits[target])}) · max |R| = ${fmt(maxAbs)}`
    : `Σ = ${fmt(sum)} · max |value| = ${fmt(maxAbs)}`;
  if (statusEl.dataset.kind === 'error' || trigger !== 'draw') {
    setStatus(`Predicted ${predicted}; relevance by ${select.selectedOptions[0]?.textContent.trim() ?? choice}.`);
  }

  demo.explained += 1;
  demo.lastResult = {
    trigger,
    method: choice,
    prediction: predicted,
    probability: probs[predicted],
    logits: Array.from(logits),
    target,
    maxAbsRelevance: maxAbs,
    sumRelevance: sum,
    shape: result.shape ? Array.from(result.shape) : null,
  };
  body.dataset.explained = String(demo.explained);
}

// ---------------------------------------------------------------- start-up and model switching
const modelSelect = $('model');
const modelFooter = $('model-description');
const loadedModels = new Map(); // name → model, so switching back is instant
let loadModelFn = null;

async function loadBundle() {
  try {
    ({ loadModel: loadModelFn } = await import(BUNDLE_URL));
    if (typeof loadModelFn !== 'function') throw new Error('the bundle does not export loadModel');
  } catch (err) {
    throw new Error(`Could not load the lrp-wasm bundle ${BUNDLE_URL} (build it with "npm run build"): ${err.message}`);
  }
}

async function fetchModel(name) {
  const { url } = MODELS[name];
  let bytes;
  try {
    const resp = await fetch(url);
    if (!resp.ok) throw new Error(`HTTP ${resp.status}${resp.status === 404 ? ' (train it with "npm run train")' : ''}`);
    bytes = new Uint8Array(await resp.arrayBuffer());
  } catch (err) {
    throw new Error(`Could not download the model ${url}: ${err.message}`);
  }
  let loaded;
  try {
    loaded = await loadModelFn(bytes);
  } catch (err) {
    throw new Error(`Could not load the model ${url}: ${err.message}`);
  }
  const inputSize = (loaded.inputShape || []).reduce((a, b) => a * b, 1);
  if (inputSize !== SIZE * SIZE || loaded.outputSize !== 10) {
    const got = `input ${JSON.stringify(loaded.inputShape)} and ${loaded.outputSize} outputs`;
    loaded.dispose();
    throw new Error(`The model must take a 28×28 image and give 10 scores; it has ${got}`);
  }
  return loaded;
}

async function useModel(name) {
  body.dataset.state = 'loading';
  setStatus('Loading the model…');
  if (!loadedModels.has(name)) loadedModels.set(name, await fetchModel(name));
  model = loadedModels.get(name);
  demo.model = model;
  demo.modelName = name;
  modelFooter.textContent = MODELS[name].description;
  setStatus(`Model loaded (${model.layers.length} layers, input ${model.inputShape.join('×')}). Draw a digit from 0 to 9.`);
  body.dataset.state = 'ready';
  if (strokes.length) update('model');
}

modelSelect.addEventListener('change', () => {
  useModel(modelSelect.value).catch((err) => {
    body.dataset.state = 'error';
    showError('Error', err);
  });
});

async function init() {
  setStatus('Loading the WebAssembly engine…');
  await loadBundle();
  await useModel(modelSelect.value);
  resolveReady(model);
}

init().catch((err) => {
  body.dataset.state = 'error';
  showError('Error', err);
  rejectReady(err);
});
