// Photo mode: for a model whose input is an image other than MNIST's 1×28×28 (photo.js isPhotoModel) the page
// explains photos instead of drawings. A photo — a sample, a file chosen or dropped, or one from the camera — is
// scaled on its shorter side and centre-cropped to the model's H×W (torchvision's Resize + CenterCrop), then
// normalised by a preset (ImageNet mean/std, the default for 3 channels; [0, 1]; [−1, 1]; custom per-channel
// values). The z-box bounds of epsilon-gamma-box, deep-taylor and the z-box rule follow the preset: the
// normalised black and white of each channel (photo.js boxBounds), as Zennit's examples pass them.
//
// Decoding, cropping and scaling run in the photo worker (photo-input.js, photo-worker.js), off the main thread;
// the normalisation of the H×W pixels is a loop of a few milliseconds even at 224×224. The engine runs in the
// package's worker as for drawings.
import { $, body, demo, state } from './state.js';
import { setStatus, showError } from './status.js';
import { addInputSource, onFileChosen, dropZone } from './inputs.js';
import { useBoxBounds, describeMethod } from './methods.js';
import { defaultPreset, normalisation, parseValues, boxBounds, photoInput, isPhotoModel } from './photo.js';
import { openPhoto, cropPhoto, drawPhoto, displaySize } from './photo-input.js';
import { clearPicture } from './render/picture.js';

/** Photos offered for every photo model: the shapes model's samples (scripts/train_shapes.py made them). */
const SAMPLE_INDEX = '/models/shapes-photos/index.json';

const photo = {
  loaded: null, // { name, width, height, decodedWidth, decodedHeight }: the photo open in the photo worker
  display: null, // its crop as shown on the page (an ImageBitmap of the displayed size)
  rgba: null, // its H×W centre crop for the current model, RGBA bytes
  crop: null, // the crop's region of the photo, in photo pixels
  x: null, // the model's input: rgba normalised (C·H·W floats)
  pixels: null, // rgba in [0, 1] (C·H·W floats): what the input thumbnail shows
  norm: null, // { mean, std } per channel: the preset's
  version: 0, // the newest photo or model asked for (a slower crop of an older one is dropped)
};
let changed = () => {}; // re-explains (main.js's flushFrame)

addInputSource({
  kind: 'photo',
  mode: 'photo',
  active: () => photo.x !== null,
  // `pixels`: the crop as it looks (in [0, 1], not normalised), for the input thumbnail
  read: () => ({ x: photo.x, name: photo.loaded.name, pixels: photo.pixels }),
}, { first: true });

// z-box bounds follow the preset in photo mode
useBoxBounds(() => (state.mode === 'photo' && photo.norm ? boxBounds(photo.norm) : null));

/** Is the page in photo mode for the model `info`? Sets state.mode and body[data-mode]. */
export function chooseMode(info) {
  state.mode = isPhotoModel(info.image) ? 'photo' : 'draw';
  body.dataset.mode = state.mode;
  demo.mode = state.mode;
  return state.mode;
}

// ---------------------------------------------------------------- normalisation presets
const fmt2 = (values) => `[${values.map((v) => (Math.abs(v) < 1e-9 ? 0 : v).toFixed(3).replace(/\.?0+$/, '')).join(', ')}]`;

/** Reads the preset controls into photo.norm; an invalid custom value is shown and the previous preset kept. */
function readPreset() {
  const { C } = state.info.image;
  const preset = $('preset').value;
  $('preset-custom').hidden = preset !== 'custom';
  const help = $('preset-help');
  try {
    const custom = preset === 'custom' ? { mean: parseValues($('preset-mean').value, 'mean'), std: parseValues($('preset-std').value, 'std') } : null;
    photo.norm = normalisation(preset, C, custom);
  } catch (err) {
    help.textContent = `${err.message} — the previous normalisation is kept.`;
    help.classList.add('error');
    if (preset !== 'custom' && demo.preset) $('preset').value = demo.preset.name; // the menu shows what is used
    return false;
  }
  const { low, high } = boxBounds(photo.norm);
  help.classList.remove('error');
  help.textContent = `x = (pixel − ${fmt2(photo.norm.mean)}) / ${fmt2(photo.norm.std)}, pixel in [0, 1]. ` +
    `The z-box bounds (epsilon-gamma-box, deep-taylor) follow it: low = ${fmt2(low)}, high = ${fmt2(high)}, ` +
    'the normalised black and white.';
  demo.preset = { name: preset, ...photo.norm, low, high };
  return true;
}

