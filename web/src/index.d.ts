// Type declarations of the lrp-wasm package (hand-written; the implementation is web/src/index.js).

/** An LRP composite, by Zennit's names. */
export type CompositeName =
  | 'epsilon-plus'
  | 'epsilon-plus-flat'
  | 'epsilon-alpha2-beta1'
  | 'epsilon-alpha2-beta1-flat'
  | 'epsilon-gamma-box'
  | 'deep-taylor'
  /** AttnLRP (Achtibat et al., ICML 2024) and CP-LRP (Ali et al. 2022) for transformers: docs/attnlrp.md in the repository. */
  | 'attn-lrp'
  | 'cp-lrp';

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

/** The engine's layer kinds (docs/layers.md). */
export type LayerKind =
  | 'dense' | 'conv' | 'maxpool' | 'avgpool' | 'global-avgpool' | 'global-maxpool'
  | 'relu' | 'sigmoid' | 'tanh' | 'hard-swish' | 'silu' | 'softplus' | 'leaky-relu' | 'clip' | 'hard-sigmoid'
  | 'elu' | 'gelu' | 'prelu' | 'exp' | 'log' | 'sqrt' | 'reciprocal'
  | 'batchnorm' | 'layernorm'
  | 'add' | 'sub' | 'mul' | 'div' | 'matmul'
  | 'reduce-mean' | 'reduce-sum' | 'reduce-max' | 'softmax'
  | 'transpose' | 'reshape' | 'identity' | 'slice' | 'gather' | 'concat' | 'expand' | 'pad'
  | 'embedding' | 'input-constant' | 'where';

/** Numbers accepted as an input or a seed: copied into a Float32Array. */
export type FloatArray = Float32Array | Float64Array | readonly number[];

/**
 * Token ids of a model whose input is int64/int32 (`model.inputType`): each an integer in
 * [0, vocabulary); a Float32Array of integers is accepted too.
 */
export type TokenIds = Int32Array | BigInt64Array | Float32Array | readonly number[];

/** The input of predict/explain: floats, or token ids for a token-id model. */
export type ModelInput = FloatArray | TokenIds;

/** The element type of the model's input: float32, or token ids (int64/int32) feeding an embedding. */
export type InputType = 'float32' | 'int64' | 'int32';

/**
 * z-box bounds (Montavon et al. 2017, Deep Taylor decomposition, eq. for the z^B rule): the lowest and highest value
 * each input of the layer can take. One number for every input; for the model's input (the explain options `low` /
 * `high`, and `rules.first`) of an image model [C, H, W] also one value per channel (length C, spread over the
 * channel's H·W values: e.g. the ImageNet-normalised black and white, (0 − mean_c)/std_c and (1 − mean_c)/std_c, as in
 * Zennit's examples); or one value per input value of the layer (NCHW order). Another length throws an Error
 * naming the lengths allowed ("expected 1, 3 (one per channel) or 150528 (one per input value)"). Rules for other
 * layers (`conv`, `dense`, a layer index) take a number or one value per input of their layer; a token model's bounds
 * are for the layer after its embedding, whose size the engine checks. Values must be numbers (a TypeError names
 * the first that is not).
 */
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
  /**
   * Products of two activations (Mul of two tensors): 'uniform' (default; each factor gets R/2, AttnLRP
   * Prop. 3.2) or 'signal' (all relevance to the operand that is not a gate computed by a Sigmoid or
   * HardSigmoid, as in squeeze-excitation; Arras et al. 2017).
   */
  product?: 'uniform' | 'signal';
  /** Also return every softmax layer's output (attention weights) of the forward pass (default false). */
  attention?: boolean;
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
  /**
   * Multiply-adds and comparisons of this layer's forward pass for one input, as its kernel computes them: dense
   * in·out per token, conv Ho·Wo·Cout·(Cin/groups)·kH·kW, max/average pooling C·(H·Wo·kW + Ho·Wo·kH) (a separable
   * window), matmul M·N·K per matrix, softmax and layernorm 3 per value, reductions 1 per input value, element-wise
   * and re-indexing layers 1 per output value (docs/layers.md).
   */
  operations: number;
}

