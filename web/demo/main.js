// lrp-wasm demo: draw (or pick, or drop) a digit → prediction → relevance heatmaps, live while drawing.
// No framework. The engine runs in the package's worker: models are loaded with lrp-wasm's
// loadModel(url, { worker: true }) and explained through their Promise-returning methods (jobs.js), so this
// thread only draws. The only requests are to this origin (the /dist/ bundle, /models/ models and samples).
//
// Input: strokes over an optional background (a picked MNIST test digit or a dropped image). With no
// strokes, the background itself is the input (a test digit exactly as in the test set); with strokes,
// the canvas (background + strokes) is preprocessed like MNIST. Undo removes the last stroke, Clear
// removes everything, the background too.

import { SIZE } from './preprocess.js';
import { attentionBlocks, clsAttention, patchSums, upsample, spearman, transformerView } from './transformer.js';
import { evaluateMethods } from './jobs.js';
import { $, body, num, demo, state, markReady, markFailed } from './state.js';
import { setStatus, showError, statusIsError, reportUncaughtErrors } from './status.js';
import {
  methodSelect, compareSelect, optionsFor, labelOf, offerMethods, targetSpec, fillTargets,
  initMethodControls,
} from './methods.js';
import {
  MODELS, loadBundle, loadWorkerModel, modelNamed, setCustomModel, modelInfo, refreshEngineStatus, request,
  cancelExplaining, onResult,
} from './client.js';
import { initDrawing, flushFrame, scheduleFrame, fitCanvas, redraw } from './drawing.js';
import { currentInput, hasInput, forgetInputs, loadSamples, initInputs } from './inputs.js';


// ---------------------------------------------------------------- elements
const modelSelect = $('model');
const predictionEl = $('prediction');
const probabilityEl = $('probability');
const scoresEl = $('scores');
const statsEl = $('relevance-stats');
const noteEl = $('relevance-note');

const maps = {
  main: { canvas: $('heatmap'), under: $('heatmap-under') },
  compare: { canvas: $('heatmap2'), under: $('heatmap2-under') },
  unit: { canvas: $('heatmap-unit'), under: $('heatmap-unit-under') },
  attention: { canvas: $('attention'), under: $('attention-under') },
  patches: { canvas: $('patch-relevance'), under: $('patch-relevance-under') },
};
const inputCanvas = $('input');

reportUncaughtErrors();
initMethodControls((trigger) => flushFrame(trigger));
onResult(onFreshResult);
initDrawing({
  update,
  strokeEnded: (id, t0) => {
    strokeTiming = { id, t0, model: state.model };
  },
  cleared: forgetInputs,
});
initInputs({ modelFile: loadModelFile });

// ---------------------------------------------------------------- scores
let scoreRows = [];
function buildScores(n) {
  scoresEl.textContent = '';
  scoreRows = [];
  for (let k = 0; k < n; k++) {
    const row = document.createElement('div');
    row.className = 'score';
    row.setAttribute('role', 'listitem');
    row.dataset.class = String(k);
    row.innerHTML =
      `<span class="score-label">${k}</span>` +
      '<span class="score-track"><span class="score-zero"></span><span class="score-bar"></span></span>' +
      '<span class="score-value"></span>';
    scoresEl.appendChild(row);
    scoreRows.push({ row, bar: row.querySelector('.score-bar'), zero: row.querySelector('.score-zero'), value: row.querySelector('.score-value') });
  }
  resetScores();
}
function renderScores(logits, predicted) {
  let lo = 0, hi = 0;
  for (const v of logits) { lo = Math.min(lo, v); hi = Math.max(hi, v); }
  const span = hi - lo || 1;
  scoreRows.forEach(({ row, bar, zero, value }, k) => {
    const v = logits[k];
    const a = ((Math.min(v, 0) - lo) / span) * 100;
    const b = ((Math.max(v, 0) - lo) / span) * 100;
    bar.style.left = `${a}%`;
    bar.style.width = `${Math.max(b - a, 0)}%`;
    bar.classList.toggle('negative', v < 0);
    zero.style.left = `${(-lo / span) * 100}%`;
    value.textContent = v.toFixed(2);
    row.classList.toggle('predicted', k === predicted);
    row.setAttribute('aria-label', `class ${k}: logit ${v.toFixed(2)}${k === predicted ? ' (predicted)' : ''}`);
  });
}
function resetScores() {
  for (const { row, bar, value } of scoreRows) {
    bar.style.width = '0';
    value.textContent = '';
    row.classList.remove('predicted');
    row.setAttribute('aria-label', `class ${row.dataset.class}: no score yet`);
  }
}

let unitChoice = null; // { layer, unit } chosen in the flow view

function update(trigger) {
  if (!state.info || !state.model) return 0;
  if (!state.info.image) return 0;
  const source = currentInput();
  if (!source) {
    cancelExplaining();
    showEmpty();
    if (body.dataset.state === 'ready' && !statusIsError()) setStatus('Draw a digit, pick one from the test set or drop an image.');
    return 0;
  }
  const { x: input } = source;
  const method = methodSelect.value;
  const options = optionsFor(method);
  const target = targetSpec();
  const jobs = [{ key: 'main', options, target }];
  if (compareSelect.value !== 'off') jobs.push({ key: 'compare', options: optionsFor(compareSelect.value, false), target });
  if (unitChoice) jobs.push({ key: 'unit', options: { ...options, restrict: unitChoice.restrict }, target });
  const isLrp = !options.method;
  return request({
    trigger, model: state.model, name: state.name, input, source: source.name, jobs, wantLayers: isLrp, wantAttention: !!state.info.attention,
    method, compare: compareSelect.value, options, t: performance.now(), unitChoice,
  });
}

