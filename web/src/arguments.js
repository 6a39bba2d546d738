// Reading the caller's arrays: each is read once, into a copy that the checks and the engine then use. A caller's
// object may change under us (a Proxy whose `length` changes between reads, a buffer detached by a transfer): the
// checks must see exactly the values the engine gets, and a problem must read as what it is, not as an internal
// word of the engine ("vector") or of V8 ("called on incompatible receiver").
import { describe } from './describe.js';

const TypedArray = Object.getPrototypeOf(Int8Array);
const MAX_ARRAY_LENGTH = 2 ** 32 - 1;
// Inputs per batch call: a list longer than this is not a real one (a Proxy claiming a huge length would be read for hours).
const MAX_LIST_LENGTH = 2 ** 24;

/** The longest sequence a token model with a dynamic sequence axis is converted for (2^20). */
export const MAX_TOKENS = 2 ** 20;

/** copyArray's `tooLong` for a dynamic sequence: the Error past MAX_TOKENS ids. */
export function tooManyTokens(what) {
  return (length) => new Error(`${what}: ${length} token ids is more than the ${MAX_TOKENS} a dynamic sequence may have`);
}

/** What a model's input may be, for the TypeError of anything else. */
export function expectedInput(inputType) {
  return inputType === 'float32' ? 'a Float32Array (or a Float64Array or an array of numbers)'
    : `token ids (${inputType}): an Int32Array, a BigInt64Array or an array of integers`;
}

/** Whether `buffer` (ArrayBuffer or SharedArrayBuffer) was detached (transferred to a worker, or by structuredClone). */
export function isDetached(buffer) {
  if (typeof buffer.detached === 'boolean') return buffer.detached;
  // Before ArrayBuffer.prototype.detached (Node < 22): only a detached buffer refuses a view on it.
  if (buffer.byteLength !== 0) return false;
  try {
    new Uint8Array(buffer);
    return false;
  } catch {
    return true;
  }
}

/** A real typed array (not a Proxy or an object that only inherits from TypedArray.prototype). */
function isTypedArray(x) {
  return ArrayBuffer.isView(x) && !(x instanceof DataView);
}

// Whether `x` claims to be a typed array (its prototype chain says so) without being one: a Proxy around a
// typed array, or Object.create(Float32Array.prototype). Their `length` getter throws V8's own TypeError.
function posesAsTypedArray(x) {
  try {
    return x instanceof TypedArray;
  } catch {
    return false;  // a Proxy whose getPrototypeOf trap throws: not a typed array either
  }
}

/**
 * A copy of the caller's array `x`: a typed array of the same type, or a plain Array (of whatever it held).
 * `what` starts every message; `expected` says what was expected (for the TypeError); `maxLength` bounds how many
 * elements are read (a Proxy may claim any length), `tooLong(length)` words the Error past it.
 * @throws {TypeError} for anything that is not a real typed array or Array, or a typed array on a detached buffer
 */
export function copyArray(x, what, { expected, maxLength = MAX_ARRAY_LENGTH, tooLong }) {
  if (isTypedArray(x)) {
    if (isDetached(x.buffer)) {
      throw new TypeError(`${what}: the ${describe(x)}'s ArrayBuffer is detached (it was transferred, e.g. to a worker ` +
        'with postMessage or structuredClone); pass an array whose buffer was not transferred, or a copy made before');
    }
    if (x.length > maxLength) throw tooLong(x.length);
    return TypedArray.prototype.slice.call(x);  // a copy even where a subclass's slice is a view (Node's Buffer)
  }
  if (posesAsTypedArray(x)) {
    throw new TypeError(`${what}: expected ${expected}; got an object that only poses as a ${describe(x)} (a Proxy ` +
      'around one, or an object inheriting from its prototype), whose values cannot be read as a typed array\'s; ' +
      'pass the typed array itself');
  }
  if (!Array.isArray(x)) throw new TypeError(`${what}: expected ${expected} (got ${describe(x)})`);
  // Array.isArray is also true of a Proxy around an Array: its length is read once, then each element once.
  const length = x.length;
  if (!(Number.isSafeInteger(length) && length >= 0)) throw new TypeError(`${what}: the array's length is ${describe(length)}, not a whole number`);
  if (length > maxLength) throw tooLong(length);
  const copy = new Array(length);
  for (let i = 0; i < length; i++) copy[i] = x[i];
  return copy;
}

/**
 * A copy of a list of inputs (predictBatch, explainBatch, evaluate): a real Array whose length is read once.
 * The inputs themselves are copied by the caller's checks.
 */
export function copyList(list, what) {
  const expected = 'a non-empty array of inputs';
  if (!Array.isArray(list)) throw new TypeError(`${what}: expected ${expected} (got ${describe(list)})`);
  const copy = copyArray(list, what, {
    expected,
    maxLength: MAX_LIST_LENGTH,
    tooLong: (length) => new RangeError(`${what}: ${length} inputs is more than the ${MAX_LIST_LENGTH} one call takes`),
  });
  if (copy.length === 0) throw new TypeError(`${what}: expected ${expected} (got an empty array)`);
  return copy;
}

/**
 * Model bytes that cannot be read refuse with what they are: a detached buffer (transferred to a worker), or a
 * Proxy or other object that only inherits from a typed array's or ArrayBuffer's prototype. Other sources
 * (strings, URLs, Blobs, Responses) pass: loadModel reads them.
 * @throws {TypeError}
 */
export function checkBytes(source, what) {
  const expected = 'expected ONNX bytes (ArrayBuffer or Uint8Array), a File, Blob or Response, a file path or a URL';
  const isView = ArrayBuffer.isView(source);
  let claims = posesAsTypedArray(source);
  try {
    claims ||= source instanceof ArrayBuffer;
  } catch { /* a Proxy whose getPrototypeOf trap throws: not bytes either */ }
  const realBuffer = claims && !isView && isArrayBuffer(source);
  if (claims && !isView && !realBuffer)
    throw new TypeError(`${what}: ${expected}; got an object that only poses as ${describe(source)} (a Proxy around one?): pass the bytes themselves`);
  const buffer = isView ? source.buffer : realBuffer ? source : null;
  if (buffer && isDetached(buffer))
    throw new TypeError(`${what}: the ONNX bytes' ArrayBuffer is detached (it was transferred, e.g. to a worker with postMessage); pass bytes whose buffer was not transferred`);
}

// A real ArrayBuffer (its byteLength getter refuses anything else, a Proxy included).
function isArrayBuffer(value) {
  try {
    Reflect.apply(Object.getOwnPropertyDescriptor(ArrayBuffer.prototype, 'byteLength').get, value, []);
    return true;
  } catch {
    return false;
  }
}