export interface LayerRelevance extends LayerInfo {
  /** The relevance at the layer's output. */
  relevance: Float32Array;
  /** Σ relevance at the layer's output. */
  sum: number;
  /** What the layer kept when passing relevance on (its bias and stabiliser): sum − Σ relevance it passed. */
  absorbed: number;
}

/**
 * Where the relevance of the output went (with `layerRelevance: true`): `output` = `input` + Σ `absorbed`
 * up to float rounding. LRP is not conservative where operations add constants or renormalise (AttnLRP,
 * Achtibat et al. 2024, Sect. 3; docs/attnlrp.md "Conservation" lists LXT's shares on a ViT).
 */
export interface Conservation {
  /** Σ relevance at the output: f_t(x) for the default seed (a logit). */
  output: number;
  /** Σ relevance at the input (per token for token ids). */
  input: number;
  absorbed: {
    /** Softmax layers (rule 8, AttnLRP Prop. 3.1: R_x = x ⊙ (R − s·ΣR) does not conserve). */
    softmax: number;
    /** LayerNorm: its bias and the ε-rule's stabilizer (rule 7). */
    layerNorm: number;
    /** Constant parts of a Concat: a ViT's class token (rule 6). */
    clsToken: number;
    /** A constant added to an activation (rule 6): positional embeddings, or a bias not folded into its layer. */
    positions: number;
    /** Attention masks (rule 13): added masks' shares, and what `where` (masked_fill) replaced. */
    masks: number;
    /** Dense and conv layers: their biases, and the stabilizers of their rules. */
    biases: number;
    /** Everything else: stabilizers of sums, means and products (≈ 0). */
    other: number;
  };
}

export interface Explanation {
  /**
   * One score per input value. For token ids: one per token, the sum over the embedding dimension of
   * the relevance at the lookup's output.
   */
  relevance: Float32Array;
  /** The input shape ([T] for token ids: the number of tokens explained). */
  shape: number[];
  /** The logits of the input. */
  output: Float32Array;
  /** The explained class. */
  target: number;
  /** With `layerRelevance: true`. */
  layers?: LayerRelevance[];
  /** With `layerRelevance: true`: what the output's relevance became. */
  conservation?: Conservation;
  /**
   * With `attention: true`: every softmax layer's output in the forward pass (a transformer's attention
   * weights, e.g. `[heads, tokens, tokens]` per block; the batch-merged layouts of sequence-first exports
   * keep their size-1 axis), in layer order.
   */
  attention?: AttentionWeights[];
}

export interface AttentionWeights extends LayerInfo {
  /** The softmax output, row-major in `outputShape`; each slice along the softmax axis sums to 1. */
  weights: Float32Array;
}

