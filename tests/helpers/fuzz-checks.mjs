// What every call on a hostile model or with hostile arguments must do (issue 12): return finite values of
// the right length, or throw an Error whose message names the problem in the user's terms, not one of the
// runtime's or the engine's internal words.

/** Words that only the runtime, the C++ standard library or the wasm machine would say. */
export const INTERNAL_WORDS = [
  'std::', 'bad_alloc', 'vector', 'length_error', 'Maximum call stack', 'RuntimeError', 'unreachable',
  'memory access out of bounds', 'undefined', '[object Object]', 'Cannot read properties',
  // V8's own TypeErrors, raised when a value reaches code that did not expect it (a Proxy, a detached buffer,
  // a BigInt in arithmetic) instead of being refused by name.
  'is not a typed array', 'Cannot perform', 'Cannot convert a BigInt', 'Cannot mix BigInt', 'is not a function',
  'is not iterable', 'Invalid typed array length', 'Array buffer allocation failed', 'Aborted(',
  'incompatible receiver',
];

/** The internal word in `message`, or null. */
export function internalWord(message) {
  // "(got undefined)", "holds undefined at index 3": the API naming the user's own value, not an internal one.
  const ours = message.replace(/(got|holds) undefined/g, '$1 nothing');
  return INTERNAL_WORDS.find((word) => ours.includes(word)) ?? null;
}

/** Problems with a thrown value: not an Error, no message, or an internal word. */
export function errorProblems(error) {
  if (!(error instanceof Error)) return [`threw a non-Error ${typeof error}: ${String(error).slice(0, 200)}`];
  if (typeof error.message !== 'string' || error.message.trim() === '') return [`threw ${error.name} without a message`];
  const word = internalWord(`${error.name}: ${error.message}`);
  return word ? [`threw ${error.name} with the internal word '${word}': ${error.message.slice(0, 300)}`] : [];
}

/** The first non-finite value of `values` as "NaN at index 3", or null. */
function firstNonFinite(values) {
  for (let i = 0; i < values.length; i++) if (!Number.isFinite(values[i])) return `${values[i]} at index ${i}`;
  return null;
}

function arrayProblems(values, length, what) {
  if (!(values instanceof Float32Array || Array.isArray(values))) return [`${what} is ${typeof values}, not an array`];
  const problems = [];
  if (length !== undefined && values.length !== length) problems.push(`${what} has ${values.length} values, expected ${length}`);
  const bad = firstNonFinite(values);
  if (bad) problems.push(`${what} is not finite: ${bad}`);
  return problems;
}

/**
 * Problems with a returned value. `expected`: { logits: outputSize } for predict, { relevance: inputSize }
 * for explain, { batch: count, relevance: inputSize } for explainBatch.
 */
export function resultProblems(result, expected) {
  if (expected.batch !== undefined) {
    if (!Array.isArray(result)) return [`explainBatch returned ${typeof result}, not an array`];
    if (result.length !== expected.batch) return [`explainBatch returned ${result.length} results for ${expected.batch} inputs`];
    for (let i = 0; i < result.length; i++) {
      const problems = arrayProblems(result[i]?.relevance, expected.relevance, `result ${i}'s relevance`);
      if (problems.length > 0) return problems;
    }
    return [];
  }
  if (expected.logits !== undefined) return arrayProblems(result, expected.logits, 'the logits');
  return arrayProblems(result?.relevance, expected.relevance, 'the relevance');
}

/**
 * A message reduced to its kind, for the summary: quoted names, shapes and numbers replaced, cut after the
 * first clause. "ONNX node '/fc/Gemm' (Gemm): input 'x' is not produced…" → "ONNX node '…' (Gemm): input '…' is not produced…".
 */
export function messageClass(error) {
  if (!(error instanceof Error)) return `non-Error ${typeof error}`;
  return `${error.name}: ${error.message}`
    .replace(/'[^']*'/g, "'…'")
    .replace(/\[[^\]]*\]/g, '[…]')
    .replace(/(?<![\w.])-?\d+(\.\d+)?(e[+-]?\d+)?n?/g, 'N')
    .replace(/\s+/g, ' ')
    .slice(0, 90);
}

/** Byte-for-byte equality of two Float32Arrays (NaN payloads and −0 included). */
export function sameBits(a, b) {
  if (!(a instanceof Float32Array && b instanceof Float32Array) || a.length !== b.length) return false;
  const x = new Uint32Array(a.buffer, a.byteOffset, a.length);
  const y = new Uint32Array(b.buffer, b.byteOffset, b.length);
  return x.every((value, i) => value === y[i]);
}
