// The heatmap as the main picture: over the photo (photo mode) or over the drawing itself (draw mode), at the size
// the picture is shown; the downloads at the model's resolution (render/heatmap.js) and at the picture's.
//
// Over a drawing, the 28×28 field the model saw is mapped back onto the canvas through the preprocessing's
// bounding-box crop, scaling and centre-of-mass shift (preprocess.js fieldRect, carried by the request as
// `placement`: fractions of the canvas); a test digit or an image shown as it is covers the whole canvas.
import { $, num, demo, state } from '../state.js';
import { setStatus, showError } from '../status.js';
import { colormap, plane, stats, downloadName } from './heatmap.js';
import { paintOverlay, overlayPixels, composeOverlay, downloadCanvas, downloadBlob } from './overlay.js';
import { composePhoto } from '../photo-input.js';

const canvases = { photo: $('photo-heatmap'), draw: $('canvas-heatmap') };
let last = null; // { req, m }: the result painted over the picture (to repaint on resize, colour or opacity change)

/** The job shown over the picture (#overlay-source): the method's, the comparison's, or none. */
function overlayJob(m) {
  const which = $('overlay-source').value;
  if (which === 'off') return null;
  const job = m.results[which] ?? null;
  return job && !job.error ? job : null;
}

/** Sizes an overlay canvas to the CSS size of what it covers × devicePixelRatio. */
function fitOverlay(canvas) {
  const under = canvas.previousElementSibling;
  const rect = under.getBoundingClientRect();
  const dpr = window.devicePixelRatio || 1;
  const width = Math.max(1, Math.round(rect.width * dpr));
  const height = Math.max(1, Math.round(rect.height * dpr));
  if (canvas.width !== width || canvas.height !== height) Object.assign(canvas, { width, height });
}

/** Where the model's field lies over a width×height picture: the request's placement, or all of it. */
function fieldOver(req, width, height) {
  const p = req.placement ?? { x: 0, y: 0, width: 1, height: 1 };
  return { x: p.x * width, y: p.y * height, width: p.width * width, height: p.height * height };
}

// On the page the overlay's opacity is CSS (--overlay-opacity, the slider); a download has it painted in.
const style = (maxAbs, rect = null, opacity = num('opacity', 72) / 100) => ({ maxAbs, colormap: colormap(), opacity, rect });

/** Paints the result `m` of `req` over the picture; returns { width, height } of the overlay (its pixels). */
export function paintPicture(req, m) {
  last = { req, m };
  const canvas = canvases[state.mode] ?? canvases.draw;
  for (const c of Object.values(canvases)) if (c !== canvas) clearCanvas(c);
  fitOverlay(canvas);
  const job = overlayJob(m);
  if (!job) {
    clearCanvas(canvas);
    return null;
  }
  const { H, W } = state.info.image;
  const R = plane(job.relevance);
  paintOverlay(canvas, R, W, H, style(stats(R).maxAbs, fieldOver(req, canvas.width, canvas.height), 1));
  return { width: canvas.width, height: canvas.height, source: $('overlay-source').value };
}

/** The picture changed size or colours: paints the last result again. */
export function repaintPicture() {
  if (last && demo.lastResult) paintPicture(last.req, last.m);
}

function clearCanvas(c) {
  c.getContext('2d').clearRect(0, 0, c.width, c.height);
}

/** Nothing to show over the picture. */
export function clearPicture() {
  last = null;
  for (const c of Object.values(canvases)) clearCanvas(c);
}

/** The heatmap over the picture as a PNG at the picture's resolution (the photo's crop in its own pixels). */
async function downloadPicture() {
  const r = demo.lastResult;
  if (!last || !r) {
    setStatus('Nothing to download yet: choose a photo or draw a digit first.');
    return;
  }
  const job = overlayJob(last.m) ?? last.m.results.main;
  if (!job || job.error) {
    showError('Download', new Error('there is no heatmap to draw over the picture'));
    return;
  }
  const { H, W } = state.info.image;
  const R = plane(job.relevance);
  const s = style(stats(R).maxAbs);
  try {
    if (state.mode === 'photo') {
      // composed in the photo worker: a 4096×4096 crop would take the main thread far over 100 ms
      const png = await composePhoto(overlayPixels(R, W, H, s.maxAbs, s.colormap, s.opacity), W, H);
      demo.pictureDownload = { width: png.width, height: png.height };
      downloadBlob(png.blob, downloadName(r, '-photo'));
    } else {
      const canvas = $('canvas');
      const out = composeOverlay(canvas, R, W, H, { ...s, rect: fieldOver(last.req, canvas.width, canvas.height) });
      demo.pictureDownload = { width: out.width, height: out.height };
      await downloadCanvas(out, downloadName(r, '-drawing'));
    }
  } catch (err) {
    showError('Download', err);
  }
}

/** The overlay-source choice and the picture download; the overlay follows resizes. */
export function initPicture() {
  $('overlay-source').addEventListener('change', repaintPicture);
  $('download-photo').addEventListener('click', downloadPicture);
  window.addEventListener('resize', repaintPicture);
}