export interface Model {
  /**
   * The input shape without the batch dimension, e.g. [1, 28, 28]; [T] for token ids. −1 marks a sequence
   * axis the export declares dynamic (as in ONNX Reshape): such a model takes any number of tokens up to
   * its positional table (a longer sequence throws an Error naming the length). The graph is converted
   * for each new length (about as long as loading; at most 2^20 tokens); `layers` then describe the length
   * used last (length 1 before the first call).
   */
  readonly inputShape: number[];
  /** 'float32', or 'int64' / 'int32' when the input is token ids (predict/explain then take TokenIds). */
  readonly inputType: InputType;
  /** The number of outputs (logits). */
  readonly outputSize: number;
  /** The layers in topological order. */
  readonly layers: LayerInfo[];
  /**
   * Bytes this model holds in the engine's memory: its weights in the layouts the kernels read (a convolution
   * keeps two packed copies), index maps of re-indexing layers, cached responses. Throws after dispose().
   */
  readonly memoryBytes: number;
  /**
   * Multiply-adds and comparisons of one forward pass for one input: the sum of the layers' `operations` (exact
   * below 2^53; a hostile graph's count saturates at 2^63 − 1). VGG-16 at 224×224 is about 1.55e10. Throws after
   * dispose().
   */
  readonly operations: number;
  /**
   * The model's learned parameters as exported: the number of values of its floating-point initializers
   * (weights, biases, batch-norm statistics). An export that folds batch-norm into the convolutions counts the
   * folded graph: torchvision's ResNet-18 has 11,684,712 in its ONNX file (PyTorch counts 11,689,512). Readable after
   * dispose().
   */
  readonly parameters: number;
  /**
   * loadModel's `maxOperations` (default 1e11): the most operations one forward pass, or the points of one
   * integrated-gradients or SmoothGrad explanation (steps or samples × `operations`), may take.
   */
  readonly maxOperations: number;
  /**
   * The logits for one input of `inputShape`'s size. Throws an Error saying how much memory the call needs and
   * how much the engine has left when it does not fit (before allocating; the model keeps working).
   * Every method reads its input arrays once (a copy is checked and used) and throws a TypeError saying what it
   * expected for a value of the wrong type, a Proxy around a typed array, or a typed array whose buffer was
   * transferred (detached).
   */
  predict(x: ModelInput): Float32Array;
  /** The logits of several inputs, in as few passes as fit the engine's memory (any number of inputs). */
  predictBatch(inputs: ModelInput[]): Float32Array[];
  /**
   * Explains one input. Before allocating, the engine estimates what the call needs (activations kept for the
   * backward pass, relevance, workspace; for integrated gradients and SmoothGrad also the points, which run in
   * chunks that fit) and throws an Error like "explain (lrp) for a batch of 1 needs 3.1 GB (activations 2.9 GB,
   * relevance 0.1 GB, workspace 0.1 GB) but the engine has 1.4 GB left of its 4.0 GB; dispose() models you no longer
   * need" when it does not fit. After such an Error every model keeps working. Integrated gradients and SmoothGrad
   * run one forward (and backward) pass per point: when `steps` (or `samples`) × `operations` exceeds
   * `maxOperations`, explain throws an Error before any work, saying how many operations the call needs and which
   * option to lower.
   */
  explain(x: ModelInput, options?: ExplainOptions): Explanation;
  /**
   * Explains several inputs (each for its own predicted class unless `target` is given); token inputs of one
   * length. Any number of inputs: they run in chunks that fit the engine's memory (a 32 MB working set, or half
   * of what is left), with the same results as explain() on each input. Throws like explain() when not even one
   * input fits. `layerRelevance` is refused (an Error): use explain() for it. The number of inputs is never
   * refused for its work; each explanation's points are checked against `maxOperations` like explain().
   */
  explainBatch(inputs: ModelInput[], options?: ExplainOptions): Explanation[];
  /**
   * Frees the engine's memory. Idempotent; every later call throws. `model[Symbol.dispose]()` does the same (for
   * `using`; not declared here, so that these types compile without TypeScript's esnext.disposable lib). A model
   * never disposed is freed when the garbage collector collects it, with one console warning per process.
   */
  dispose(): void;
}

/** Options of the engine, which starts with the first loadModel (one engine serves every model). */
export interface EngineOptions {
  /**
   * Threads the engine runs its kernels on (GEMMs, im2col, the dense products), the caller included: an integer
   * from 1 to 64. Default `min(4, cores)`, cores from `navigator.hardwareConcurrency` or
   * `os.availableParallelism()`. `1` loads the single-thread build; more than 1 loads the pthreads build
   * (`dist/lrp-engine-mt.js` and its worker script beside the bundle) where SharedArrayBuffer is usable — Node,
   * and browsers on a cross-origin isolated page (COOP `same-origin` + COEP `require-corp`, as `npm start` serves
   * the demo); elsewhere the single-thread build loads silently (see engineThreads()). Results are bit-identical
   * for every thread count.
   */
  threads?: number;
}