/** The preset a model starts with: the one the person chose, if it fits its channels; else ImageNet's (3) or [0, 1]. */
function presetFor(C) {
  const chosen = $('preset').value;
  if ($('preset').dataset.touched && (chosen !== 'imagenet' || C === 3)) return chosen;
  return defaultPreset(C);
}

/** The model's input: the crop normalised by the preset (again when the preset changes). */
function normaliseInput() {
  const { C, H, W } = state.info.image;
  photo.x = photo.rgba ? photoInput(photo.rgba, H, W, C, photo.norm) : null;
}

/** The crop as it looks, in [0, 1] (no preset), for the input thumbnail: once per crop. */
function cropPixels() {
  const { C, H, W } = state.info.image;
  const identity = { mean: new Array(C).fill(0), std: new Array(C).fill(1) };
  return photoInput(photo.rgba, H, W, C, identity);
}

// ---------------------------------------------------------------- the photo
/**
 * Crops and scales the photo for the current model (in the photo worker), shows it, and re-explains (`trigger`).
 * A new photo or model: the heatmap of the old one is taken off at once.
 */
async function preparePhoto(trigger) {
  if (!photo.loaded || state.mode !== 'photo') return;
  const v = ++photo.version;
  const { H, W } = state.info.image;
  markStale();
  const { rgba, crop, display } = await cropPhoto(H, W, displaySize($('photo'), H / W).width);
  if (v !== photo.version || state.mode !== 'photo') return display.close(); // a newer photo or model meanwhile
  photo.display?.close();
  Object.assign(photo, { rgba, crop, display });
  photo.pixels = cropPixels();
  showPhoto();
  normaliseInput();
  changed(trigger);
}

/**
 * The page was resized: the photo is drawn again at its new size (the overlay follows by itself: picture.js). Not
 * a new version: a photo or model being prepared meanwhile wins, and this display is dropped.
 */
async function redrawPhoto() {
  if (state.mode !== 'photo' || !photo.crop) return;
  const v = photo.version;
  const { H, W } = state.info.image;
  const { display } = await cropPhoto(H, W, displaySize($('photo'), H / W).width, { input: false });
  if (v !== photo.version || state.mode !== 'photo') return display.close();
  photo.display?.close();
  photo.display = display;
  showPhoto();
}

/** Until the new photo's result is painted, the old heatmap is not shown over it, and the old result is dimmed. */
function markStale() {
  clearPicture();
  body.dataset.stale = '';
}

/** Draws the photo's crop at the size it is shown, and says what the model sees of it. */
function showPhoto() {
  const { H, W } = state.info.image;
  drawPhoto($('photo'), photo.display, H / W);
  $('photo-hint').hidden = true;
  const { width, height, decodedWidth, decodedHeight, name } = photo.loaded;
  const kept = decodedWidth !== width ? ` (kept at ${decodedWidth}×${decodedHeight})` : '';
  $('photo-caption').textContent = `${name}: ${width}×${height}${kept}, its centre ${photo.crop.width}×${photo.crop.height} ` +
    `scaled to the model's ${W}×${H}.`;
  demo.photo = { name, width, height, crop: { ...photo.crop }, shown: { width: $('photo').width, height: $('photo').height } };
}

// Photos are opened one after another (the worker holds one): a photo chosen while another is opening waits.
let opening = Promise.resolve();