// ---------------------------------------------------------------- painting
const COLORMAPS = {
  // blue–white–red, white at 0
  bwr(v) {
    const fade = Math.round(255 * (1 - Math.abs(v)));
    return [v < 0 ? fade : 255, fade, v > 0 ? fade : 255];
  },
  // cold and hot: black at 0, blue → cyan for negative, red → yellow for positive
  coldhot(v) {
    const t = Math.abs(v);
    const main = Math.round(255 * Math.min(1, 2 * t));
    const second = Math.round(255 * Math.max(0, 2 * t - 1));
    return v >= 0 ? [main, second, 0] : [0, second, main];
  },
};
const GRADIENT_CSS = {
  bwr: 'linear-gradient(90deg, rgb(0,0,255), #fff 50%, rgb(255,0,0))',
  coldhot: 'linear-gradient(90deg, rgb(0,255,255), rgb(0,0,255) 25%, #000 50%, rgb(255,0,0) 75%, rgb(255,255,0))',
};

/** Sums relevance over channels into an H×W plane. */
function plane(relevance) {
  const { C, H, W } = state.info.image;
  if (C === 1) return relevance;
  const out = new Float32Array(H * W);
  for (let ch = 0; ch < C; ch++) for (let i = 0; i < H * W; i++) out[i] += relevance[ch * H * W + i];
  return out;
}

function stats(R) {
  let maxAbs = 0, sum = 0, lo = Infinity, hi = -Infinity;
  for (const r of R) {
    if (!Number.isFinite(r)) continue;
    maxAbs = Math.max(maxAbs, Math.abs(r));
    lo = Math.min(lo, r);
    hi = Math.max(hi, r);
    sum += r;
  }
  return { maxAbs, sum, lo, hi };
}

function sizeCanvas(c, W, H) {
  if (c.width !== W || c.height !== H) {
    c.width = W;
    c.height = H;
  }
}

function paintMap(map, R, maxAbs) {
  const { H, W } = state.info.image;
  sizeCanvas(map.canvas, W, H);
  const c = map.canvas.getContext('2d', { willReadFrequently: true });
  const img = c.createImageData(W, H);
  const cm = COLORMAPS[$('colormap').value] ?? COLORMAPS.bwr;
  for (let i = 0; i < W * H; i++) {
    const r = R[i];
    const v = maxAbs > 0 && Number.isFinite(r) ? Math.max(-1, Math.min(1, r / maxAbs)) : 0;
    const [cr, cg, cb] = cm(v);
    img.data[4 * i] = cr;
    img.data[4 * i + 1] = cg;
    img.data[4 * i + 2] = cb;
    img.data[4 * i + 3] = 255;
  }
  c.putImageData(img, 0, 0);
}

function clearMap(map) {
  map.canvas.getContext('2d').clearRect(0, 0, map.canvas.width, map.canvas.height);
}

function paintInput(input) {
  const { C, H, W } = state.info.image;
  for (const c of [inputCanvas, ...Object.values(maps).map((m) => m.under)]) sizeCanvas(c, W, H);
  const img = new ImageData(W, H);
  const under = new ImageData(W, H);
  const dark = $('colormap').value === 'coldhot';
  for (let i = 0; i < W * H; i++) {
    for (let ch = 0; ch < 3; ch++) {
      const v = Math.min(1, Math.max(0, input[(C === 3 ? ch : 0) * H * W + i]));
      img.data[4 * i + ch] = Math.round(v * 255);
      // beneath the overlay: ink on paper for blue–white–red, faint white ink on black for cold-and-hot
      under.data[4 * i + ch] = dark ? Math.round(v * 120) : 255 - Math.round(v * 160);
    }
    img.data[4 * i + 3] = under.data[4 * i + 3] = 255;
  }
  inputCanvas.getContext('2d').putImageData(img, 0, 0);
  for (const m of Object.values(maps)) m.under.getContext('2d').putImageData(under, 0, 0);
  $('input-size').textContent = `${W}×${H}${C > 1 ? `×${C}` : ''}`;
}

function showEmpty() {
  predictionEl.textContent = '';
  probabilityEl.textContent = '';
  $('heatmap-target').textContent = '';
  statsEl.textContent = '';
  $('legend-min').textContent = '−max';
  $('legend-max').textContent = '+max';
  resetScores();
  inputCanvas.getContext('2d').clearRect(0, 0, inputCanvas.width, inputCanvas.height);
  for (const m of Object.values(maps)) {
    clearMap(m);
    m.under.getContext('2d').clearRect(0, 0, m.under.width, m.under.height);
  }
  noteEl.hidden = true;
  flowChart.textContent = '';
  lastLayers = null;
  drawUnits();
  clearAttention();
  body.dataset.drawing = 'empty';
  demo.lastResult = null;
}

const fmt = (v) => (Math.abs(v) >= 100 || (Math.abs(v) < 0.01 && v !== 0) ? v.toExponential(2) : v.toFixed(3));
const argmax = (a) => a.reduce((k, v, i) => (v > a[k] ? i : k), 0);
function softmax(a) {
  const m = Math.max(...a);
  const e = Array.from(a, (v) => Math.exp(v - m));
  const s = e.reduce((p, q) => p + q, 0);
  return e.map((v) => v / s);
}
const median = (a) => {
  const s = [...a].sort((p, q) => p - q);
  return s.length ? (s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2) : null;
};

let strokeTiming = null; // { id, t0, model } of the request made at the last pointerup
let lastPaint = null; // the last painted request + result (for re-colouring without recomputing)

