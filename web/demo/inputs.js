// What the model gets: the drawing (strokes over an optional background), an MNIST test digit (the samples
// file), or a dropped or chosen image file — each a "source" of the model's input. currentInput() asks the
// sources in order and the first that is active gives the input.
//
// With no strokes, a background is the input itself (a test digit exactly as in the test set; an image as
// converted to MNIST's grey); with strokes, the canvas (background + strokes) is preprocessed like MNIST. Undo
// removes the last stroke, Clear removes everything, the background too.
//
// A photo model's input is one more source, in photo mode (photo-mode.js): addInputSource(source, { first: true }).
import { preprocess, preprocessWithTransform, fieldRect, rgbaToGrey, imageToGrey, resizeArea, SIZE } from './preprocess.js';
import { $, demo, state } from './state.js';
import { showError } from './status.js';
import { drawing, showBackground, readCanvas, flushFrame, clearAll } from './drawing.js';

const SAMPLES_URL = '/models/mnist-samples.bin';

// ---------------------------------------------------------------- sources
/**
 * @typedef {object} InputSource
 * @property {string} kind what it is ('drawing', 'sample', 'image', …); read() may say more precisely
 * @property {'draw'|'photo'} [mode] the page's mode it serves (default 'draw')
 * @property {() => boolean} active cheap: does it hold an input now?
 * @property {(image: {C:number,H:number,W:number}) => null | {x: Float32Array, kind?: string, name: string, pixels?: Float32Array,
 *   placement?: {x:number,y:number,width:number,height:number}}} read
 *   the model's input (C·H·W values), what it is for people, and where the model's field lies over the picture
 *   (fractions of it; default: all of it); null when there is nothing to explain
 * @property {() => void} [clear] forgets its input (Clear was pressed)
 */
/** @type {InputSource[]} */
const sources = [];

/** Adds a source of the model's input: last (the default) or, with `first`, before every other. */
export function addInputSource(source, { first = false } = {}) {
  if (first) sources.unshift(source);
  else sources.push(source);
}

// A source serves one mode of the page (InputSource.mode: 'draw', the default, or 'photo'; state.mode says which
// is on): a drawing left on the canvas is not a photo model's input, nor a photo an MNIST model's.
const usable = (s) => (s.mode ?? 'draw') === (state.mode ?? 'draw') && s.active();

/** Cheap: is there anything to explain? */
export const hasInput = () => sources.some(usable);

/**
 * The input the page explains: { x: the model's input, kind, name }, or null when there is none (nothing
 * drawn, or a model whose input is not an image).
 */
export function currentInput() {
  const image = state.info?.image;
  if (!image) return null;
  const source = sources.find(usable);
  const input = source?.read(image);
  return input ? { kind: source.kind, ...input } : null;
}

/** Clear was pressed: every source forgets its input. */
export function forgetInputs() {
  $('sample').value = '';
  for (const s of sources) s.clear?.();
}

/** The model input for a 28×28 digit: resized to H×W and repeated over the C channels. */
export function modelInput(digit, { C, H, W }) {
  const plane = H === SIZE && W === SIZE ? digit : resizeArea(digit, SIZE, SIZE, W, H);
  const out = new Float32Array(C * H * W);
  for (let ch = 0; ch < C; ch++) out.set(plane, ch * H * W);
  return out;
}

// Strokes on the canvas (over the background, if any): the canvas preprocessed like MNIST.
addInputSource({
  kind: 'drawing',
  active: () => drawing.strokes.length > 0,
  read(image) {
    const { rgba, width, height } = readCanvas();
    const digit = preprocessWithTransform(rgbaToGrey(rgba), width, height);
    if (!digit) return null;
    // the 28×28 field over the canvas: where the heatmap goes when it is drawn over the drawing
    const r = fieldRect(digit.transform);
    const placement = { x: r.x / width, y: r.y / height, width: r.width / width, height: r.height / height };
    return { x: modelInput(digit.input, image), name: 'your drawing', placement };
  },
});

// A test digit or an image file with no strokes over it: the background itself.
addInputSource({
  kind: 'background',
  active: () => drawing.background !== null && drawing.strokes.length === 0,
  read(image) {
    const bg = drawing.background;
    return { x: modelInput(bg.x, image), kind: bg.kind, name: bg.name };
  },
});

// ---------------------------------------------------------------- MNIST test digits
let samples = null; // { n, labels: Uint8Array, images: Uint8Array (N·784), index: Uint16Array }