/** Options of configure: the engine's, and where its files are served. */
export interface ConfigureOptions extends EngineOptions {
  /**
   * Where the engine's files are, when not beside the package's bundle (e.g. a CDN): called with each file name —
   * `lrp-engine.wasm` (the single-thread engine), `lrp-engine-mt.js` and `lrp-engine-mt.worker.js` (the pthreads
   * engine) — it returns its URL (a string is resolved against the page; in Node it may be a file path), or
   * null/undefined for the file's usual place. Worker models' engines use the same answers. Like
   * Emscripten's and sql.js's `locateFile` (onnxruntime-web's `env.wasm.wasmPaths`). Used when the engine starts.
   */
  locateFile?: ((file: string) => string | URL | null | undefined) | null;
}

/** What loadModel reads: ONNX bytes (a Node Buffer too), a File or Blob, a Response, a file path (Node) or a URL. */
export type ModelSource = ArrayBuffer | ArrayBufferView | Blob | Response | string | URL;

/** Options of loadModel. */
export interface LoadOptions extends EngineOptions {
  /**
   * Rejects the load with the signal's reason (an AbortError) when aborted before the model is ready. For a
   * worker load that has not started yet, the request is dropped.
   */
  signal?: AbortSignal;
  /**
   * The most work the model may ask for, in multiply-adds and comparisons (Model.operations): a model whose forward
   * pass for one input needs more is refused with an Error naming its costliest node (name, kind, ONNX operator,
   * operations), the total and the limit; integrated gradients and SmoothGrad are refused when their points need
   * more (steps or samples × operations). A positive number, or Infinity for no limit (TypeError for a non-number,
   * RangeError for 0, a negative number or NaN). Default 1e11: over 5× the costliest models of docs/models.md
   * (ViT-B/16 1.76e10, VGG-16 1.55e10 at 224×224; VGG-19 would be 1.96e10), a few seconds of forward pass; it stops a few hundred bytes of ONNX from asking for
   * hours of work.
   */
  maxOperations?: number;
}

/** Options of loadModel with `worker: true`. */
export interface WorkerLoadOptions extends LoadOptions {
  /**
   * Loads the model into a worker (a module Worker in browsers, a `worker_threads` Worker in Node) that runs its
   * own engine: no engine work runs on the calling thread. One worker serves every worker model of the thread;
   * it starts with the first and ends when the last is disposed. `threads` then sets the worker's engine.
   */
  worker: true;
  /**
   * The worker script, when it is not where the package put it: the package's `dist/lrp-worker.js` (or, for the
   * single-file build `lrp-wasm/inline`, `dist/lrp-worker.inline.js`, which imports `lrp-wasm.inline.js` from beside
   * itself) served by your site. Default: beside the package's bundle.
   */
  workerUrl?: string | URL;
}

/**
 * Loads an ONNX model from bytes, a File or Blob (e.g. from an `<input type="file">`), a Response, a file path
 * (Node) or a URL (relative ones against the page). `options.threads` sets the engine's threads when this call
 * starts the engine (the first loadModel); a later call with a different count rejects with an Error (threads are
 * fixed once the engine runs), as does a count that is not an integer from 1 to 64 (a RangeError; a TypeError when
 * it is not a number) or an unknown option. Rejects with an Error naming the problem for unreadable sources, invalid
 * or unsupported ONNX files (each load error names the node, its operator and the problem; IR versions 3 to 10 and
 * ai.onnx opsets 1 to 20 are read, at most 100,000 nodes and 32 axes per tensor) and models that do not fit the
 * engine's memory; with a TypeError for a source of the wrong type, a Proxy, or a detached buffer.
 */
export function loadModel(source: ModelSource, options: WorkerLoadOptions): Promise<WorkerModel>;
export function loadModel(source: ModelSource, options?: LoadOptions & { worker?: false }): Promise<Model>;

/** A request option of a WorkerModel method. */
export interface RequestOptions {
  /**
   * Aborts the request: one that has not started is dropped; one running finishes in the worker and its result
   * is discarded. Either way the Promise rejects at once with the signal's reason (an AbortError).
   */
  signal?: AbortSignal;
}