function onFreshResult(req, m) {
  if (!hasInput()) return; // cleared meanwhile
  paintResult(req, m);
  const now = performance.now();
  if (strokeTiming && req.id >= strokeTiming.id && strokeTiming.model === req.model) {
    const ms = now - strokeTiming.t0;
    const name = req.name;
    (demo.latencies[name] ??= []).push(ms);
    demo.latency[name] = median(demo.latencies[name]);
    $('latency').textContent = `Last stroke → heatmap: ${ms.toFixed(0)} ms (median ${demo.latency[name].toFixed(0)} ms on the ${MODELS[name]?.label ?? name}).`;
    strokeTiming = null;
  }
}

function paintResult(req, m) {
  lastPaint = { req, m };
  const { logits, results } = m;
  const main = results.main;
  const predicted = argmax(logits);
  const probs = softmax(logits);
  predictionEl.textContent = String(predicted);
  probabilityEl.textContent = `${(probs[predicted] * 100).toFixed(1)} % (softmax)`;
  renderScores(logits, predicted);
  paintInput(req.input);
  body.dataset.drawing = 'digit';

  if (main.error) {
    showError(`Explaining with "${req.method}" failed`, new Error(main.error));
    clearMap(maps.main);
    clearAttention();
    statsEl.textContent = '';
    noteEl.hidden = true;
    return;
  }
  const R = plane(main.relevance);
  const st = stats(R);
  paintMap(maps.main, R, st.maxAbs);
  const uniform = st.maxAbs > 0 && st.hi - st.lo <= 1e-4 * st.maxAbs;
  noteEl.hidden = !uniform;
  noteEl.textContent = uniform
    ? 'Every pixel got the same relevance: the flat rule on a dense first layer (every pixel feeds ' +
      'every neuron) spreads relevance evenly. Try epsilon-plus or deep-taylor for a per-pixel map.'
    : '';
  const tg = req.jobs[0].target;
  const target = main.target;
  const targetText = tg.kind === 'contrast' ? `for ${tg.a}, not ${tg.b}` : `for ${target}`;
  $('heatmap-target').textContent = targetText;
  maps.main.canvas.setAttribute('aria-label', `Relevance heatmap ${targetText} by ${labelOf(methodSelect)}: red pixels speak for it, blue against`);
  $('legend-min').textContent = st.maxAbs > 0 ? `−${fmt(st.maxAbs)}` : '−max';
  $('legend-max').textContent = st.maxAbs > 0 ? `+${fmt(st.maxAbs)}` : '+max';
  const isLrp = !req.options.method;
  const fx = tg.kind === 'contrast' ? logits[tg.a] - logits[tg.b] : logits[target];
  const fxText = tg.kind === 'contrast' ? `f${tg.a} − f${tg.b}` : `f${target}(x)`;
  statsEl.textContent = isLrp
    ? `Σ R = ${fmt(st.sum)} vs ${fxText} = ${fmt(fx)} (${fx !== 0 ? ((st.sum / fx) * 100).toFixed(1) : '—'} % conserved) · max |R| = ${fmt(st.maxAbs)}`
    : `Σ = ${fmt(st.sum)} · ${fxText} = ${fmt(fx)} · max |value| = ${fmt(st.maxAbs)}`;

  let compare = null;
  if (results.compare && !results.compare.error) {
    const R2 = plane(results.compare.relevance);
    const s2 = stats(R2);
    paintMap(maps.compare, R2, s2.maxAbs);
    compare = { method: req.compare, maxAbsRelevance: s2.maxAbs, sumRelevance: s2.sum };
    maps.compare.canvas.setAttribute('aria-label', `Second heatmap ${targetText} by ${labelOf(compareSelect)}, for comparison`);
  } else {
    clearMap(maps.compare);
    if (results.compare?.error) showError(`Comparing with "${req.compare}" failed`, new Error(results.compare.error));
  }

  let unit = null;
  if (results.unit && !results.unit.error) {
    const R3 = plane(results.unit.relevance);
    const s3 = stats(R3);
    paintMap(maps.unit, R3, s3.maxAbs);
    const uc = req.unitChoice;
    unit = { layer: uc.layer, unit: uc.unit, label: uc.label, maxAbsRelevance: s3.maxAbs, sumRelevance: s3.sum };
    $('unit-caption').textContent = `Through ${uc.label}: Σ R = ${fmt(s3.sum)}`;
    maps.unit.canvas.closest('figure').classList.remove('empty');
  } else {
    clearMap(maps.unit);
    if (results.unit?.error) showError('Restricting to the unit failed', new Error(results.unit.error));
    else $('unit-caption').textContent = 'No unit chosen';
    maps.unit.canvas.closest('figure').classList.add('empty');
  }

  lastLayers = main.layers ?? null;
  renderFlow(lastLayers, st.sum, isLrp);
  lastAttention = { blocks: attentionBlocks(m.attention)?.blocks ?? null, R };
  paintAttention();

  if (statusIsError() || req.trigger !== 'draw') {
    if (!(results.compare?.error || results.unit?.error)) {
      setStatus(`Predicted ${predicted} for ${req.source}; relevance ${targetText} by ${labelOf(methodSelect)}.`);
    }
  }
  demo.explained += 1;
  demo.lastResult = {
    trigger: req.trigger,
    triggers: req.triggers,
    id: req.id,
    method: req.method,
    model: req.name,
    prediction: predicted,
    probability: probs[predicted],
    logits: Array.from(logits),
    target,
    targetSpec: tg,
    maxAbsRelevance: st.maxAbs,
    sumRelevance: st.sum,
    fx,
    shape: state.info.inputShape.slice(),
    compare,
    unit,
    layers: lastLayers ? lastLayers.map(({ index, name, kind, sum, absorbed }) => ({ index, name, kind, sum, absorbed })) : null,
    ms: m.ms,
  };
  body.dataset.explained = String(demo.explained);
}

