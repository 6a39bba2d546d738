// MNIST-style preprocessing of a drawing (pure functions, no DOM: runs in the browser and in Node).
//
// The MNIST recipe (LeCun et al.): the digit's bounding box is scaled to fit a 20×20 box keeping its
// aspect ratio, with anti-aliasing, then placed in a 28×28 field so that its centre of mass sits at
// the centre of the field.
//
// Coordinates are continuous: pixel (x, y) covers [x, x+1) × [y, y+1), so its centre is at
// (x + 0.5, y + 0.5) and the centre of a 28×28 image is (14, 14).

export const SIZE = 28;
export const BOX = 20;

/**
 * Grey values (0..1, white ink on black) from RGBA bytes, e.g. `getImageData(...).data`.
 * Uses the luminance of the colour, weighted by alpha (transparent counts as black).
 * @param {Uint8ClampedArray|Uint8Array} rgba
 * @returns {Float32Array}
 */
export function rgbaToGrey(rgba) {
  const n = rgba.length >> 2;
  const out = new Float32Array(n);
  for (let i = 0, j = 0; i < n; i++, j += 4) {
    const lum = 0.299 * rgba[j] + 0.587 * rgba[j + 1] + 0.114 * rgba[j + 2];
    out[i] = (lum * rgba[j + 3]) / (255 * 255);
  }
  return out;
}

/**
 * Bounding box of the pixels brighter than `threshold`.
 * @returns {{x0:number,y0:number,x1:number,y1:number}|null} x1/y1 exclusive; null when nothing is drawn
 */
export function boundingBox(grey, width, height, threshold = 0) {
  let x0 = width, y0 = height, x1 = -1, y1 = -1;
  for (let y = 0; y < height; y++) {
    const row = y * width;
    for (let x = 0; x < width; x++) {
      if (grey[row + x] > threshold) {
        if (x < x0) x0 = x;
        if (x > x1) x1 = x;
        if (y < y0) y0 = y;
        if (y > y1) y1 = y;
      }
    }
  }
  if (x1 < 0) return null;
  return { x0, y0, x1: x1 + 1, y1: y1 + 1 };
}

/** Copies the box `{x0,y0,x1,y1}` out of a width-wide image. */
export function crop(grey, width, box) {
  const w = box.x1 - box.x0;
  const h = box.y1 - box.y0;
  const out = new Float32Array(w * h);
  for (let y = 0; y < h; y++) {
    const src = (box.y0 + y) * width + box.x0;
    out.set(grey.subarray ? grey.subarray(src, src + w) : grey.slice(src, src + w), y * w);
  }
  return { data: out, width: w, height: h };
}

// 1-D area-averaging weights: output cell k covers input [k·s, (k+1)·s), s = n/m.
function areaWeights(n, m) {
  const scale = n / m;
  const taps = [];
  for (let k = 0; k < m; k++) {
    const a = k * scale;
    const b = (k + 1) * scale;
    const list = [];
    for (let i = Math.floor(a); i < Math.min(n, Math.ceil(b)); i++) {
      const cover = Math.min(b, i + 1) - Math.max(a, i);
      if (cover > 1e-9) list.push(i, cover / scale);
    }
    taps.push(list);
  }
  return taps;
}

/**
 * Resizes with an area-averaging (box) filter: each output pixel is the mean of the input area it
 * covers, with fractional coverage at its edges. Exact for downscaling (anti-aliased); for upscaling
 * it is nearest-neighbour-like with blended borders. Separable: rows first, then columns.
 */
export function resizeArea(src, sw, sh, dw, dh) {
  const wx = areaWeights(sw, dw);
  const wy = areaWeights(sh, dh);
  const tmp = new Float32Array(dw * sh);
  for (let y = 0; y < sh; y++) {
    const row = y * sw;
    for (let x = 0; x < dw; x++) {
      const t = wx[x];
      let acc = 0;
      for (let k = 0; k < t.length; k += 2) acc += src[row + t[k]] * t[k + 1];
      tmp[y * dw + x] = acc;
    }
  }
  const out = new Float32Array(dw * dh);
  for (let y = 0; y < dh; y++) {
    const t = wy[y];
    for (let k = 0; k < t.length; k += 2) {
      const row = t[k] * dw;
      const wgt = t[k + 1];
      for (let x = 0; x < dw; x++) out[y * dw + x] += tmp[row + x] * wgt;
    }
  }
  return out;
}

