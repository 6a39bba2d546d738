// The drawing canvas: strokes (mouse, touch or pen) over an optional background (a picked MNIST test digit or a
// dropped image, set by inputs.js), undo and clear, and the redraw — at most one redraw and one explanation
// request per animation frame while drawing. What the model gets from the canvas is inputs.js's job.
import { SIZE } from './preprocess.js';
import { $, demo } from './state.js';

const STROKE_WIDTH = 0.08; // fraction of the canvas side (≈ 22 px on a 280 px canvas, MNIST-like)

const canvas = $('canvas');
const ctx = canvas.getContext('2d', { willReadFrequently: true });
const hintEl = $('canvas-hint');

/**
 * What is on the canvas (read it, change it through this module's functions).
 * strokes: {x, y}[][] in canvas-relative coordinates (0..1);
 * background: null | { x: Float32Array (28×28), kind: 'sample' | 'image', label: number|null, name: string,
 * bitmap?: ImageBitmap, light?: boolean }
 */
export const drawing = { strokes: [], background: null };
let backgroundCanvas = null; // the background x drawn at 28×28, scaled up when painting
let activePointer = null;
let frameRequest = 0;

// What the rest of the page does when the drawing changes (initDrawing).
const hooks = {
  update: () => 0, // (trigger) → the id of the explanation request it made, or 0
  strokeEnded: () => {}, // (id, t0): the request made at a pointerup, and when the pointerup came
  cleared: () => {}, // Clear was pressed: the inputs forget their choice
};

function paintBackground(bg) {
  backgroundCanvas = null;
  if (!bg) return;
  backgroundCanvas = document.createElement('canvas');
  backgroundCanvas.width = backgroundCanvas.height = SIZE;
  const c = backgroundCanvas.getContext('2d');
  const img = c.createImageData(SIZE, SIZE);
  for (let i = 0; i < SIZE * SIZE; i++) {
    const v = Math.round(Math.min(1, Math.max(0, bg.x[i])) * 255);
    img.data[4 * i] = img.data[4 * i + 1] = img.data[4 * i + 2] = v;
    img.data[4 * i + 3] = 255;
  }
  c.putImageData(img, 0, 0);
}

/** Replaces the drawing with a background and no strokes (the caller redraws: flushFrame). */
export function showBackground(bg) {
  drawing.strokes = [];
  drawing.background = bg;
  paintBackground(bg);
}

/** Sizes the canvas to its CSS size × devicePixelRatio; true if that changed it (then it was redrawn). */
export function fitCanvas() {
  const rect = canvas.getBoundingClientRect();
  const dpr = window.devicePixelRatio || 1;
  const size = Math.max(28, Math.round((rect.width || 280) * dpr));
  if (canvas.width !== size || canvas.height !== size) {
    canvas.width = size;
    canvas.height = size;
    redraw();
    return true;
  }
  return false;
}

export function redraw() {
  const s = canvas.width;
  ctx.fillStyle = '#000';
  ctx.fillRect(0, 0, s, s);
  if (backgroundCanvas) {
    ctx.imageSmoothingEnabled = true;
    ctx.drawImage(backgroundCanvas, 0, 0, s, s);
  }
  ctx.strokeStyle = '#fff';
  ctx.fillStyle = '#fff';
  ctx.lineWidth = STROKE_WIDTH * s;
  ctx.lineCap = 'round';
  ctx.lineJoin = 'round';
  for (const pts of drawing.strokes) {
    if (pts.length === 1) {
      ctx.beginPath();
      ctx.arc(pts[0].x * s, pts[0].y * s, ctx.lineWidth / 2, 0, 2 * Math.PI);
      ctx.fill();
      continue;
    }
    ctx.beginPath();
    ctx.moveTo(pts[0].x * s, pts[0].y * s);
    for (let i = 1; i < pts.length - 1; i++) {
      const mx = ((pts[i].x + pts[i + 1].x) / 2) * s;
      const my = ((pts[i].y + pts[i + 1].y) / 2) * s;
      ctx.quadraticCurveTo(pts[i].x * s, pts[i].y * s, mx, my);
    }
    const last = pts[pts.length - 1];
    ctx.lineTo(last.x * s, last.y * s);
    ctx.stroke();
  }
  hintEl.hidden = drawing.strokes.length > 0 || !!drawing.background;
  $('undo').disabled = drawing.strokes.length === 0;
}