// ---------------------------------------------------------------- attention vs relevance (transformers)
const attentionReadout = $('attention-readout');
let lastAttention = null; // { blocks: attention blocks with their weights | null, R: the pixel relevance }

// Attention is a weight in [0, 1], not a signed relevance: a sequential map, apart from the relevance colours.
const ATTENTION_COLOURS = {
  bwr: (v) => [255 - Math.round(171 * v), 255 - Math.round(216 * v), 255 - Math.round(112 * v)], // white → purple
  coldhot: (v) => [Math.round(170 * v), Math.round(240 * v), Math.round(120 * v)], // black → pale green
};

/** The block and head selectors for the model's attention blocks; the card is shown for ViT-like models only. */
function fillAttentionControls() {
  const a = state.info.attention;
  $('attention-card').hidden = !a || !state.info.image;
  if (!a) return;
  const blockSel = $('att-block');
  const old = blockSel.value;
  blockSel.textContent = '';
  a.blocks.forEach((b, k) => blockSel.append(new Option(`${k + 1} of ${a.blocks.length} (layer ${b.index})`, String(k))));
  // the last block by default: its CLS row is what the classifier's token gathers last
  blockSel.value = old !== '' && Number(old) < a.blocks.length ? old : String(a.blocks.length - 1);
  fillHeads();
  for (const el of document.querySelectorAll('.att-grid')) el.textContent = `${a.grid}×${a.grid}`;
}

function fillHeads() {
  const block = state.info.attention.blocks[Number($('att-block').value)];
  const headSel = $('att-head');
  const old = headSel.value;
  headSel.textContent = '';
  for (let h = 0; h < block.heads; h++) headSel.append(new Option(`head ${h + 1}`, String(h)));
  if (block.heads > 1) headSel.append(new Option('mean of the heads', 'mean'));
  headSel.value = [...headSel.options].some((o) => o.value === old) ? old : '0';
}

const chosenHead = () => ($('att-head').value === 'mean' ? 'mean' : Number($('att-head').value));

function clearAttention() {
  lastAttention = null;
  clearMap(maps.attention);
  clearMap(maps.patches);
  attentionReadout.textContent = '';
  demo.attention = null;
}

/** Paints a map of values in [0, max] with the sequential attention colours. */
function paintWeights(map, values, max) {
  const { H, W } = state.info.image;
  sizeCanvas(map.canvas, W, H);
  const c = map.canvas.getContext('2d', { willReadFrequently: true });
  const img = c.createImageData(W, H);
  const colour = ATTENTION_COLOURS[$('colormap').value] ?? ATTENTION_COLOURS.bwr;
  for (let i = 0; i < W * H; i++) {
    const [r, g, b] = colour(max > 0 ? Math.min(1, Math.max(0, values[i] / max)) : 0);
    img.data.set([r, g, b, 255], 4 * i);
  }
  c.putImageData(img, 0, 0);
}

const pct = (v) => `${(v * 100).toFixed(v < 0.1 ? 1 : 0)} %`;

/** The CLS attention of the chosen block and head beside the patch relevance, from the last result. */
function paintAttention() {
  const blocks = lastAttention?.blocks;
  if (!state.info?.attention || !state.info.image) return;
  if (!blocks?.length) {
    clearMap(maps.attention);
    clearMap(maps.patches);
    attentionReadout.textContent = 'No attention weights came with this result.';
    demo.attention = null;
    return;
  }
  const k = Math.min(blocks.length - 1, Number($('att-block').value) || 0);
  const block = blocks[k];
  const head = chosenHead();
  const { H, W } = state.info.image;
  const G = block.grid;
  const att = clsAttention(block, head);
  const attMax = Math.max(...att);
  paintWeights(maps.attention, upsample(att, G, H, W), attMax);
  const patchR = patchSums(lastAttention.R, H, W, G);
  const rMax = Math.max(...Array.from(patchR, Math.abs));
  paintMap(maps.patches, upsample(patchR, G, H, W), rMax);
  const rho = spearman(att, patchR);
  const self = 1 - att.reduce((a, b) => a + b, 0); // row 0 sums to 1: the rest is the CLS token itself
  const top = argmax(att);
  const headText = head === 'mean' ? 'the mean of the heads' : `head ${head + 1}`;
  $('attention-caption').textContent = `CLS attention, block ${k + 1}, ${headText} (max ${pct(attMax)})`;
  $('patch-caption').textContent = `Relevance per patch, ${labelOf(methodSelect)} (max |R| ${fmt(rMax)})`;
  maps.attention.canvas.setAttribute('aria-label', `Attention of the CLS token over the ${G}×${G} patches in block ${k + 1}, ${headText}`);
  attentionReadout.textContent =
    `Block ${k + 1}, ${headText}: the CLS token keeps ${pct(self)} of its attention on itself; the patch it attends to most ` +
    `is row ${Math.floor(top / G) + 1}, column ${(top % G) + 1} (${pct(att[top])}). Rank correlation of attention and patch ` +
    `relevance: ${rho === null ? '— (one of them is constant)' : `ρ = ${rho.toFixed(2)}`} (1: the same order, 0: unrelated).`;
  demo.attention = {
    block: k, head, layer: block.index, grid: G, heads: block.heads,
    values: Array.from(att), patchRelevance: Array.from(patchR), rho, self,
  };
}

$('att-block').addEventListener('change', () => {
  fillHeads();
  paintAttention();
});
$('att-head').addEventListener('change', paintAttention);

// ---------------------------------------------------------------- relevance flow
const flowChart = $('flow-chart');
const unitsCanvas = $('units');
let lastLayers = null;