/**
 * A model in a worker (loadModel with `worker: true`): Model's properties (read when it loaded; `memoryBytes` after
 * its last call) and methods, which return Promises and take an AbortSignal. Requests run one at a time, in the
 * order they were made. Inputs are copied (your arrays stay usable); the results' typed arrays are transferred.
 * Errors reject with the Error, TypeError or RangeError the same call throws on a Model.
 */
export interface WorkerModel {
  /** Always true: tells a WorkerModel from a Model. */
  readonly worker: true;
  readonly inputShape: number[];
  readonly inputType: InputType;
  readonly outputSize: number;
  readonly layers: LayerInfo[];
  readonly memoryBytes: number;
  /** Model.operations, read when it loaded (or after the last call, for a dynamic sequence). */
  readonly operations: number;
  /**
   * The model's learned parameters as exported: the number of values of its floating-point initializers
   * (weights, biases, batch-norm statistics). An export that folds batch-norm into the convolutions counts the
   * folded graph: torchvision's ResNet-18 has 11,684,712 in its ONNX file (PyTorch counts 11,689,512). Readable after
   * dispose().
   */
  readonly parameters: number;
  /** loadModel's maxOperations, checked in the worker. */
  readonly maxOperations: number;
  predict(x: ModelInput, options?: RequestOptions): Promise<Float32Array>;
  predictBatch(inputs: ModelInput[], options?: RequestOptions): Promise<Float32Array[]>;
  explain(x: ModelInput, options?: ExplainOptions & RequestOptions): Promise<Explanation>;
  explainBatch(inputs: ModelInput[], options?: ExplainOptions & RequestOptions): Promise<Explanation[]>;
  /** evaluate() run in the worker (the package's evaluate(model, …) calls this for a WorkerModel). */
  evaluate(inputs: FloatArray[], options?: EvaluateOptions & RequestOptions): Promise<Evaluation>;
  /** The worker's engine: its threads, wasm memory in bytes (memoryBytes) and memory budget. */
  engineStatus(options?: RequestOptions): Promise<EngineMemoryStatus & { threads: number; memoryBytes: number }>;
  /** Frees the model in its worker (the worker ends with its last model). Idempotent; later calls reject. */
  dispose(): void;
}

/**
 * Sets the engine's options before it starts (the first loadModel starts it, even one that then fails on its
 * model); the last call before the start wins. Throws a RangeError for a thread count that is not an integer
 * from 1 to 64, an Error for an unknown option, and an Error if the engine already started (or is starting) with
 * a different thread count. The count asked for at the start and the count that runs are both fine (1 when the
 * single-thread build loaded because SharedArrayBuffer is not usable).
 */
export function configure(options: ConfigureOptions): void;

/**
 * Threads the running engine uses: 1 for the single-thread build (asked for, or no SharedArrayBuffer: a page
 * that is not cross-origin isolated), the configured count for the pthreads build; 0 until the engine has
 * started (the first loadModel starts it in the background while it reads the model, even if the model then
 * fails to load; its promise settles first).
 */
export function engineThreads(): number;

/** Bytes of WebAssembly memory the engine holds (its high-water mark: wasm memory only grows); 0 before the first model. */
export function engineMemoryBytes(): number;

export interface EngineMemoryStatus {
  /** The most the engine may hold: 4 GB (the wasm32 maximum) or setEngineMemoryLimit's cap. */
  limit: number;
  /** What loaded models and running calls hold now (memory freed inside the engine is reused). */
  used: number;
  /** limit − used: what loads and calls may still take before they are refused. */
  available: number;
}

/** The engine's memory budget in bytes. */
export function engineMemoryStatus(): EngineMemoryStatus;

