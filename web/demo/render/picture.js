// The heatmap as the main picture: over the photo (photo mode) or over the drawing itself (draw mode), at the size
// the picture is shown; the downloads at the model's resolution (render/heatmap.js) and at the picture's.
//
// Over a drawing, the 28×28 field the model saw is mapped back onto the canvas through the preprocessing's
// bounding-box crop, scaling and centre-of-mass shift (preprocess.js fieldRect, carried by the request as
// `placement`: fractions of the canvas); a test digit or an image shown as it is covers the whole canvas.
import { $, num, demo, state } from '../state.js';
import { setStatus, showError } from '../status.js';
import { colormap, plane, stats } from './heatmap.js';
import { paintOverlay, overlayPixels, composeOverlay, downloadCanvas, downloadBlob } from './overlay.js';
import { composePhoto } from '../photo-input.js';
import { classLabel } from '../classes.js';

const canvases = { photo: $('photo-heatmap'), draw: $('canvas-heatmap') };
let last = null; // { req, m }: the result painted over the picture (to repaint on resize, colour or opacity change)
let picture = null; // () => 'photo' when the picture is a photo (its PNG is composed in the photo worker), else null

/** Photo mode says when the picture is its photo (photo-mode.js). */
export function setPictureSource(fn) {
  picture = fn;
}

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
  const p = req.placement ?? { x: 0, y: 0, width: 1, height: 1 };
  const rect = { x: p.x * canvas.width, y: p.y * canvas.height, width: p.width * canvas.width, height: p.height * canvas.height };
  paintOverlay(canvas, R, W, H, style(stats(R).maxAbs, rect, 1));
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

/** The file name of a download: the model, method and explained class ("…-class207-golden_retriever"). */
function fileName(r, suffix) {
  const safe = (t) => String(t).replace(/[^a-z0-9-]+/gi, '_').replace(/^_+|_+$/g, '').slice(0, 40);
  const name = classLabel(r.target) !== String(r.target) ? `-${safe(classLabel(r.target))}` : '';
  return `lrp-${safe(state.name)}-${safe(r.method)}-class${r.target}${name}${suffix}.png`;
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
  if (picture?.() === 'photo') {
    // composed in the photo worker: a 4096×4096 crop would take the main thread far over 100 ms
    try {
      const png = await composePhoto(overlayPixels(R, W, H, s.maxAbs, s.colormap, s.opacity), W, H);
      demo.pictureDownload = { width: png.width, height: png.height };
      downloadBlob(png.blob, fileName(r, '-photo'));
    } catch (err) {
      showError('Download', err);
    }
    return;
  }
  const canvas = $('canvas');
  const p = last.req.placement ?? { x: 0, y: 0, width: 1, height: 1 };
  const rect = { x: p.x * canvas.width, y: p.y * canvas.height, width: p.width * canvas.width, height: p.height * canvas.height };
  const out = composeOverlay(canvas, null, canvas.width, canvas.height, R, W, H, { ...s, rect });
  demo.pictureDownload = { width: out.width, height: out.height };
  downloadCanvas(out, fileName(r, '-drawing'));
}

/** The overlay-source choice and the picture download; the overlay follows resizes. */
export function initPicture() {
  $('overlay-source').addEventListener('change', repaintPicture);
  $('download-photo').addEventListener('click', downloadPicture);
  window.addEventListener('resize', repaintPicture);
}