function renderFlow(layers, inputSum, isLrp) {
  flowChart.textContent = '';
  if (!layers || !isLrp) {
    const p = document.createElement('p');
    p.className = 'help';
    p.textContent = isLrp ? '' : 'The per-layer flow is shown for LRP methods.';
    flowChart.append(p);
    drawUnits();
    return;
  }
  const rows = [...layers].reverse().map((l) => ({
    label: `${l.index} ${l.kind}`, title: `${l.name} · ${l.outputShape.join('×')}`, sum: l.sum, absorbed: l.absorbed,
  }));
  rows.push({ label: 'input', title: 'Σ R over the input pixels', sum: inputSum, absorbed: 0 });
  const max = Math.max(1e-12, ...rows.map((r) => Math.abs(r.sum) + Math.abs(r.absorbed)));
  for (const r of rows) {
    const row = document.createElement('div');
    row.className = 'flow-row';
    row.setAttribute('role', 'listitem');
    row.title = r.title;
    row.setAttribute('aria-label', `${r.label}: Σ R = ${fmt(r.sum)}, absorbed ${fmt(r.absorbed)}`);
    const w = (Math.abs(r.sum) / max) * 100;
    const wa = (Math.abs(r.absorbed) / max) * 100;
    row.innerHTML =
      `<span class="flow-label"></span><span class="flow-track"><span class="flow-bar${r.sum < 0 ? ' negative' : ''}" style="width:${w}%"></span>` +
      `<span class="flow-absorbed" style="width:${wa}%"></span></span><span class="flow-value">${fmt(r.sum)}</span>`;
    row.querySelector('.flow-label').textContent = r.label;
    flowChart.append(row);
  }
  drawUnits();
}

function fillFlowLayers() {
  const sel = $('flow-layer');
  sel.textContent = '';
  for (const l of state.info.layers) {
    if (l.kind === 'reshape' || l.index === state.info.layers.length - 1) continue;
    sel.append(new Option(`${l.index}: ${l.kind} ${l.outputShape.join('×')}`, String(l.index)));
  }
  // a transformer: the first residual sum of the tokens (patch embeddings + positions) shows them on the
  // patch grid; other models: the first hidden layer
  const tokens = state.info.layers.filter((l) => l.kind !== 'reshape' && transformerView(l.outputShape, state.info.attention)?.view === 'tokens');
  const first = tokens.find((l) => l.kind === 'add') ?? tokens[0] ??
    state.info.layers.find((l) => l.kind === 'relu' || l.kind === 'dense' || l.kind === 'conv');
  if (first) sel.value = String(first.index);
}

/**
 * Units of a layer, each a contiguous block of `size` values of its output: a dense output's features
 * (size 1), a conv-like output's channels, or a transformer's tokens or heads (transformer.js).
 * `vals` sums the relevance `rel` (if given) per unit; `name` says what a unit is.
 */
function unitsOf(layerIndex, rel) {
  const shape = state.info.layers[layerIndex].outputShape;
  const sumUnits = (n, size) => {
    const vals = new Float32Array(n);
    if (rel) for (let k = 0; k < n; k++) for (let i = 0; i < size; i++) vals[k] += rel[k * size + i];
    return vals;
  };
  const tv = transformerView(shape, state.info.attention);
  if (tv) {
    return { ...tv, vals: sumUnits(tv.n, tv.size), name: tv.view === 'tokens' ? 'token' : 'head', grid: state.info.attention.grid };
  }
  if (shape.length === 3) {
    const [C, H, W] = shape;
    return { view: 'bars', n: C, vals: sumUnits(C, H * W), name: 'channel', size: H * W };
  }
  const n = shape.reduce((a, b) => a * b, 1);
  return { view: 'bars', n, vals: rel ? rel : new Float32Array(n), name: 'unit', size: 1 };
}

/** What a unit of the tokens view is, for people: the CLS token, or a patch by its grid row and column. */
function tokenName(u, k) {
  if (u.cls && k === 0) return 'the CLS token';
  const p = k - (u.cls ? 1 : 0);
  return `patch row ${Math.floor(p / u.grid) + 1}, column ${(p % u.grid) + 1}`;
}

/** Cells of the tokens view in canvas pixels: the CLS token apart, the patches on their G×G grid. */
function tokenCells(u, height) {
  const pad = 4, G = u.grid;
  const cell = Math.floor((height - 2 * pad) / G);
  const x0 = pad + (u.cls ? cell + 14 : 0);
  const cells = [];
  if (u.cls) cells.push({ x: pad, y: pad, w: cell, h: cell });
  for (let p = 0; p < G * G; p++) cells.push({ x: x0 + (p % G) * cell, y: pad + Math.floor(p / G) * cell, w: cell, h: cell });
  return { cells, right: x0 + G * cell };
}

let unitsCanvasWidth = 0;
new ResizeObserver(([entry]) => {
  const width = Math.round(entry.contentRect.width);
  if (width && width !== unitsCanvasWidth) {
    unitsCanvasWidth = width;
    drawUnits();
  }
}).observe(unitsCanvas);

function drawUnits() {
  const c = unitsCanvas;
  const g = c.getContext('2d');
  // The width comes from a ResizeObserver: reading the layout here would force a synchronous layout
  // right after the result's DOM updates, a few milliseconds on every paint.
  const cssW = unitsCanvasWidth || 320;
  if (c.width !== cssW) c.width = cssW;
  g.clearRect(0, 0, c.width, c.height);
  const sel = $('flow-layer').value;
  if (!state.info || sel === '' || !lastLayers) return;
  const li = Number(sel);
  const rel = lastLayers.find((l) => l.index === li)?.relevance;
  const u = unitsOf(li, rel);
  let max = 0;
  for (const v of u.vals) max = Math.max(max, Math.abs(v));
  const chosen = unitChoice && unitChoice.layer === li ? unitChoice.unit : -1;
  if (u.view === 'tokens') drawTokens(g, u, chosen);
  else drawBars(g, u, max, chosen);
  demo.units = { layer: li, view: u.view, values: u.vals, cells: u.view === 'tokens' ? tokenCells(u, c.height).cells : null };
}