/** The canvas's RGBA pixels (background and strokes as drawn): { rgba, width, height }. */
export function readCanvas() {
  const { width, height } = canvas;
  return { rgba: ctx.getImageData(0, 0, width, height).data, width, height };
}

function pointOf(e) {
  const rect = canvas.getBoundingClientRect();
  return { x: (e.clientX - rect.left) / rect.width, y: (e.clientY - rect.top) / rect.height };
}
function addPoint(pts, p) {
  const q = pts[pts.length - 1];
  if (!q || Math.hypot(p.x - q.x, p.y - q.y) > 0.002) pts.push(p);
}

// At most one redraw + explanation request per animation frame while drawing.
export function scheduleFrame() {
  if (frameRequest) return;
  frameRequest = requestAnimationFrame(() => {
    frameRequest = 0;
    redraw();
    hooks.update('draw');
  });
}

/** Redraws now and asks for an explanation for `trigger`; returns the request's id (0: none). */
export function flushFrame(trigger) {
  if (frameRequest) {
    cancelAnimationFrame(frameRequest);
    frameRequest = 0;
  }
  redraw();
  return hooks.update(trigger);
}

export function undo() {
  if (!drawing.strokes.length) return;
  drawing.strokes.pop();
  flushFrame('undo');
}

/** Removes everything, the background too. */
export function clearAll() {
  activePointer = null;
  showBackground(null);
  hooks.cleared();
  flushFrame('clear');
}

function endStroke(e) {
  if (e.pointerId !== activePointer) return;
  activePointer = null;
  const t0 = performance.now();
  if (e.type === 'pointerup') addPoint(drawing.strokes[drawing.strokes.length - 1], pointOf(e));
  if (canvas.hasPointerCapture?.(e.pointerId)) canvas.releasePointerCapture(e.pointerId);
  const id = flushFrame('pointerup');
  if (id) hooks.strokeEnded(id, t0);
}

/** Listens to the pointer, Undo, Clear and Ctrl+Z; `update`, `strokeEnded`, `cleared`: see hooks above. */
export function initDrawing({ update, strokeEnded, cleared }) {
  Object.assign(hooks, { update, strokeEnded, cleared });
  canvas.addEventListener('pointerdown', (e) => {
    if (activePointer !== null) return;
    if (e.pointerType === 'mouse' && e.button !== 0) return;
    e.preventDefault();
    activePointer = e.pointerId;
    demo.pointerType = e.pointerType;
    try { canvas.setPointerCapture(e.pointerId); } catch { /* synthetic events */ }
    drawing.strokes.push([pointOf(e)]);
    scheduleFrame();
  });
  canvas.addEventListener('pointermove', (e) => {
    if (e.pointerId !== activePointer) return;
    e.preventDefault();
    const pts = drawing.strokes[drawing.strokes.length - 1];
    const events = typeof e.getCoalescedEvents === 'function' ? e.getCoalescedEvents() : [];
    for (const ev of events.length ? events : [e]) addPoint(pts, pointOf(ev));
    scheduleFrame();
  });
  canvas.addEventListener('pointerup', endStroke);
  canvas.addEventListener('pointercancel', endStroke);
  canvas.addEventListener('lostpointercapture', endStroke);
  canvas.addEventListener('contextmenu', (e) => e.preventDefault());
  $('undo').addEventListener('click', undo);
  $('clear').addEventListener('click', clearAll);
  document.addEventListener('keydown', (e) => {
    if ((e.ctrlKey || e.metaKey) && !e.shiftKey && e.key.toLowerCase() === 'z') {
      const t = e.target;
      if (t && (t.tagName === 'INPUT' || t.tagName === 'TEXTAREA' || t.isContentEditable)) return;
      e.preventDefault();
      undo();
    }
  });
}
