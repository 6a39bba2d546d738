// Photos in the browser: decoding a chosen, dropped or camera photo, and cutting the model's input out of it
// (photo.js has the arithmetic; this file the canvases). Decoding and resizing use createImageBitmap, which
// browsers run off the main thread, so a 12-megapixel photo does not freeze the page.
import { centreCrop } from './photo.js';

/** Longest side of a photo kept after decoding (a camera's 4000×3000 is scaled down to this, once). */
export const MAX_SIDE = 4096;

/**
 * Decodes a photo (a File, Blob or URL of an image) into an ImageBitmap no larger than MAX_SIDE on its longer side.
 * @returns {Promise<{ bitmap: ImageBitmap, width: number, height: number, name: string }>}
 * @throws {Error} naming the file when the browser cannot decode it as an image
 */
export async function loadPhoto(source, name = source?.name ?? String(source)) {
  let blob = source;
  if (typeof source === 'string') {
    const response = await fetch(source);
    if (!response.ok) throw new Error(`could not fetch the photo ${source} (HTTP ${response.status})`);
    blob = await response.blob();
  }
  let bitmap;
  try {
    bitmap = await createImageBitmap(blob);
  } catch {
    throw new Error(`'${name}' is not an image this browser can decode (PNG, JPEG, WebP, GIF …)`);
  }
  const longer = Math.max(bitmap.width, bitmap.height);
  if (longer > MAX_SIDE) {
    const k = MAX_SIDE / longer;
    const smaller = await createImageBitmap(bitmap, { resizeWidth: Math.round(bitmap.width * k), resizeHeight: Math.round(bitmap.height * k), resizeQuality: 'high' });
    bitmap.close();
    bitmap = smaller;
  }
  return { bitmap, width: bitmap.width, height: bitmap.height, name };
}

/**
 * RGBA bytes of the model's H×W view of a photo: its centre crop (photo.js centreCrop), resized with the browser's
 * high-quality filter.
 * @returns {Promise<{ rgba: Uint8ClampedArray, crop: { x: number, y: number, width: number, height: number } }>}
 */
export async function photoPixels(photo, H, W) {
  const crop = centreCrop(photo.width, photo.height, H, W);
  const sx = Math.round(crop.x), sy = Math.round(crop.y);
  const sw = Math.max(1, Math.round(crop.width)), sh = Math.max(1, Math.round(crop.height));
  const resized = await createImageBitmap(photo.bitmap, sx, sy, sw, sh, { resizeWidth: W, resizeHeight: H, resizeQuality: 'high' });
  const c = new OffscreenCanvas(W, H);
  const ctx = c.getContext('2d', { willReadFrequently: true });
  ctx.drawImage(resized, 0, 0);
  resized.close();
  return { rgba: ctx.getImageData(0, 0, W, H).data, crop: { x: sx, y: sy, width: sw, height: sh } };
}

/** Draws the photo's crop onto `canvas`, sized to its displayed CSS size × devicePixelRatio. */
export function drawPhoto(canvas, photo, crop) {
  const rect = canvas.getBoundingClientRect();
  const dpr = window.devicePixelRatio || 1;
  const width = Math.max(1, Math.round((rect.width || crop.width) * dpr));
  const height = Math.max(1, Math.round(width * (crop.height / crop.width)));
  if (canvas.width !== width || canvas.height !== height) Object.assign(canvas, { width, height });
  const ctx = canvas.getContext('2d');
  ctx.imageSmoothingEnabled = true;
  ctx.imageSmoothingQuality = 'high';
  ctx.drawImage(photo.bitmap, crop.x, crop.y, crop.width, crop.height, 0, 0, width, height);
}