function drawBars(g, u, max, chosen) {
  const c = g.canvas;
  const bw = c.width / u.n;
  const mid = c.height / 2;
  g.fillStyle = '#d9dde5';
  g.fillRect(0, mid, c.width, 1);
  for (let k = 0; k < u.n; k++) {
    const v = max > 0 ? u.vals[k] / max : 0;
    g.fillStyle = v >= 0 ? '#d7301f' : '#2c62c9';
    const h = Math.abs(v) * (mid - 2);
    g.fillRect(k * bw, v >= 0 ? mid - h : mid + 1, Math.max(1, bw - (bw > 3 ? 1 : 0)), Math.max(h, v !== 0 ? 1 : 0));
  }
  if (chosen >= 0) {
    g.strokeStyle = '#1d2330';
    g.lineWidth = 2;
    g.strokeRect(chosen * bw, 1, Math.max(2, bw), c.height - 2);
  }
}

/**
 * A tokens layer: each token's relevance (Σ over its features) coloured on the patch grid, CLS apart.
 * The colours are scaled by the largest patch: the CLS token often holds far more (near the input it
 * is a constant whose share is absorbed), which would wash the patches out; its cell saturates instead.
 */
function drawTokens(g, u, chosen) {
  const { cells, right } = tokenCells(u, g.canvas.height);
  const cm = COLORMAPS[$('colormap').value] ?? COLORMAPS.bwr;
  const first = u.cls ? 1 : 0;
  let max = 0;
  for (let k = first; k < u.n; k++) max = Math.max(max, Math.abs(u.vals[k]));
  cells.forEach((r, k) => {
    const [cr, cg, cb] = cm(max > 0 ? Math.max(-1, Math.min(1, u.vals[k] / max)) : 0);
    g.fillStyle = `rgb(${cr},${cg},${cb})`;
    g.fillRect(r.x, r.y, r.w, r.h);
  });
  g.strokeStyle = '#d9dde5';
  g.lineWidth = 1;
  for (const r of cells) g.strokeRect(r.x + 0.5, r.y + 0.5, r.w - 1, r.h - 1);
  if (chosen >= 0 && cells[chosen]) {
    const r = cells[chosen];
    g.strokeStyle = '#1d2330';
    g.lineWidth = 2;
    g.strokeRect(r.x + 1, r.y + 1, r.w - 2, r.h - 2);
  }
  g.fillStyle = '#5b6475';
  g.font = '11px sans-serif';
  if (u.cls) g.fillText('CLS', cells[0].x, cells[0].y + cells[0].h + 12);
  const lines = [
    `${u.n} tokens: Σ R over the ${u.size} values of each;`,
    `patches on the ${u.grid}×${u.grid} grid (max |R| ${fmt(max)})`,
    `${u.cls ? `CLS: ${fmt(u.vals[0])} · ` : ''}click a token`,
  ];
  const room = g.canvas.width - right - 18;
  if (room >= 100) lines.forEach((t, i) => g.fillText(t, right + 14, 18 + 16 * i, room)); // squeezed on a phone
}

function chooseUnit(unit) {
  const sel = $('flow-layer').value;
  if (!state.info || sel === '' || unit === null || !Number.isInteger(unit)) {
    unitChoice = null;
  } else {
    const li = Number(sel);
    const u = unitsOf(li, null);
    if (unit < 0 || unit >= u.n) {
      showError('Unit', new Error(`layer ${li} has units 0..${u.n - 1}, not ${unit}`));
      return;
    }
    const restrict = u.size > 1
      ? { layer: li, units: Array.from({ length: u.size }, (_, i) => unit * u.size + i) }
      : { layer: li, unit };
    const what = u.view === 'tokens' ? `token ${unit} (${tokenName(u, unit)})` : `${u.name} ${unit}`;
    unitChoice = { layer: li, unit, restrict, label: `${what} of layer ${li} (${state.info.layers[li].kind})` };
  }
  $('unit').value = unitChoice ? String(unit) : '';
  drawUnits();
  flushFrame('unit');
}

/** The unit under a click: a token's cell, or the bar (snapping to the most relevant bar nearby). */
function unitAt(u, x, y, rect) {
  if (u.view === 'tokens') {
    const { cells } = tokenCells(u, unitsCanvas.height);
    const px = (x * unitsCanvas.width) / rect.width, py = (y * unitsCanvas.height) / rect.height;
    const k = cells.findIndex((r) => px >= r.x && px < r.x + r.w && py >= r.y && py < r.y + r.h);
    return k >= 0 ? k : null;
  }
  let k = Math.min(u.n - 1, Math.max(0, Math.floor((x / rect.width) * u.n)));
  // thin bars (many units): snap to the most relevant unit within ±4 CSS pixels of the click
  const reach = Math.floor((4 / rect.width) * u.n);
  for (let j = Math.max(0, k - reach); j <= Math.min(u.n - 1, k + reach); j++) {
    if (Math.abs(u.vals[j]) > Math.abs(u.vals[k])) k = j;
  }
  return k;
}
unitsCanvas.addEventListener('click', (e) => {
  const sel = $('flow-layer').value;
  if (sel === '' || !state.info) return;
  const rect = unitsCanvas.getBoundingClientRect();
  const li = Number(sel);
  const u = unitsOf(li, lastLayers?.find((l) => l.index === li)?.relevance ?? null);
  const k = unitAt(u, e.clientX - rect.left, e.clientY - rect.top, rect);
  if (k !== null) chooseUnit(k);
});
unitsCanvas.addEventListener('keydown', (e) => {
  if (!['ArrowLeft', 'ArrowRight'].includes(e.key)) return;
  e.preventDefault();
  const cur = unitChoice ? unitChoice.unit : -1;
  chooseUnit(Math.max(0, cur + (e.key === 'ArrowRight' ? 1 : -1)));
});
$('unit').addEventListener('change', () => {
  const v = $('unit').value;
  chooseUnit(v === '' ? null : Number(v));
});
$('unit-clear').addEventListener('click', () => chooseUnit(null));
$('flow-layer').addEventListener('change', () => {
  unitChoice = null;
  $('unit').value = '';
  drawUnits();
  flushFrame('unit');
});

