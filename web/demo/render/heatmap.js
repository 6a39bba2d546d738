// Heatmaps: the colour maps, painting a relevance map (and the input beneath it) on its canvas, the legend, the
// colour / opacity / overlay controls and the PNG download of the main map.
import { $, body, num, demo, state } from '../state.js';
import { setStatus, showError } from '../status.js';
import { fmt } from '../format.js';
import { nameOf } from '../classes.js';
import { downloadCanvas } from './overlay.js';

/** Colour maps: a value in [−1, 1] → [r, g, b] (0..255). */
export const COLORMAPS = {
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

/** The chosen colour map's name ('bwr' or 'coldhot'). */
export const colormapName = () => $('colormap').value;
/** The chosen colour map. */
export const colormap = () => COLORMAPS[colormapName()] ?? COLORMAPS.bwr;

/** Every map of the page: its canvas and the input drawn beneath it (the overlay). */
export const maps = {
  main: { canvas: $('heatmap'), under: $('heatmap-under') },
  compare: { canvas: $('heatmap2'), under: $('heatmap2-under') },
  unit: { canvas: $('heatmap-unit'), under: $('heatmap-unit-under') },
  attention: { canvas: $('attention'), under: $('attention-under') },
  patches: { canvas: $('patch-relevance'), under: $('patch-relevance-under') },
};
const inputCanvas = $('input');

/** Sums relevance over channels into an H×W plane. */
export function plane(relevance) {
  const { C, H, W } = state.info.image;
  if (C === 1) return relevance;
  const out = new Float32Array(H * W);
  for (let ch = 0; ch < C; ch++) for (let i = 0; i < H * W; i++) out[i] += relevance[ch * H * W + i];
  return out;
}

/** The largest magnitude, sum, minimum and maximum of the finite values of R. */
export function stats(R) {
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

export function sizeCanvas(c, W, H) {
  if (c.width !== W || c.height !== H) {
    c.width = W;
    c.height = H;
  }
}

/** Paints the H×W values R scaled by maxAbs (white, or black, at 0) with the chosen colour map. */
export function paintMap(map, R, maxAbs) {
  const { H, W } = state.info.image;
  sizeCanvas(map.canvas, W, H);
  const c = map.canvas.getContext('2d', { willReadFrequently: true });
  const img = c.createImageData(W, H);
  const cm = colormap();
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

export function clearMap(map) {
  map.canvas.getContext('2d').clearRect(0, 0, map.canvas.width, map.canvas.height);
}

/** The model's input as the network sees it, and beneath every map (ink on paper, or faint ink on black). */
export function paintInput(input) {
  const { C, H, W } = state.info.image;
  for (const c of [inputCanvas, ...Object.values(maps).map((m) => m.under)]) sizeCanvas(c, W, H);
  const img = new ImageData(W, H);
  const under = new ImageData(W, H);
  const dark = colormapName() === 'coldhot';
  const clamp = (v) => Math.min(1, Math.max(0, v));
  for (let i = 0; i < W * H; i++) {
    for (let ch = 0; ch < 3; ch++) img.data[4 * i + ch] = Math.round(clamp(input[(C === 3 ? ch : 0) * H * W + i]) * 255);
    // beneath the overlay: a digit is ink on paper for blue–white–red (inverted), faint white ink on black for
    // cold-and-hot; a photo is its grey (its colours, or their complements, would read as relevance colours)
    const v = C === 3 ? (0.299 * img.data[4 * i] + 0.587 * img.data[4 * i + 1] + 0.114 * img.data[4 * i + 2]) / 255 : clamp(input[i]);
    const grey = dark ? Math.round(v * 120) : C === 3 ? Math.round(110 + v * 145) : 255 - Math.round(v * 160);
    under.data[4 * i] = under.data[4 * i + 1] = under.data[4 * i + 2] = grey;
    img.data[4 * i + 3] = under.data[4 * i + 3] = 255;
  }
  inputCanvas.getContext('2d').putImageData(img, 0, 0);
  for (const m of Object.values(maps)) m.under.getContext('2d').putImageData(under, 0, 0);
  $('input-size').textContent = sizeText(state.info.image);
}

const sizeText = (image) => (image ? `${image.W}×${image.H}${image.C > 1 ? `×${image.C}` : ''}` : '');

/** Empties the input and every map, and the main map's labels. */
export function clearHeatmaps() {
  $('heatmap-target').textContent = '';
  $('input-size').textContent = sizeText(state.info?.image); // the chosen model's, before any input
  showLegend(0);
  inputCanvas.getContext('2d').clearRect(0, 0, inputCanvas.width, inputCanvas.height);
  for (const m of Object.values(maps)) {
    clearMap(m);
    m.under.getContext('2d').clearRect(0, 0, m.under.width, m.under.height);
  }
}

/** The legend's ends: ± the largest magnitude, or ±max when there is none. */
export function showLegend(maxAbs) {
  $('legend-min').textContent = maxAbs > 0 ? `−${fmt(maxAbs)}` : '−max';
  $('legend-max').textContent = maxAbs > 0 ? `+${fmt(maxAbs)}` : '+max';
}

// ---------------------------------------------------------------- controls
/** The legend's colours follow the colour map; `recolour()` repaints the last result in it. */
function applyColours(recolour) {
  const cm = colormapName();
  $('legend-bar').style.background = GRADIENT_CSS[cm];
  body.dataset.colormap = cm;
  recolour();
}
function applyOpacity() {
  const v = num('opacity', 72);
  document.documentElement.style.setProperty('--overlay-opacity', String(v / 100));
  $('opacity').setAttribute('aria-valuetext', `${v} %`);
}
function applyOverlay() {
  body.classList.toggle('overlay', $('overlay').checked);
}

/** The main map as a PNG of about 280×280 (crisp pixels), named after the model, method and class. */
function downloadPng() {
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
  downloadCanvas(c, downloadName(demo.lastResult)).catch((err) => showError('Download', err));
}

/**
 * The file name of a download of result `r`: the model, method and explained class, with its name when the classes
 * have names ("lrp-custom-epsilon-gamma-box-class207-golden_retriever-photo.png" for `suffix` '-photo').
 */
export function downloadName(r, suffix = '') {
  const safe = (t) => String(t).replace(/[^a-z0-9-]+/gi, '_').replace(/^_+|_+$/g, '').slice(0, 40);
  const name = nameOf(r.target) ? `-${safe(nameOf(r.target))}` : '';
  return `lrp-${safe(state.name)}-${safe(r.method)}-class${r.target}${name}${suffix}.png`;
}

/** The colour map, opacity, overlay and download controls, applied once now. */
export function initHeatmapControls({ recolour }) {
  $('colormap').addEventListener('change', () => applyColours(recolour));
  $('opacity').addEventListener('input', applyOpacity);
  $('overlay').addEventListener('change', applyOverlay);
  $('download').addEventListener('click', downloadPng);
  applyOpacity();
  applyOverlay();
  applyColours(recolour);
}