/**
 * Size of an image that fits a `box`×`box` square keeping the aspect ratio (longer side = box).
 * @returns {{width:number,height:number}}
 */
export function fitSize(width, height, box = BOX) {
  if (width >= height) return { width: box, height: Math.max(1, Math.round((height * box) / width)) };
  return { width: Math.max(1, Math.round((width * box) / height)), height: box };
}

/** Scales an image to fit a box×box square keeping its aspect ratio (area-averaging). */
export function fitToBox(img, box = BOX) {
  const { width, height } = fitSize(img.width, img.height, box);
  return { data: resizeArea(img.data, img.width, img.height, width, height), width, height };
}

/**
 * Centre of mass in continuous coordinates (pixel centres at +0.5); null for an all-zero image.
 * @returns {{x:number,y:number,mass:number}|null}
 */
export function centerOfMass(data, width, height) {
  let m = 0, sx = 0, sy = 0;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const v = data[y * width + x];
      if (v !== 0) {
        m += v;
        sx += v * (x + 0.5);
        sy += v * (y + 0.5);
      }
    }
  }
  if (!(m > 0)) return null;
  return { x: sx / m, y: sy / m, mass: m };
}

/**
 * Where `img` goes in a size×size field so that its centre of mass lands on (size/2, size/2): the offset of its
 * top-left corner (sub-pixel), clamped so the image stays inside the field (then the centre of mass is as close
 * as it can be). null for an all-zero image.
 * @returns {{x:number,y:number}|null}
 */
export function placement(img, size = SIZE) {
  const com = centerOfMass(img.data, img.width, img.height);
  if (!com) return null;
  const clamp = (v, lo, hi) => Math.min(hi, Math.max(lo, v));
  return { x: clamp(size / 2 - com.x, 0, size - img.width), y: clamp(size / 2 - com.y, 0, size - img.height) };
}

/**
 * Pastes `img` into a size×size field at its placement(). The shift is sub-pixel (bilinear splatting, which
 * preserves the mass and moves the centre of mass exactly).
 */
export function placeByCenterOfMass(img, size = SIZE) {
  const out = new Float32Array(size * size);
  const offset = placement(img, size);
  if (!offset) return out;
  const ix = Math.floor(offset.x), fx = offset.x - ix;
  const iy = Math.floor(offset.y), fy = offset.y - iy;
  const w00 = (1 - fx) * (1 - fy), w10 = fx * (1 - fy), w01 = (1 - fx) * fy, w11 = fx * fy;
  const put = (x, y, v) => {
    if (x >= 0 && x < size && y >= 0 && y < size) out[y * size + x] += v;
  };
  for (let y = 0; y < img.height; y++) {
    for (let x = 0; x < img.width; x++) {
      const v = img.data[y * img.width + x];
      if (v === 0) continue;
      const X = x + ix, Y = y + iy;
      put(X, Y, v * w00);
      put(X + 1, Y, v * w10);
      put(X, Y + 1, v * w01);
      put(X + 1, Y + 1, v * w11);
    }
  }
  return out;
}

/**
 * The whole pipeline: grey drawing (0..1, white on black) → Float32Array(784) in [0, 1], or null when
 * nothing is drawn.
 * @param {ArrayLike<number>} grey  width·height grey values in [0, 1]
 * @param {object} [opts]
 * @param {number} [opts.threshold=0.05]  ink threshold for the bounding box (ignores faint noise)
 * @param {boolean} [opts.normalize=true] stretch so the brightest pixel is 1 (faint drawings)
 */