/** A new photo (a File, or the URL of a sample): decoded, then explained. */
export function usePhoto(source, name) {
  const v = ++photo.version;
  opening = opening.then(() => openAndExplain(source, name, v));
  return opening;
}

async function openAndExplain(source, name, v) {
  if (v !== photo.version) return; // another photo was chosen meanwhile
  setStatus(`Reading the photo ${name ?? source.name}…`);
  let loaded;
  try {
    loaded = await openPhoto(source, name);
  } catch (err) {
    showError('Could not use the photo', err); // the worker keeps the last good photo, which stays explained
    return;
  }
  photo.loaded = loaded;
  if (typeof source !== 'string') $('photo-sample').value = '';
  await preparePhoto('photo');
}

// ---------------------------------------------------------------- sample photos
let samples = null; // [{ file, label, width, height }]

async function loadSamples() {
  if (samples) return samples;
  const response = await fetch(SAMPLE_INDEX);
  if (!response.ok) throw new Error(`could not fetch ${SAMPLE_INDEX} (HTTP ${response.status})`);
  samples = await response.json();
  const select = $('photo-sample');
  samples.forEach((s, k) => select.append(new Option(`${s.label} (${s.width}×${s.height}, generated)`, String(k))));
  return samples;
}

function useSample(k) {
  const s = samples?.[k];
  if (!s) return Promise.resolve();
  $('photo-sample').value = String(k);
  return usePhoto(`${SAMPLE_INDEX.replace(/index\.json$/, '')}${s.file}`, s.file);
}

// ---------------------------------------------------------------- a model is chosen
/**
 * The model changed (state.info): in photo mode its preset is chosen and the photo cropped for its H×W — the
 * first sample photo when there is none yet. Resolves when its input is ready (or there is none).
 */
export async function enterPhotoMode() {
  const { C, H, W } = state.info.image;
  $('preset').querySelector('option[value="imagenet"]').disabled = C !== 3; // ImageNet's mean/std are RGB's
  $('preset').value = presetFor(C);
  if (!readPreset()) {
    $('preset').value = defaultPreset(C); // a custom preset with another number of channels
    readPreset();
  }
  describeMethod(); // the low/high inputs give way to the preset's bounds
  photo.x = null;
  photo.rgba = null;
  $('photo-hint').hidden = !!photo.loaded;
  $('photo').style.aspectRatio = `${W} / ${H}`;
  await loadSamples().catch((err) => showError('Sample photos', err));
  if (photo.loaded) await preparePhoto('model');
  else if (samples?.length) await useSample(0);
}

/** Leaving photo mode: the photo stays for the next photo model, its input does not. */
export function leavePhotoMode() {
  photo.version += 1;
  photo.x = null;
  describeMethod();
}

// ---------------------------------------------------------------- controls
/** The photo, sample, camera and preset controls and the photo drop zone; `flush(trigger)` re-explains. */
export function initPhotoMode({ flush }) {
  changed = flush;
  $('photo-sample').addEventListener('change', () => {
    if ($('photo-sample').value !== '') useSample(Number($('photo-sample').value));
  });
  for (const id of ['photo-file', 'photo-camera']) onFileChosen($(id), (file) => usePhoto(file));
  const onPreset = () => {
    $('preset').dataset.touched = '1';
    if (!readPreset() || state.mode !== 'photo') return;
    normaliseInput();
    if (photo.x) changed('preset');
  };
  $('preset').addEventListener('change', onPreset);
  $('preset-mean').addEventListener('change', onPreset);
  $('preset-std').addEventListener('change', onPreset);
  // a model or labels file dropped on the photo goes on to the page's drop handler (inputs.js)
  dropZone($('photo-zone'), (file) => {
    if (/\.(onnx|txt|json)$/i.test(file.name)) return false;
    usePhoto(file);
    return true;
  });
  window.addEventListener('resize', () => {
    redrawPhoto().catch((err) => showError('Photo', err));
  });
}
