// Type declarations of the lrp-wasm package (hand-written; the implementation is web/src/index.js).

/** An LRP composite, by Zennit's names. */
export type CompositeName =
  | 'epsilon-plus'
  | 'epsilon-plus-flat'
  | 'epsilon-alpha2-beta1'
  | 'epsilon-alpha2-beta1-flat'
  | 'epsilon-gamma-box'
  | 'deep-taylor';

/** A single LRP rule. */
export type RuleName =
  | 'epsilon'
  | 'zero'
  | 'z-plus'
  | 'alpha-beta'
  | 'gamma'
  | 'z-box'
  | 'w-square'
  | 'flat'
  | 'pass'
  | 'norm';

export type MethodName = 'lrp' | 'gradient' | 'gradient-x-input' | 'integrated-gradients' | 'smoothgrad';

export type LayerKind =
  | 'dense' | 'conv'
  | 'relu' | 'leaky-relu' | 'clip' | 'sigmoid' | 'tanh'
  | 'batchnorm' | 'maxpool' | 'avgpool' | 'global-avgpool'
  | 'add' | 'concat' | 'pad' | 'reshape' | 'identity';

/** Numbers accepted as an input or a seed: copied into a Float32Array. */
export type FloatArray = Float32Array | Float64Array | readonly number[];

/** z-box bounds: one number for every input, or one value per input of the layer. */
export type Bounds = number | FloatArray;

export interface RuleSpec {
  rule: RuleName;
  /** ε of the epsilon rule (default 1e-6). */
  epsilon?: number;
  /** ε of every other rule (default: the explain option `stabilizer`, 1e-6). */
  stabilizer?: number;
  /** γ of the gamma rule (default 0.25). */
  gamma?: number;
  /** α and β of alpha-beta (default 2 and 1; α − β must be 1). */
  alpha?: number;
  beta?: number;
  /** Bounds of z-box (required for it). */
  low?: Bounds;
  high?: Bounds;
  /** Drop the layer's bias (as the seed article's code does). */
  zeroBias?: boolean;
}

/** Rules by selector: the first dense-or-conv layer, every dense or conv layer, or a layer index. */
export interface RuleMap {
  first?: RuleSpec;
  dense?: RuleSpec;
  conv?: RuleSpec;
  [layerIndex: number]: RuleSpec;
}

export interface ExplainOptions {
  /** 'predicted' (default) or a class index. */
  target?: 'predicted' | number;
  /** Default 'lrp'. */
  method?: MethodName;
  /** Default 'epsilon-plus-flat' unless `rules` is given (then: exactly those rules). */
  composite?: CompositeName;
  /** ε of the epsilon rule (default 1e-6). */
  epsilon?: number;
  /** γ of the gamma rule (default 0.25). */
  gamma?: number;
  /** Bounds of the z-box rule in epsilon-gamma-box and deep-taylor (required there). */
  low?: Bounds;
  high?: Bounds;
  /** ε of every rule other than epsilon (default 1e-6). */
  stabilizer?: number;
  /** Drop every bias in the composite's rules. */
  zeroBias?: boolean;
  /** Rules that override or, without a composite, define the rule of each layer. */
  rules?: RuleMap;
  /** Also return every layer's relevance and the conservation report (method 'lrp'). */
  layerRelevance?: boolean;
  /** The relevance (or gradient) at the outputs instead of the one-hot target, e.g. contrastive. */
  outputRelevance?: FloatArray;
  /** Integrated gradients: number of points k/steps·x, k = 1..steps (default 32). */
  steps?: number;
  /** SmoothGrad: number of noisy samples (default 16). */
  samples?: number;
  /** SmoothGrad: noise σ as a fraction of the input's value range (default 0.1). */
  noiseLevel?: number;
  /** SmoothGrad: seed of the noise (default 0); the same seed gives the same result. */
  seed?: number;
  /**
   * Only what flows through some units of one layer: the relevance (or gradient) at that layer's output
   * is kept at `unit` (or `units`, flat indices into its output) and zeroed elsewhere.
   */
  restrict?: { layer: number; unit?: number; units?: number[] };
}

export interface LayerInfo {
  index: number;
  name: string;
  kind: LayerKind;
  /** Output shape without the batch dimension. */
  outputShape: number[];
}

export interface LayerRelevance extends LayerInfo {
  /** The relevance at the layer's output. */
  relevance: Float32Array;
  /** Σ relevance at the layer's output. */
  sum: number;
  /** What the layer kept when passing relevance on (its bias and stabiliser): sum − Σ relevance it passed. */
  absorbed: number;
}

export interface Explanation {
  /** One score per input value. */
  relevance: Float32Array;
  /** The input shape. */
  shape: number[];
  /** The logits of the input. */
  output: Float32Array;
  /** The explained class. */
  target: number;
  /** With `layerRelevance: true`. */
  layers?: LayerRelevance[];
}

export interface Model {
  /** The input shape without the batch dimension, e.g. [1, 28, 28]. */
  readonly inputShape: number[];
  /** The number of outputs (logits). */
  readonly outputSize: number;
  /** The layers in topological order. */
  readonly layers: LayerInfo[];
  /** The logits for one input of `inputShape`'s size. */
  predict(x: FloatArray): Float32Array;
  /** The logits of several inputs, computed in one pass. */
  predictBatch(inputs: FloatArray[]): Float32Array[];
  /** Explains one input. */
  explain(x: FloatArray, options?: ExplainOptions): Explanation;
  /** Explains several inputs in one pass (each for its own predicted class unless `target` is given). */
  explainBatch(inputs: FloatArray[], options?: ExplainOptions): Explanation[];
  /** Frees the engine's memory. Idempotent; every later call throws. */
  dispose(): void;
}

/** Loads an ONNX model from bytes, a file path (Node) or a URL. */
export function loadModel(source: ArrayBuffer | ArrayBufferView | string | URL): Promise<Model>;

/** Bytes of WebAssembly memory the engine holds (its high-water mark: wasm memory only grows); 0 before the first model. */
export function engineMemoryBytes(): number;

export const composites: readonly CompositeName[];
export const rules: readonly RuleName[];
export const methods: readonly MethodName[];
