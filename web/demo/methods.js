// What the page asks the model for: the explanation methods (LRP composites, single rules with their
// parameters, gradient methods), the options of model.explain each one stands for, their help text, and the
// target (the predicted class, a class, or "why A and not B").
import { $, num } from './state.js';

export const DEFAULT_METHOD = 'epsilon-plus';

export const COMPOSITES = {
  'epsilon-plus': 'LRP: z⁺ on conv layers, ε on dense layers.',
  'epsilon-plus-flat': 'LRP: flat rule on the first layer, z⁺ on conv layers, ε on dense layers.',
  'epsilon-alpha2-beta1': 'LRP: α2β1 on conv layers, ε on dense layers.',
  'epsilon-alpha2-beta1-flat': 'LRP: flat rule on the first layer, α2β1 on conv layers, ε on dense layers.',
  'deep-taylor': 'Deep Taylor: z-box [low, high] on the first layer, z⁺ everywhere else.',
  'epsilon-gamma-box': 'LRP: z-box [low, high] on the first conv layer, γ on conv layers, ε on dense layers.',
};
// AttnLRP's composites: offered for models with the layers they have rules for (softmax, LayerNorm,
// products of activations); on an MLP or a CNN they would be plain ε everywhere.
export const TRANSFORMER_COMPOSITES = {
  'attn-lrp': 'AttnLRP: ε on linear maps; softmax, LayerNorm and the attention products by their own rules.',
  'cp-lrp': 'CP-LRP: AttnLRP with the attention weights held constant (nothing flows through queries and keys).',
};
/** Layer kinds that make a model a transformer (AttnLRP's composites are offered for it). */
export const TRANSFORMER_KINDS = new Set(['softmax', 'layernorm', 'matmul']);
export const RULES = {
  epsilon: 'ε rule on every dense and conv layer.',
  zero: 'LRP-0 (ε = 0) on every dense and conv layer.',
  'z-plus': 'z⁺ rule on every dense and conv layer.',
  'alpha-beta': 'α/β rule (α − β = 1) on every dense and conv layer.',
  gamma: 'γ rule on every dense and conv layer.',
  'z-box': 'z-box [low, high] on every dense and conv layer.',
  'w-square': 'w² rule on every dense and conv layer.',
  flat: 'flat rule on every dense and conv layer.',
};
export const GRADIENTS = {
  gradient: ['gradient', 'Plain gradient ∂f/∂x: sensitivity, not a decomposition.'],
  'gradient-x-input': ['gradient × input', 'Gradient × input: x ⊙ ∂f/∂x.'],
  'integrated-gradients': ['integrated gradients', 'Integrated gradients from a black baseline (steps).'],
  smoothgrad: ['SmoothGrad', 'SmoothGrad: the gradient averaged over noisy copies (samples, noise, seed).'],
};

export const methodSelect = $('method');
export const compareSelect = $('compare');

export function fillMethodSelect(select, { withOff = false, withRules = true, transformer = false } = {}) {
  const old = select.value;
  select.textContent = '';
  const group = (label, entries) => {
    const g = document.createElement('optgroup');
    g.label = label;
    for (const [value, text] of entries) g.append(new Option(text, value));
    select.append(g);
  };
  if (withOff) select.append(new Option('(nothing)', 'off'));
  if (transformer) group('LRP for transformers', Object.keys(TRANSFORMER_COMPOSITES).map((k) => [k, k]));
  group('LRP composites', Object.keys(COMPOSITES).map((k) => [k, k]));
  if (withRules) group('LRP, one rule everywhere', Object.keys(RULES).map((k) => [`rule:${k}`, `${k} rule`]));
  group('Gradient methods', Object.entries(GRADIENTS).map(([k, [t]]) => [k, t]));
  // the old choice if it is still offered, else none (selectedIndex −1): the caller picks one
  select.value = [...select.options].some((o) => o.value === old) ? old : '';
}