/** Reads the test digits (scripts/make_samples.mjs wrote them) and lists them by label in #sample. */
export async function loadSamples() {
  const resp = await fetch(SAMPLES_URL);
  if (!resp.ok) throw new Error(`HTTP ${resp.status}`);
  const buf = new Uint8Array(await resp.arrayBuffer());
  const n = buf[0] | (buf[1] << 8);
  if (buf.length !== 2 + n + n * 784 + 2 * n) throw new Error(`${SAMPLES_URL}: ${buf.length} bytes, expected ${2 + n * 787} for ${n} digits`);
  const idx = new Uint16Array(n);
  const off = 2 + n + n * 784;
  for (let k = 0; k < n; k++) idx[k] = buf[off + 2 * k] | (buf[off + 2 * k + 1] << 8);
  samples = { n, labels: buf.subarray(2, 2 + n), images: buf.subarray(2 + n, 2 + n + n * 784), index: idx };
  demo.samples = { count: n, labels: Array.from(samples.labels) };
  const select = $('sample');
  const groups = [];
  for (let c = 0; c < 10; c++) {
    const g = document.createElement('optgroup');
    g.label = `Digit ${c}`;
    groups.push(g);
  }
  for (let k = 0; k < n; k++) {
    groups[samples.labels[k]]?.append(new Option(`a ${samples.labels[k]} (test #${idx[k]})`, String(k)));
  }
  select.append(...groups.filter((g) => g.children.length));
}

function pickSample(k) {
  if (!samples || !(k >= 0 && k < samples.n)) return;
  const x = new Float32Array(784);
  for (let i = 0; i < 784; i++) x[i] = samples.images[k * 784 + i] / 255;
  showBackground({ x, kind: 'sample', label: samples.labels[k], name: `test digit #${samples.index[k]} (label ${samples.labels[k]})` });
  $('sample').value = String(k);
  flushFrame('sample');
}

// ---------------------------------------------------------------- image files
async function loadImageFile(file) {
  if (!file) return;
  let bitmap;
  try {
    bitmap = await createImageBitmap(file);
  } catch (err) {
    showError(`Could not read the image "${file.name}"`, new Error('not an image this browser can decode'));
    return;
  }
  const scale = Math.min(1, 280 / Math.max(bitmap.width, bitmap.height));
  const w = Math.max(1, Math.round(bitmap.width * scale));
  const h = Math.max(1, Math.round(bitmap.height * scale));
  const c = document.createElement('canvas');
  c.width = w;
  c.height = h;
  const cx = c.getContext('2d', { willReadFrequently: true });
  cx.fillStyle = '#fff'; // transparent pixels count as paper
  cx.fillRect(0, 0, w, h);
  cx.drawImage(bitmap, 0, 0, w, h);
  // MNIST is white ink on black: luminance, inverted when the background is light, background removed
  const { grey, inverted: light } = imageToGrey(cx.getImageData(0, 0, w, h).data, w, h);
  const x = preprocess(grey, w, h);
  if (!x) {
    showError(`The image "${file.name}"`, new Error('has no visible digit (it is blank after converting to grey)'));
    return;
  }
  showBackground({ x, kind: 'image', label: null, name: `image ${file.name}`, bitmap, light });
  $('sample').value = '';
  flushFrame('image');
}

/** Calls `use(file)` with each file chosen in the file input `input` (cleared, so the same file can be chosen again). */
export function onFileChosen(input, use) {
  input.addEventListener('change', () => {
    const file = input.files[0];
    input.value = '';
    if (file) use(file);
  });
}

/**
 * Makes `zone` a drop target that outlines itself while a file is dragged over it; `take(file)` is offered a file
 * dropped on it and says whether it used it (otherwise the drop goes on to the page's handler).
 */
export function dropZone(zone, take) {
  zone.addEventListener('dragover', (e) => {
    e.preventDefault();
    zone.classList.add('dragging');
  });
  zone.addEventListener('dragleave', () => zone.classList.remove('dragging'));
  zone.addEventListener('drop', (e) => {
    zone.classList.remove('dragging');
    const file = [...(e.dataTransfer?.files ?? [])][0];
    if (!file || !take(file)) return;
    e.preventDefault();
    e.stopPropagation();
  });
}

/**
 * Listens to the test-digit choice, the image file input and files dropped on the page: an .onnx file is a model
 * (`modelFile(file)`), a .txt or .json file class names (`labelsFile(file)`), an image a photo in photo mode
 * (`photoFile(file)`) and a digit to convert otherwise.
 */
export function initInputs({ modelFile, labelsFile, photoFile }) {
  $('sample').addEventListener('change', () => {
    if ($('sample').value === '') clearAll();
    else pickSample(Number($('sample').value));
  });
  $('random').addEventListener('click', () => {
    if (samples) pickSample(Math.floor(Math.random() * samples.n));
  });
  onFileChosen($('image-file'), loadImageFile);
  dropZone($('drop-zone'), (file) => {
    loadImageFile(file); // whatever is dropped on the canvas is an image
    return true;
  });
  // a file dropped anywhere else must not navigate away from the page: it is taken as what its name says
  document.addEventListener('dragover', (e) => e.preventDefault());
  document.addEventListener('drop', (e) => {
    e.preventDefault();
    const file = [...(e.dataTransfer?.files ?? [])][0];
    if (!file) return;
    if (/\.onnx$/i.test(file.name)) modelFile(file);
    else if (/\.(txt|json)$/i.test(file.name)) labelsFile(file);
    else if (state.mode === 'photo') photoFile(file);
    else loadImageFile(file);
  });
}
