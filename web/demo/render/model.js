// The model summary (#model-summary and its list of layers) and the footer's description of the model.
import { $, state } from '../state.js';
import { formatBytes, formatCount } from '../format.js';

const plural = (n, word) => `${n} ${word}${n === 1 ? '' : 's'}`;

/**
 * "label · input 1×28×28 · 10 outputs · 10 layers · 269 k operations per pass · 267 k parameters · engine memory
 * 16.0 MB (1.2 MB in use) · 2 engine threads": the layers the engine runs, the multiply-adds and comparisons of one
 * forward pass (model.operations), the parameters (only when the model has the number: model.parameters), and the
 * worker's engine (its wasm memory, and what of it loaded models and running calls hold).
 */
export function modelSummary(label, model, info, engine) {
  const parts = [label, `input ${info.inputShape.join('×')}`, plural(info.outputSize, 'output'), plural(info.layers.length, 'layer')];
  if (Number.isFinite(model.operations)) parts.push(`${formatCount(model.operations)} operations per pass`);
  if (Number.isFinite(model.parameters)) parts.push(`${formatCount(model.parameters)} parameters`);
  if (engine?.memoryBytes) {
    // the wasm memory only grows; what loaded models and running calls hold of it now is `used`
    const used = engine.used > 0 ? ` (${formatBytes(engine.used)} in use)` : '';
    parts.push(`engine memory ${formatBytes(engine.memoryBytes)}${used}`);
  }
  if (engine?.threads) parts.push(plural(engine.threads, 'engine thread'));
  return parts.join(' · ');
}

/** Shows the chosen model: `label` (its name for people), `description` (for the footer). */
export function describeModel(label, description) {
  const { model, info, engine } = state;
  $('model-summary').textContent = modelSummary(label, model, info, engine);
  const ol = $('model-layers');
  ol.textContent = '';
  for (const l of info.layers) {
    const li = document.createElement('li');
    li.textContent = `${l.kind} ${l.outputShape.join('×')} (${l.name})`;
    ol.append(li);
  }
  $('model-description').textContent = description;
}