// z-box bounds that follow something else than the low/high inputs: in photo mode, the normalisation preset
// (photo-mode.js: the normalised black and white of each channel). null: the inputs say.
let presetBounds = () => null;
/** `bounds()` → { low: number[], high: number[] } per channel, or null when the low/high inputs apply. */
export function useBoxBounds(bounds) {
  presetBounds = bounds;
}

/** Options of model.explain for a method value; `params` reads the parameter inputs (or defaults). */
export function optionsFor(value, params = true) {
  const p = (id, dflt) => (params ? num(id, dflt) : dflt);
  const box = presetBounds() ?? { low: p('low', 0), high: p('high', 1) };
  if (COMPOSITES[value] || TRANSFORMER_COMPOSITES[value]) {
    const o = { composite: value };
    if (value === 'deep-taylor' || value === 'epsilon-gamma-box') Object.assign(o, box);
    if (value === 'epsilon-gamma-box') o.gamma = p('gamma', 0.25);
    return o;
  }
  if (value.startsWith('rule:')) {
    const rule = value.slice(5);
    const spec = { rule };
    if (rule === 'epsilon') spec.epsilon = p('epsilon', 0.1);
    if (rule === 'gamma') spec.gamma = p('gamma', 0.25);
    if (rule === 'alpha-beta') {
      spec.alpha = p('alpha', 2);
      spec.beta = spec.alpha - 1; // α − β = 1, enforced here and in the inputs
    }
    if (rule === 'z-box') Object.assign(spec, box);
    const rules = { dense: spec, conv: spec };
    const first = params ? $('first-rule').value : '';
    if (first) {
      rules.first = { rule: first };
      if (first === 'z-box') Object.assign(rules.first, box);
      if (first === 'epsilon') rules.first.epsilon = p('epsilon', 0.1);
    }
    return { rules };
  }
  if (GRADIENTS[value]) {
    const o = { method: value };
    if (value === 'integrated-gradients') o.steps = Math.round(p('steps', 32));
    if (value === 'smoothgrad') {
      o.samples = Math.round(p('samples', 16));
      o.noiseLevel = p('noise', 0.1);
      o.seed = Math.round(p('seed', 0));
    }
    return o;
  }
  return { composite: value }; // unknown: let the engine name the problem
}

/** The parameter groups (#params .param[data-param]) the method value uses. */
export function paramsShown(value) {
  const shown = new Set();
  if (value === 'deep-taylor' || value === 'epsilon-gamma-box') shown.add('box');
  if (value === 'epsilon-gamma-box' || value === 'rule:gamma') shown.add('gamma');
  if (value === 'rule:epsilon') shown.add('epsilon');
  if (value === 'rule:alpha-beta') shown.add('alpha');
  if (value === 'rule:z-box') shown.add('box');
  if (value.startsWith('rule:')) {
    shown.add('first');
    if ($('first-rule').value === 'z-box') shown.add('box');
    if ($('first-rule').value === 'epsilon') shown.add('epsilon');
  }
  if (value === 'integrated-gradients') shown.add('steps');
  if (value === 'smoothgrad') shown.add('smooth');
  if (shown.has('box') && presetBounds()) shown.delete('box'); // the preset sets them (shown beside it)
  return shown;
}

export const helpOf = (value) =>
  COMPOSITES[value] ?? TRANSFORMER_COMPOSITES[value] ?? (value.startsWith('rule:') ? `LRP: ${RULES[value.slice(5)] ?? ''}` : GRADIENTS[value]?.[1]) ?? '';
/** The chosen option's text, for people. */
export const labelOf = (select) => select.selectedOptions[0]?.textContent.trim() ?? select.value;

/** The method's help text and only the parameters it uses. */
export function describeMethod() {
  $('method-help').textContent = helpOf(methodSelect.value);
  const shown = paramsShown(methodSelect.value);
  for (const el of document.querySelectorAll('#params .param')) el.hidden = !shown.has(el.dataset.param);
  $('params').hidden = shown.size === 0;
}

