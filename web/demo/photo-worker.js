// The demo's photo worker: decodes a photo, cuts the model's input and the displayed picture out of it, and
// composes the picture-resolution PNG — all off the page's main thread (a 24-megapixel photo takes hundreds of
// milliseconds to decode and scale, which on the main thread would freeze the page). One photo at a time.
//
// Messages { id, op, ... } → { id, ok: true, ... } | { id, ok: false, error }:
//   open    { blob, maxSide }            → { width, height, decodedWidth, decodedHeight }
//   crop    { H, W, displayWidth, input } → { rgba (H·W·4 bytes; none when `input` is false), crop (in the photo's
//                                           own pixels), display: ImageBitmap }
//   compose { overlay, W, H }            → { blob: PNG, width, height } (overlay: W×H RGBA bytes over the crop)
import { centreCrop } from './photo.js';

let photo = null; // { bitmap (at most maxSide on its longer side), width, height (the photo's own), scale }
let crop = null; // the last crop, in the photo's own pixels

function canvas(width, height) {
  const c = new OffscreenCanvas(width, height);
  const ctx = c.getContext('2d', { willReadFrequently: true });
  ctx.imageSmoothingEnabled = true;
  ctx.imageSmoothingQuality = 'high';
  return { c, ctx };
}

/** Draws the crop (photo pixels) of the decoded bitmap into a width×height canvas. */
function drawCrop(width, height) {
  const { c, ctx } = canvas(width, height);
  const k = photo.scale; // photo pixels → decoded bitmap pixels
  ctx.drawImage(photo.bitmap, crop.x * k, crop.y * k, crop.width * k, crop.height * k, 0, 0, width, height);
  return { c, ctx };
}

const operations = {
  async open({ blob, maxSide }) {
    const decoded = await createImageBitmap(blob).catch(() => {
      throw new Error('not an image this browser can decode (PNG, JPEG, WebP, GIF, BMP …)');
    });
    photo?.bitmap.close();
    const { width, height } = decoded;
    const scale = Math.min(1, maxSide / Math.max(width, height));
    let bitmap = decoded;
    if (scale < 1) {
      const { c, ctx } = canvas(Math.max(1, Math.round(width * scale)), Math.max(1, Math.round(height * scale)));
      ctx.drawImage(decoded, 0, 0, c.width, c.height);
      decoded.close();
      bitmap = c.transferToImageBitmap();
    }
    photo = { bitmap, width, height, scale };
    crop = null;
    return { width, height, decodedWidth: bitmap.width, decodedHeight: bitmap.height };
  },

  crop({ H, W, displayWidth, input = true }) {
    if (!photo) throw new Error('no photo is open');
    const c = centreCrop(photo.width, photo.height, H, W);
    crop = { x: Math.round(c.x), y: Math.round(c.y), width: Math.max(1, Math.round(c.width)), height: Math.max(1, Math.round(c.height)) };
    const dw = Math.max(1, Math.round(displayWidth));
    const display = drawCrop(dw, Math.max(1, Math.round((dw * H) / W))).c.transferToImageBitmap();
    if (!input) return { result: { crop, display }, transfer: [display] }; // the page was resized: the picture only
    const rgba = drawCrop(W, H).ctx.getImageData(0, 0, W, H).data;
    return { result: { rgba, crop, display }, transfer: [rgba.buffer, display] };
  },

  async compose({ overlay, W, H }) {
    if (!photo || !crop) throw new Error('no photo is open');
    // the crop at its resolution in the decoded photo (the photo's own, up to maxSide)
    const width = Math.max(1, Math.round(crop.width * photo.scale));
    const height = Math.max(1, Math.round(crop.height * photo.scale));
    const { c, ctx } = drawCrop(width, height);
    const layer = canvas(W, H);
    layer.ctx.putImageData(new ImageData(overlay, W, H), 0, 0);
    ctx.drawImage(layer.c, 0, 0, width, height);
    return { result: { blob: await c.convertToBlob({ type: 'image/png' }), width, height } };
  },
};

self.onmessage = async ({ data: { id, op, ...args } }) => {
  try {
    const out = await operations[op](args);
    const { result, transfer = [] } = out.result ? out : { result: out };
    self.postMessage({ id, ok: true, ...result }, transfer);
  } catch (err) {
    self.postMessage({ id, ok: false, error: err?.message ?? String(err) });
  }
};
