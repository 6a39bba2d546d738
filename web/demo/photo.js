// Photo inputs of image models (pure functions, no DOM: runs in the browser and in Node).
//
// A photo reaches a model as torchvision's evaluation transforms prepare it: scaled on its shorter side and
// centre-cropped to the model's H×W, then per-channel normalised, x_c = (v_c − mean_c) / std_c with v in [0, 1].
// (torchvision's ImageNet recipe first resizes the shorter side to 256 and crops 224, a 0.875 zoom; the demo
// scales the shorter side to the crop itself, so the whole of it stays in the picture.)

/**
 * Normalisation presets: ImageNet's per-channel mean/std (what torchvision's pretrained models expect), [0, 1]
 * (no normalisation) and [−1, 1] (mean 0.5, std 0.5).
 */
export const PRESETS = {
  imagenet: { label: 'ImageNet mean/std', mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225] },
  unit: { label: '[0, 1]', mean: [0], std: [1] },
  symmetric: { label: '[−1, 1]', mean: [0.5], std: [0.5] },
};

/** The preset a model starts with: ImageNet's for 3-channel inputs, [0, 1] otherwise. */
export const defaultPreset = (channels) => (channels === 3 ? 'imagenet' : 'unit');

/**
 * Per-channel mean and std of a preset, or of custom values ('custom': `custom.mean` / `custom.std`, one value or
 * one per channel).
 * @returns {{ mean: number[], std: number[] }}
 * @throws {Error} an unknown preset, ImageNet's preset on a model without 3 channels, a wrong number of values,
 *   a std that is not positive
 */
export function normalisation(preset, channels, custom = null) {
  if (preset === 'custom') {
    const mean = spread(custom?.mean, channels, 'mean');
    const std = spread(custom?.std, channels, 'std');
    std.forEach((s) => { if (!(s > 0)) throw new Error(`std must be positive (got ${s})`); });
    return { mean, std };
  }
  const p = PRESETS[preset];
  if (!p) throw new Error(`unknown normalisation preset '${preset}' (known: ${[...Object.keys(PRESETS), 'custom'].join(', ')})`);
  if (preset === 'imagenet' && channels !== 3) throw new Error(`ImageNet's mean/std are for 3 channels (RGB); this model's input has ${channels}`);
  return { mean: spread(p.mean, channels, 'mean'), std: spread(p.std, channels, 'std') };
}

function spread(values, channels, what) {
  if (!Array.isArray(values) || values.length === 0) throw new Error(`${what}: give one value, or one per channel (${channels})`);
  if (values.length === 1) return new Array(channels).fill(values[0]);
  if (values.length !== channels) throw new Error(`${what} has ${values.length} values; give one, or one per channel (${channels})`);
  return [...values];
}

/**
 * Numbers typed by a person: "0.485, 0.456, 0.406" (commas and/or spaces).
 * @throws {Error} naming `what` and the text that is not a finite number
 */
export function parseValues(text, what) {
  const parts = String(text).split(/[\s,;]+/).filter(Boolean);
  if (parts.length === 0) throw new Error(`${what}: no values`);
  return parts.map((part) => {
    const v = Number(part);
    if (Number.isNaN(v)) throw new Error(`${what}: '${part}' is not a number`);
    if (!Number.isFinite(v)) throw new Error(`${what}: '${part}' is too large (beyond float64)`);
    return v;
  });
}

/**
 * The z-box bounds of a normalisation, one per channel: the normalised images of black and white,
 * low_c = (0 − mean_c) / std_c and high_c = (1 − mean_c) / std_c — what Zennit's examples pass to
 * EpsilonGammaBox for ImageNet models (Montavon et al. 2017: z^B rule, bounds of the input domain).
 */
export function boxBounds({ mean, std }) {
  return { low: mean.map((m, c) => (0 - m) / std[c]), high: mean.map((m, c) => (1 - m) / std[c]) };
}

/**
 * The region of a width×height photo that becomes the model's H×W input: the photo is scaled by
 * max(H / height, W / width) (so it covers H×W) and the centre H×W is kept.
 * @returns {{ x: number, y: number, width: number, height: number, scale: number }} in photo pixels
 */
export function centreCrop(width, height, H, W) {
  if (!(width > 0 && height > 0)) throw new Error(`the photo has no pixels (${width}×${height})`);
  const scale = Math.max(H / height, W / width);
  const w = W / scale, h = H / scale;
  return { x: (width - w) / 2, y: (height - h) / 2, width: w, height: h, scale };
}

/**
 * The model input (NCHW floats) from H×W RGBA bytes of the cropped photo: RGB for 3 channels, the luminance
 * (ITU-R 601) for 1; each channel normalised with `norm`.
 */
export function photoInput(rgba, H, W, channels, norm) {
  if (rgba.length !== 4 * H * W) throw new Error(`photoInput: expected ${4 * H * W} RGBA bytes, got ${rgba.length}`);
  if (channels !== 1 && channels !== 3) throw new Error(`photo mode needs a 1- or 3-channel input (this model's has ${channels})`);
  const plane = H * W;
  const out = new Float32Array(channels * plane);
  for (let i = 0; i < plane; i++) {
    const r = rgba[4 * i] / 255, g = rgba[4 * i + 1] / 255, b = rgba[4 * i + 2] / 255;
    if (channels === 1) out[i] = (0.299 * r + 0.587 * g + 0.114 * b - norm.mean[0]) / norm.std[0];
    else {
      out[i] = (r - norm.mean[0]) / norm.std[0];
      out[plane + i] = (g - norm.mean[1]) / norm.std[1];
      out[2 * plane + i] = (b - norm.mean[2]) / norm.std[2];
    }
  }
  return out;
}

/** The mean of each channel of an NCHW input (for the page's readout and the tests). */
export function channelMeans(x, channels) {
  const plane = x.length / channels;
  return Array.from({ length: channels }, (_, c) => {
    let s = 0;
    for (let i = c * plane; i < (c + 1) * plane; i++) s += x[i];
    return s / plane;
  });
}

/** Does the demo show a model in photo mode? Every image input except the bundled MNIST shape, 1×28×28. */
export const isPhotoModel = (image) => !!image && !(image.C === 1 && image.H === 28 && image.W === 28) && (image.C === 1 || image.C === 3);