export function preprocess(grey, width, height, opts = {}) {
  return preprocessWithTransform(grey, width, height, opts)?.input ?? null;
}

/**
 * preprocess(), and where the 28×28 field lies over the drawing: the bounding-box crop, the scaling to 20×20 and
 * the centre-of-mass shift are one affine map per axis, field = offset + scale · (drawing − box corner), so a
 * heatmap over the field can be drawn back over the drawing (fieldRect).
 * @returns {{ input: Float32Array, transform: { box: {x0:number,y0:number,x1:number,y1:number}, scaleX: number,
 *   scaleY: number, offsetX: number, offsetY: number } } | null}
 */
export function preprocessWithTransform(grey, width, height, { threshold = 0.05, normalize = true } = {}) {
  if (grey.length !== width * height) {
    throw new Error(`preprocess: expected ${width}×${height} = ${width * height} values, got ${grey.length}`);
  }
  const box = boundingBox(grey, width, height, threshold);
  if (!box) return null;
  const cropped = crop(grey, width, box);
  const fitted = fitToBox(cropped, BOX);
  const offset = placement(fitted, SIZE);
  const out = placeByCenterOfMass(fitted, SIZE);
  let max = 0;
  for (let i = 0; i < out.length; i++) {
    const v = out[i] < 0 ? 0 : out[i];
    out[i] = v;
    if (v > max) max = v;
  }
  if (!(max > 0) || !offset) return null;
  const k = normalize ? 1 / max : max > 1 ? 1 / max : 1;
  if (k !== 1) for (let i = 0; i < out.length; i++) out[i] = Math.min(1, out[i] * k);
  const transform = {
    box, scaleX: fitted.width / cropped.width, scaleY: fitted.height / cropped.height, offsetX: offset.x, offsetY: offset.y,
  };
  return { input: out, transform };
}

/**
 * The size×size field of a preprocessWithTransform() result, in the drawing's pixel coordinates: the rectangle
 * to draw a field-sized heatmap into so that each of its cells covers the part of the drawing it came from.
 * @returns {{x:number,y:number,width:number,height:number}}
 */
export function fieldRect(transform, size = SIZE) {
  const { box, scaleX, scaleY, offsetX, offsetY } = transform;
  return { x: box.x0 - offsetX / scaleX, y: box.y0 - offsetY / scaleY, width: size / scaleX, height: size / scaleY };
}

/**
 * Grey values (0..1) of a photo or scan of a digit, as MNIST has them: white ink on black. The colour
 * is reduced to its luminance (alpha is ignored: draw the image on white first); when the background
 * (the mean of the border pixels) is light, the image is inverted (dark ink on paper → white on
 * black), and the background level is subtracted so that only the ink remains. Feed the result to
 * `preprocess`.
 * @param {Uint8ClampedArray|Uint8Array} rgba  width·height RGBA bytes
 * @returns {{ grey: Float32Array, inverted: boolean, background: number }}
 */
export function imageToGrey(rgba, width, height) {
  const n = width * height;
  if (rgba.length !== 4 * n) throw new Error(`imageToGrey: expected ${4 * n} RGBA bytes, got ${rgba.length}`);
  const grey = new Float32Array(n);
  for (let i = 0; i < n; i++) grey[i] = (0.299 * rgba[4 * i] + 0.587 * rgba[4 * i + 1] + 0.114 * rgba[4 * i + 2]) / 255;
  const borderMean = () => {
    let s = 0, k = 0;
    for (let x = 0; x < width; x++) { s += grey[x] + grey[(height - 1) * width + x]; k += 2; }
    for (let y = 0; y < height; y++) { s += grey[y * width] + grey[y * width + width - 1]; k += 2; }
    return s / k;
  };
  const inverted = borderMean() > 0.5;
  if (inverted) for (let i = 0; i < n; i++) grey[i] = 1 - grey[i];
  const background = Math.min(0.9, borderMean());
  for (let i = 0; i < n; i++) grey[i] = Math.max(0, (grey[i] - background) / (1 - background));
  return { grey, inverted, background };
}