/**
 * Caps the engine's memory (bytes; null or 0: the 4 GB maximum), e.g. for pages on devices that cannot give a
 * tab 4 GB. Loads and calls that would not fit are refused with an Error; batches run in smaller chunks.
 * Throws a TypeError for a value that is not a number, null or undefined (the same as null), a RangeError for a
 * number that is not a whole number of bytes from 0 to 2³² (4 GB). Emscripten keeps the engine's memory one 64 KB
 * page below 2³², so engineMemoryStatus().limit reports 2³² − 65,536 once the engine runs.
 */
export function setEngineMemoryLimit(bytes: number | null): void;

export const composites: readonly CompositeName[];
export const rules: readonly RuleName[];
export const methods: readonly MethodName[];
/** The rules for a product of two activations (explain's `product` option): 'uniform' (each factor R/2) or 'signal'. */
export const productRules: readonly ('uniform' | 'signal')[];

/** The perturbation of `evaluate`: what a perturbed input value becomes. */
export type Perturbation =
  | { type: 'constant'; /** Default 0. */ value?: number }
  /** Independent uniform noise in [low, high) (defaults 0 and 1), seeded per input (default seed 0): reproducible. */
  | { type: 'uniform'; low?: number; high?: number; seed?: number };

export type PerturbationOrder = 'morf' | 'lerf';

export interface EvaluateOptions {
  /** Most relevant first, least relevant first, or both (default 'both'). */
  order?: PerturbationOrder | 'both' | PerturbationOrder[];
  /** Side of the square patches of the input's last two (spatial) dimensions, all channels together (default 1). */
  patchSize?: number;
  /** Number of perturbation steps (default: the number of patches to perturb, at most 50). */
  steps?: number;
  /** Fraction of the patches perturbed after the last step (default 1). */
  fraction?: number;
  /** Default { type: 'constant', value: 0 }. */
  perturbation?: Perturbation;
  /**
   * Options of model.explain that make the relevance (default: model.explain's defaults), or
   * { method: 'random', seed } for the random baseline (uniform random relevance, seeded per input).
   */
  explain?: Omit<ExplainOptions, 'target' | 'layerRelevance'> | { method: 'random'; seed?: number };
  /** The relevance of each input, given by the caller instead of `explain`. */
  relevance?: FloatArray[];
  /** The output whose value is followed: 'predicted' (default, on the unperturbed input), a class, or one per input. Fixed while perturbing. */
  target?: 'predicted' | number | number[];
  /** Called after each batch with the number of inputs done and the total. */
  onProgress?: (done: number, total: number) => void;
  /** At most this many forward passes per model.predictBatch call (default 512). */
  batchSize?: number;
}

export interface PerturbationCurve {
  /** f_target(x^k) for k = 0..steps (k = 0: the unperturbed input). */
  curve: number[];
  /** Mean over k = 0..steps of f(x⁰) − f(x^k). */
  aopc: number;
}

export interface InputEvaluation {
  target: number;
  morf?: PerturbationCurve;
  lerf?: PerturbationCurve;
}

export interface OrderSummary extends PerturbationCurve {
  /** The standard error of the mean AOPC over the inputs. */
  aopcStdErr: number;
}

export interface Evaluation {
  /** One entry per input. */
  inputs: InputEvaluation[];
  /** The mean curve and the mean AOPC over the inputs (present for each order evaluated). */
  morf?: OrderSummary;
  lerf?: OrderSummary;
  patchSize: number;
  /** The number of patches. */
  patches: number;
  steps: number;
  /** The number of patches perturbed after step k, k = 0..steps. */
  perturbed: number[];
}

/**
 * Pixel-flipping (region perturbation) evaluation of explanations with AOPC (Samek et al. 2017):
 * perturbs patches in the order of their summed relevance and follows the target output.
 */
export function evaluate(model: Model | WorkerModel, inputs: FloatArray[], options?: EvaluateOptions): Promise<Evaluation>;

/** The ONNX operator types the importer converts on tensors computed from the input (Erf, Pow: inside GELU/LayerNorm). */
export const supportedOperators: readonly string[];
/** The ONNX operator types evaluated at load time when all their inputs are constants (shape arithmetic, masks, …). */
export const foldedOperators: readonly string[];