function repaintColours() {
  const cm = $('colormap').value;
  $('legend-bar').style.background = GRADIENT_CSS[cm];
  body.dataset.colormap = cm;
  if (lastPaint && hasInput() && demo.lastResult) paintResult(lastPaint.req, lastPaint.m);
}
$('colormap').addEventListener('change', repaintColours);
function applyOpacity() {
  const v = num('opacity', 72);
  document.documentElement.style.setProperty('--overlay-opacity', String(v / 100));
  $('opacity').setAttribute('aria-valuetext', `${v} %`);
}
$('opacity').addEventListener('input', applyOpacity);
function applyOverlay() {
  body.classList.toggle('overlay', $('overlay').checked);
}
$('overlay').addEventListener('change', applyOverlay);

// ---------------------------------------------------------------- PNG download
$('download').addEventListener('click', () => {
  const src = maps.main.canvas;
  if (!demo.lastResult) {
    setStatus('Nothing to download yet: draw or pick a digit first.');
    return;
  }
  const scale = Math.max(1, Math.floor(280 / Math.max(src.width, src.height)));
  const c = document.createElement('canvas');
  c.width = src.width * scale;
  c.height = src.height * scale;
  const g = c.getContext('2d');
  g.imageSmoothingEnabled = false; // nearest neighbour: crisp pixels
  g.drawImage(src, 0, 0, c.width, c.height);
  c.toBlob((blob) => {
    if (!blob) {
      showError('Download', new Error('the browser could not encode the PNG'));
      return;
    }
    const a = $('download-link');
    if (a.href) URL.revokeObjectURL(a.href);
    a.href = URL.createObjectURL(blob);
    const r = demo.lastResult;
    a.download = `lrp-${state.name}-${r.method.replace(/[^a-z0-9-]+/gi, '_')}-class${r.target}.png`;
    a.click();
  }, 'image/png');
});

// ---------------------------------------------------------------- models
function describeModel(name) {
  const shape = state.info.inputShape.join('×');
  const mem = state.engine?.memoryBytes ? ` · engine memory ${(state.engine.memoryBytes / 2 ** 20).toFixed(1)} MB` : '';
  const threads = state.engine?.threads ? ` · ${state.engine.threads} engine thread${state.engine.threads === 1 ? '' : 's'}` : '';
  $('model-summary').textContent = `${name === 'custom' ? state.customFileName : MODELS[name].label} · input ${shape} · ${state.info.outputSize} outputs · ${state.info.layers.length} layers${mem}${threads}`;
  const ol = $('model-layers');
  ol.textContent = '';
  for (const l of state.info.layers) {
    const li = document.createElement('li');
    li.textContent = `${l.kind} ${l.outputShape.join('×')} (${l.name})`;
    ol.append(li);
  }
  $('model-description').textContent = name === 'custom' ? `your model ${state.customFileName}` : MODELS[name].description;
}

async function useModel(name) {
  cancelExplaining(); // the previous model's results are stale: its calls still queued in the worker are dropped
  body.dataset.state = 'loading';
  setStatus('Loading the model…');
  const model = await modelNamed(name);
  await refreshEngineStatus(model); // answered after the call the worker is running, if any (one at a time)
  state.model = model;
  state.name = name;
  demo.modelName = name;
  state.info = modelInfo(model);
  // a file with ViT-like attention blocks starts on attn-lrp as the bundled ViT does
  offerMethods({ transformer: state.info.transformer, start: MODELS[name]?.method ?? (state.info.attention ? 'attn-lrp' : null) });
  fillAttentionControls();
  unitChoice = null;
  $('unit').value = '';
  lastLayers = null;
  lastPaint = null;
  buildScores(model.outputSize);
  fillTargets(model.outputSize);
  fillFlowLayers();
  describeModel(name);
  body.dataset.state = 'ready';
  if (!state.info.image) {
    showEmpty();
    setStatus(`This model's input has the shape [${state.info.inputShape.join(', ')}], which is not an image (expected channels × height × width): ` +
      'the demo can show its layers but cannot feed it a drawing. Choose an image model.', 'error');
    body.dataset.inputKind = 'not-image';
    return;
  }
  body.dataset.inputKind = 'image';
  const { C, H, W } = state.info.image;
  setStatus(`Model loaded (${state.info.layers.length} layers, input ${state.info.inputShape.join('×')}${H !== SIZE || W !== SIZE ? `: drawings are resized to ${H}×${W}${C > 1 ? ` and repeated over ${C} channels` : ''}` : ''}). Draw a digit from 0 to 9.`);
  if (currentInput()) flushFrame('model');
  else showEmpty();
}

modelSelect.addEventListener('change', () => {
  useModel(modelSelect.value).catch((err) => {
    body.dataset.state = 'error';
    showError('Error', err);
  });
});

$('model-file').addEventListener('change', (e) => {
  const file = e.target.files[0];
  e.target.value = '';
  if (file) loadModelFile(file);
});

