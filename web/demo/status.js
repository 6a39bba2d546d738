// The page's status line (#status: what happened last, or the error) and the busy indicator (#busy: an
// explanation has been running for a while, and for how long).
import { $, body, demo } from './state.js';

const statusEl = $('status');

/**
 * Shows `text` in the status line; `kind` 'error' makes it an alert. demo.error is the error the line shows:
 * anything else shown there (a later result, a model loading) clears it.
 */
export function setStatus(text, kind = 'info') {
  if (kind !== 'error') demo.error = null;
  statusEl.textContent = text;
  statusEl.dataset.kind = kind;
  statusEl.classList.toggle('error', kind === 'error');
  statusEl.setAttribute('role', kind === 'error' ? 'alert' : 'status');
}

/** Is the status line showing an error? */
export const statusIsError = () => statusEl.dataset.kind === 'error';

/** Shows an error in the status line and in demo.error. */
export function showError(prefix, err) {
  const msg = err && err.message ? err.message : String(err);
  demo.error = `${prefix}: ${msg}`;
  setStatus(demo.error, 'error');
}

/** Errors nothing else caught are shown too: a page that stops working says why. */
export function reportUncaughtErrors() {
  window.addEventListener('error', (e) => showError('Unexpected error', e.error || e.message));
  window.addEventListener('unhandledrejection', (e) => showError('Unexpected error', e.reason));
}

// ---------------------------------------------------------------- busy indicator
// Shown once an explanation has run for BUSY_AFTER_MS: quicker ones (most, on the bundled models) would only
// make it flicker. The elapsed time is redrawn every BUSY_TICK_MS (at most 10 times a second).
const BUSY_AFTER_MS = 200;
const BUSY_TICK_MS = 100;
const busyEl = $('busy');
const busyText = $('busy-text');
let busySince = 0;
let busyTimer = 0;

function tickBusy() {
  const ms = performance.now() - busySince;
  if (busyEl.hidden && ms < BUSY_AFTER_MS) return;
  busyText.textContent = `Explaining… ${(ms / 1000).toFixed(1)} s`;
  if (busyEl.hidden) {
    busyEl.hidden = false;
    body.dataset.busy = '1';
  }
}

/**
 * An explanation was sent to the worker. One that follows another at once (the newest drawing, after the
 * previous one is painted) restarts the count, but a shown indicator stays: it does not blink between them.
 */
export function busyBegin() {
  busySince = performance.now();
  if (!busyTimer) busyTimer = setInterval(tickBusy, BUSY_TICK_MS);
}

/** No explanation is running any more. */
export function busyEnd() {
  clearInterval(busyTimer);
  busyTimer = 0;
  busyEl.hidden = true;
  delete body.dataset.busy;
}
