// Photos in the browser, main-thread side: the photo worker (photo-worker.js) decodes them, cuts the model's H×W
// input and the displayed picture out of them and composes the picture-resolution PNG, so none of that work runs
// on the page's thread. SVG, which createImageBitmap does not decode, is rasterised here first (an <img>).

/** Longest side a photo is kept at after decoding (a 6000×4000 photo is scaled to 4096×2731, once). */
export const MAX_SIDE = 4096;
const SVG_SIDE = 2048; // an SVG has no pixels of its own: rasterised at this size on its longer side

let worker = null;
let seq = 0;
const waiting = new Map(); // request id → { resolve, reject }

function call(op, args = {}, transfer = []) {
  worker ??= startWorker();
  const id = ++seq;
  return new Promise((resolve, reject) => {
    waiting.set(id, { resolve, reject });
    worker.postMessage({ id, op, ...args }, transfer);
  });
}

function startWorker() {
  const w = new Worker(new URL('./photo-worker.js', import.meta.url), { type: 'module' });
  w.onmessage = ({ data }) => {
    const pending = waiting.get(data.id);
    if (!pending) return;
    waiting.delete(data.id);
    if (data.ok) pending.resolve(data);
    else pending.reject(new Error(data.error));
  };
  w.onerror = (event) => {
    const error = new Error(`the photo worker failed: ${event.message || 'it could not start'}`);
    for (const p of waiting.values()) p.reject(error);
    waiting.clear();
  };
  return w;
}

/** An SVG file as a PNG Blob: drawn by an <img> at SVG_SIDE on its longer side. */
async function rasteriseSvg(blob) {
  const url = URL.createObjectURL(blob);
  try {
    const img = new Image();
    img.src = url;
    await img.decode();
    const w0 = img.naturalWidth || SVG_SIDE, h0 = img.naturalHeight || SVG_SIDE;
    const k = SVG_SIDE / Math.max(w0, h0);
    const c = Object.assign(document.createElement('canvas'), { width: Math.round(w0 * k), height: Math.round(h0 * k) });
    c.getContext('2d').drawImage(img, 0, 0, c.width, c.height);
    return await new Promise((resolve) => c.toBlob(resolve, 'image/png'));
  } finally {
    URL.revokeObjectURL(url);
  }
}

/**
 * Opens a photo (a File or Blob, or the URL of one) in the photo worker: the current photo from then on.
 * @returns {Promise<{ name: string, width: number, height: number, decodedWidth: number, decodedHeight: number }>}
 *   its own size and the size it is kept at (at most MAX_SIDE on the longer side)
 * @throws {Error} naming the file when the browser cannot decode it as an image
 */
export async function openPhoto(source, name = source?.name ?? String(source)) {
  let blob = source;
  if (typeof source === 'string') {
    const response = await fetch(source);
    if (!response.ok) throw new Error(`could not fetch the photo ${source} (HTTP ${response.status})`);
    blob = await response.blob();
  }
  if (blob.type === 'image/svg+xml' || /\.svg$/i.test(name)) {
    blob = await rasteriseSvg(blob).catch(() => {
      throw new Error(`'${name}' is not an SVG image this browser can draw`);
    });
  }
  try {
    const opened = await call('open', { blob, maxSide: MAX_SIDE });
    return { name, width: opened.width, height: opened.height, decodedWidth: opened.decodedWidth, decodedHeight: opened.decodedHeight };
  } catch (err) {
    throw new Error(/^not an image/.test(err.message) ? `'${name}' is ${err.message}` : `could not open '${name}': ${err.message}`);
  }
}

/**
 * The model's view of the open photo: its centre crop (photo.js centreCrop) scaled to H×W, as RGBA bytes, and
 * the same crop `displayWidth` pixels wide for the page (an ImageBitmap); with `input: false` the latter only.
 * @returns {Promise<{ rgba?: Uint8ClampedArray, crop: { x, y, width, height }, display: ImageBitmap }>}
 */
export async function cropPhoto(H, W, displayWidth, { input = true } = {}) {
  const { rgba, crop, display } = await call('crop', { H, W, displayWidth, input });
  return { rgba, crop, display };
}

/**
 * The crop at its own resolution (at most MAX_SIDE) with the W×H overlay `rgba` (render/overlay.js overlayPixels)
 * drawn over it: a PNG Blob.
 * @returns {Promise<{ blob: Blob, width: number, height: number }>}
 */
export async function composePhoto(rgba, W, H) {
  const { blob, width, height } = await call('compose', { overlay: rgba, W, H });
  return { blob, width, height };
}

/** Sizes `canvas` to its CSS width × devicePixelRatio (height: `aspect` = H/W) and draws `bitmap` over it. */
export function drawPhoto(canvas, bitmap, aspect) {
  const { width, height } = displaySize(canvas, aspect);
  if (canvas.width !== width || canvas.height !== height) Object.assign(canvas, { width, height });
  const ctx = canvas.getContext('2d');
  ctx.imageSmoothingEnabled = true;
  ctx.imageSmoothingQuality = 'high';
  ctx.drawImage(bitmap, 0, 0, width, height);
}

/** The pixel size a canvas is shown at: its CSS width × devicePixelRatio, and `aspect` (H/W) of that high. */
export function displaySize(canvas, aspect) {
  const rect = canvas.getBoundingClientRect();
  const width = Math.max(1, Math.round((rect.width || 448) * (window.devicePixelRatio || 1)));
  return { width, height: Math.max(1, Math.round(width * aspect)) };
}
