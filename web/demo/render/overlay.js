// The heatmap as the main picture: drawn over the photo (or the drawing) at the size it is shown, and PNG downloads.
//
// A relevance map has the model's resolution (e.g. 64×64 or 224×224); it is painted once at that resolution with
// an alpha channel, then scaled onto the overlay canvas with the browser's bilinear smoothing, so each cell covers
// the part of the picture it came from.

/**
 * RGBA bytes of a W×H relevance map for an overlay: the colour of r/maxAbs in `colormap` (a function of v in
 * [−1, 1] → [r, g, b]), opacity growing with |v| (√|v|, so weak but real evidence stays visible) times `opacity`.
 * Zero relevance is transparent: the picture shows through where nothing speaks for or against.
 */
export function overlayPixels(R, W, H, maxAbs, colormap, opacity = 1) {
  const out = new Uint8ClampedArray(4 * W * H);
  for (let i = 0; i < W * H; i++) {
    const r = R[i];
    const v = maxAbs > 0 && Number.isFinite(r) ? Math.max(-1, Math.min(1, r / maxAbs)) : 0;
    const [cr, cg, cb] = colormap(Math.sign(v)); // the colour says the sign, the opacity the magnitude
    out[4 * i] = cr;
    out[4 * i + 1] = cg;
    out[4 * i + 2] = cb;
    out[4 * i + 3] = Math.round(255 * opacity * Math.sqrt(Math.abs(v)));
  }
  return out;
}

/** A W×H canvas holding `rgba` (an OffscreenCanvas where there is one). */
function bitmapCanvas(rgba, W, H) {
  const c = typeof OffscreenCanvas === 'function' ? new OffscreenCanvas(W, H) : Object.assign(document.createElement('canvas'), { width: W, height: H });
  c.getContext('2d').putImageData(new ImageData(rgba, W, H), 0, 0);
  return c;
}

/**
 * Paints the relevance overlay onto `canvas` (cleared first), stretched over `rect` (canvas pixels; default: the
 * whole canvas). `rect` places the model's field over a drawing (preprocess.js fieldRect, scaled to the canvas).
 */
export function paintOverlay(canvas, R, W, H, { maxAbs, colormap, opacity, rect = null }) {
  const ctx = canvas.getContext('2d');
  ctx.clearRect(0, 0, canvas.width, canvas.height);
  const src = bitmapCanvas(overlayPixels(R, W, H, maxAbs, colormap, opacity), W, H);
  ctx.imageSmoothingEnabled = true;
  ctx.imageSmoothingQuality = 'high';
  const r = rect ?? { x: 0, y: 0, width: canvas.width, height: canvas.height };
  ctx.drawImage(src, r.x, r.y, r.width, r.height);
}

/**
 * A copy of `picture` (a canvas: the drawing) with the overlay over it, at the picture's size: the PNG a person
 * downloads over a drawing. (A photo's is composed in the photo worker: photo-worker.js.)
 */
export function composeOverlay(picture, R, W, H, style) {
  const { width, height } = picture;
  const out = Object.assign(document.createElement('canvas'), { width, height });
  const ctx = out.getContext('2d');
  ctx.drawImage(picture, 0, 0);
  const layer = Object.assign(document.createElement('canvas'), { width, height });
  paintOverlay(layer, R, W, H, style);
  ctx.drawImage(layer, 0, 0);
  return out;
}

/** Saves a Blob as a file through a temporary link. */
export function downloadBlob(blob, filename) {
  const a = document.createElement('a');
  a.href = URL.createObjectURL(blob);
  a.download = filename;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(a.href), 10_000);
}

/** Saves a canvas as a PNG file; rejects when the browser cannot encode it. */
export function downloadCanvas(canvas, filename) {
  return new Promise((resolve, reject) => canvas.toBlob((blob) => {
    if (!blob) return reject(new Error('the browser could not encode the PNG'));
    downloadBlob(blob, filename);
    resolve();
  }, 'image/png'));
}
