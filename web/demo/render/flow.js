// The relevance flow: Σ R per layer and what each absorbed (LRP methods), the relevance of a chosen layer's units
// (bars; a transformer's tokens on the patch grid), and the choice of a unit to restrict the explanation to.
import { $, demo, state } from '../state.js';
import { showError } from '../status.js';
import { transformerView } from '../transformer.js';
import { fmt } from '../format.js';
import { colormap } from './heatmap.js';

const flowChart = $('flow-chart');
const unitsCanvas = $('units');
let lastLayers = null; // the last result's layers, with their relevance
let unitChoice = null; // { layer, unit, restrict, label } chosen in the units view
let changed = () => {}; // re-explains after the unit choice changed (initFlow)

/** The unit chosen to restrict the explanation to: { layer, unit, restrict (explain's option), label }, or null. */
export const chosenUnit = () => unitChoice;

/** Σ R per layer (LRP methods), from the output down to the input, and the chosen layer's units. */
export function renderFlow(layers, inputSum, isLrp) {
  lastLayers = layers;
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

export function drawUnits() {
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
  const cm = colormap();
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
  changed('unit');
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

/** Empties the flow (no result). */
export function clearFlow() {
  flowChart.textContent = '';
  lastLayers = null;
  drawUnits();
}

/** A new model: its layers to choose from, no unit chosen, no result yet. */
export function resetFlow() {
  unitChoice = null;
  $('unit').value = '';
  lastLayers = null;
  fillFlowLayers();
}

/** The units view's controls; `changed(trigger)` re-explains after the unit choice changed. */
export function initFlow({ changed: onChange }) {
  changed = onChange;
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
    changed('unit');
  });
}