/**
 * The methods a model can use (AttnLRP's composites for a transformer); `start`, the method the model starts on
 * (the ViT: attn-lrp), is chosen if it is offered; otherwise the current method is kept if it still is.
 */
export function offerMethods({ transformer, start }) {
  fillMethodSelect(methodSelect, { transformer });
  fillMethodSelect(compareSelect, { withOff: true, withRules: false, transformer });
  if (start && [...methodSelect.options].some((o) => o.value === start)) methodSelect.value = start;
  else if (!methodSelect.value) methodSelect.value = DEFAULT_METHOD; // its method is not offered here
  if (!compareSelect.value) compareSelect.value = 'gradient';
  describeMethod();
}

// ---------------------------------------------------------------- target
/** What to explain: { kind: 'predicted' } | { kind: 'class', a } | { kind: 'contrast', a, b } (jobs.js). */
export function targetSpec() {
  const kind = $('target-kind').value;
  const a = Number($('target-a').value);
  const b = Number($('target-b').value);
  if (kind === 'class') return { kind, a };
  if (kind === 'contrast') return { kind, a, b };
  return { kind: 'predicted' };
}

export function describeTarget() {
  const kind = $('target-kind').value;
  document.querySelector('[data-target="a"]').hidden = kind === 'predicted';
  document.querySelector('[data-target="b"]').hidden = kind !== 'contrast';
}

/**
 * The classes A and B can be, for a model of `n` outputs (the old choices kept where they still exist), listed by
 * name ("207 · golden retriever") when the model's classes have names (`nameOf(k)`: its name, or null).
 */
export function fillTargets(n, nameOf = () => null) {
  for (const id of ['target-a', 'target-b']) {
    const sel = $(id);
    const old = sel.value;
    sel.textContent = '';
    for (let k = 0; k < n; k++) {
      const name = nameOf(k);
      sel.append(new Option(name ? `${k} · ${name}` : String(k), String(k)));
    }
    sel.value = old !== '' && Number(old) < n ? old : String(id === 'target-a' ? Math.min(3, n - 1) : Math.min(8, n - 1));
  }
}

// ---------------------------------------------------------------- controls
/** The method, comparison, parameter and target controls; `changed(trigger)` re-explains after a change. */
export function initMethodControls(changed) {
  fillMethodSelect(methodSelect);
  fillMethodSelect(compareSelect, { withOff: true, withRules: false });
  methodSelect.value = DEFAULT_METHOD;
  compareSelect.value = 'gradient';
  methodSelect.addEventListener('change', () => {
    describeMethod();
    changed('method');
  });
  compareSelect.addEventListener('change', () => changed('compare'));
  $('first-rule').addEventListener('change', () => {
    describeMethod();
    changed('param');
  });
  // α − β = 1: each of the two follows the other
  $('alpha').addEventListener('input', () => {
    const a = Math.max(1, num('alpha', 2));
    $('beta').value = String(+(a - 1).toFixed(6));
  });
  $('beta').addEventListener('input', () => {
    const b = Math.max(0, num('beta', 1));
    $('alpha').value = String(+(b + 1).toFixed(6));
  });
  for (const id of ['alpha', 'beta']) {
    $(id).addEventListener('change', () => {
      if (num('alpha', 2) < 1) { $('alpha').value = '1'; $('beta').value = '0'; }
      changed('param');
    });
  }
  for (const id of ['epsilon', 'gamma', 'low', 'high', 'steps', 'samples', 'noise', 'seed']) {
    $(id).addEventListener('change', () => changed('param'));
  }
  $('target-kind').addEventListener('change', () => {
    describeTarget();
    changed('target');
  });
  $('target-a').addEventListener('change', () => changed('target'));
  $('target-b').addEventListener('change', () => changed('target'));
  describeMethod();
  describeTarget();
}
