// Faithfulness: pixel-flipping curves (MoRF and LeRF) and their AOPC for the method and the comparison method,
// on the current input (the package's evaluate, run in the worker: jobs.js's evaluateMethods).
import { $, demo, state } from '../state.js';
import { evaluateMethods } from '../jobs.js';
import { methodSelect, compareSelect, optionsFor, labelOf } from '../methods.js';
import { currentInput } from '../inputs.js';

const faithChart = $('faith-chart');
const faithReadout = $('faith-readout');
const FAITH_COLOURS = { main: '#d7301f', compare: '#2c62c9' };
let faithRun = null; // the AbortController of the evaluation being computed

async function runFaithfulness(engineMayHaveGrown) {
  const input = currentInput();
  if (!input) {
    faithReadout.textContent = 'Draw a digit or pick one first.';
    return;
  }
  const methods = [{ key: 'main', label: labelOf(methodSelect), options: optionsFor(methodSelect.value) }];
  if (compareSelect.value !== 'off') methods.push({ key: 'compare', label: labelOf(compareSelect), options: optionsFor(compareSelect.value, false) });
  // 2×2 patches on a 28×28 digit (196 patches), 20 steps: about 40 forward passes per method.
  const patchSize = Math.max(1, Math.round(state.info.image.H / 14));
  faithRun?.abort(); // a newer click replaces a run still waiting or computing
  const run = (faithRun = new AbortController());
  faithReadout.textContent = 'Computing…';
  const onProgress = (done, total) => {
    if (faithRun === run) faithReadout.textContent = `Computing… ${Math.floor(done)} of ${total} method${total === 1 ? '' : 's'} done.`;
  };
  try {
    const r = await evaluateMethods(state.model, input.x, methods, { patchSize, steps: 20, signal: run.signal, onProgress });
    drawFaithfulness(methods, r);
    engineMayHaveGrown(state.model);
  } catch (err) {
    if (!run.signal.aborted) faithReadout.textContent = `Could not evaluate: ${err.message}`;
  } finally {
    if (faithRun === run) faithRun = null;
  }
}

function drawFaithfulness(methods, r) {
  const g = faithChart.getContext('2d');
  const W = faithChart.width, H = faithChart.height, pad = 24;
  g.clearRect(0, 0, W, H);
  const all = methods.flatMap(({ key }) => (r.curves[key]?.error ? [] : [...r.curves[key].morf.curve, ...r.curves[key].lerf.curve]));
  if (!all.length) {
    faithReadout.textContent = methods.map(({ label, key }) => `${label}: ${r.curves[key]?.error}`).join(' · ');
    return;
  }
  const lo = Math.min(...all), hi = Math.max(...all), span = hi - lo || 1;
  const steps = r.perturbed.length - 1;
  const px = (k) => pad + ((W - 2 * pad) * r.perturbed[k]) / r.patches;
  const py = (v) => H - pad - ((H - 2 * pad) * (v - lo)) / span;
  g.strokeStyle = '#9aa3b2';
  g.lineWidth = 1;
  g.strokeRect(pad, pad, W - 2 * pad, H - 2 * pad);
  g.fillStyle = '#4b5563';
  g.font = '10px sans-serif';
  g.fillText('patches perturbed →', W / 2 - 40, H - 6);
  g.fillText(hi.toFixed(1), 2, pad + 4);
  g.fillText(lo.toFixed(1), 2, H - pad);
  const lines = [];
  for (const { key, label } of methods) {
    const c = r.curves[key];
    if (c.error) {
      lines.push(`${label}: ${c.error}`);
      continue;
    }
    for (const [order, dash] of [['morf', []], ['lerf', [5, 4]]]) {
      g.strokeStyle = FAITH_COLOURS[key];
      g.setLineDash(dash);
      g.lineWidth = 2;
      g.beginPath();
      c[order].curve.forEach((v, k) => (k ? g.lineTo(px(k), py(v)) : g.moveTo(px(k), py(v))));
      g.stroke();
    }
    lines.push(`${label}: AOPC MoRF ${c.morf.aopc.toFixed(2)}, LeRF ${c.lerf.aopc.toFixed(2)}`);
  }
  g.setLineDash([]);
  faithReadout.textContent = `${lines.join(' · ')} (${steps} steps, ${r.patches} patches).`;
  demo.faithfulness = Object.fromEntries(methods.map(({ key, label }) => [key, { label, ...r.curves[key] }]));
}

/** The button; `engineMayHaveGrown(model)` is called after a run (the engine's memory may have grown). */
export function initFaithfulness({ engineMayHaveGrown }) {
  $('faith-run').addEventListener('click', () => runFaithfulness(engineMayHaveGrown));
}