/** A user's ONNX file (chosen or dropped): loaded into the worker, it replaces the previous file's model. */
async function loadModelFile(file) {
  setStatus(`Loading your model ${file.name}…`);
  let model;
  try {
    model = await loadWorkerModel(file).catch((err) => {
      throw new Error(`Could not load the model file: ${err.message}`);
    });
  } catch (err) {
    showError(`Could not use your model "${file.name}"`, err);
    demo.modelError = err.message;
    return;
  }
  const previous = await setCustomModel(model);
  state.customFileName = file.name;
  const opt = modelSelect.querySelector('option[value="custom"]');
  opt.disabled = false;
  opt.textContent = `Your model: ${file.name}`;
  modelSelect.value = 'custom';
  try {
    await useModel('custom');
  } finally {
    previous?.dispose(); // after the switch: no request of the page uses it any more
  }
}

// ---------------------------------------------------------------- faithfulness (pixel flipping)
const faithChart = $('faith-chart');
const faithReadout = $('faith-readout');
const FAITH_COLOURS = { main: '#d7301f', compare: '#2c62c9' };
let faithRun = null; // the AbortController of the evaluation being computed

async function runFaithfulness() {
  const input = currentInput();
  if (!input) {
    faithReadout.textContent = 'Draw a digit or pick one first.';
    return;
  }
  const methods = [{ key: 'main', label: labelOf(methodSelect), options: optionsFor(methodSelect.value) }];
  if (compareSelect.value !== 'off') methods.push({ key: 'compare', label: labelOf(compareSelect), options: optionsFor(compareSelect.value, false) });
  // 2×2 patches on a 28×28 digit (196 patches), 20 steps: about 40 forward passes per method.
  const patchSize = Math.max(1, Math.round(state.info.image.H / 14));
  faithRun?.abort(); // a newer click replaces a run still waiting or computing
  const run = (faithRun = new AbortController());
  faithReadout.textContent = 'Computing…';
  const onProgress = (done, total) => {
    if (faithRun === run) faithReadout.textContent = `Computing… ${Math.floor(done)} of ${total} method${total === 1 ? '' : 's'} done.`;
  };
  try {
    const r = await evaluateMethods(state.model, input.x, methods, { patchSize, steps: 20, signal: run.signal, onProgress });
    drawFaithfulness(methods, r);
    const model = state.model;
    refreshEngineStatus(model).then(() => model === state.model && describeModel(state.name))
      .catch((err) => showError('Engine status', err)); // it may have grown
  } catch (err) {
    if (!run.signal.aborted) faithReadout.textContent = `Could not evaluate: ${err.message}`;
  } finally {
    if (faithRun === run) faithRun = null;
  }
}

function drawFaithfulness(methods, r) {
  const g = faithChart.getContext('2d');
  const W = faithChart.width, H = faithChart.height, pad = 24;
  g.clearRect(0, 0, W, H);
  const all = methods.flatMap(({ key }) => (r.curves[key]?.error ? [] : [...r.curves[key].morf.curve, ...r.curves[key].lerf.curve]));
  if (!all.length) {
    faithReadout.textContent = methods.map(({ label, key }) => `${label}: ${r.curves[key]?.error}`).join(' · ');
    return;
  }
  const lo = Math.min(...all), hi = Math.max(...all), span = hi - lo || 1;
  const steps = r.perturbed.length - 1;
  const px = (k) => pad + ((W - 2 * pad) * r.perturbed[k]) / r.patches;
  const py = (v) => H - pad - ((H - 2 * pad) * (v - lo)) / span;
  g.strokeStyle = '#9aa3b2';
  g.lineWidth = 1;
  g.strokeRect(pad, pad, W - 2 * pad, H - 2 * pad);
  g.fillStyle = '#4b5563';
  g.font = '10px sans-serif';
  g.fillText('patches perturbed →', W / 2 - 40, H - 6);
  g.fillText(hi.toFixed(1), 2, pad + 4);
  g.fillText(lo.toFixed(1), 2, H - pad);
  const lines = [];
  for (const { key, label } of methods) {
    const c = r.curves[key];
    if (c.error) {
      lines.push(`${label}: ${c.error}`);
      continue;
    }
    for (const [order, dash] of [['morf', []], ['lerf', [5, 4]]]) {
      g.strokeStyle = FAITH_COLOURS[key];
      g.setLineDash(dash);
      g.lineWidth = 2;
      g.beginPath();
      c[order].curve.forEach((v, k) => (k ? g.lineTo(px(k), py(v)) : g.moveTo(px(k), py(v))));
      g.stroke();
    }
    lines.push(`${label}: AOPC MoRF ${c.morf.aopc.toFixed(2)}, LeRF ${c.lerf.aopc.toFixed(2)}`);
  }
  g.setLineDash([]);
  faithReadout.textContent = `${lines.join(' · ')} (${steps} steps, ${r.patches} patches).`;
  demo.faithfulness = Object.fromEntries(methods.map(({ key, label }) => [key, { label, ...r.curves[key] }]));
}
$('faith-run').addEventListener('click', runFaithfulness);

// ---------------------------------------------------------------- start-up
async function init() {
  applyOpacity();
  applyOverlay();
  repaintColours();
  fitCanvas();
  redraw();
  window.addEventListener('resize', () => {
    if (fitCanvas()) scheduleFrame();
    drawUnits();
  });
  setStatus('Loading the WebAssembly engine…');
  loadSamples().catch((err) => {
    $('sample').disabled = $('random').disabled = true;
    $('sample-help').textContent = `The test digits could not be loaded (${err.message}); run "node scripts/make_samples.mjs".`;
  });
  await loadBundle();
  await useModel(modelSelect.value);
  markReady(demo.modelName);
}

init().catch((err) => {
  body.dataset.state = 'error';
  showError('Error', err);
  markFailed(err);
});
