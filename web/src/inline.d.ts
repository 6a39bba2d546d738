// Type declarations of `lrp-wasm/inline`: the single-file build (the engine's wasm embedded), with the same API.
export * from './index.js';
