// Both engine builds embed their wasm as a data: URL (SINGLE_FILE). Emscripten 3.1.6 first fetch()es that URL and
// decodes it itself only when the fetch fails; under a Content-Security-Policy whose connect-src does not list
// data: (e.g. "default-src 'self'") the fetch is blocked and reported as a violation. This module-scoped fetch
// refuses data: URLs at once, so the engine decodes its embedded binary directly; other URLs go to the real fetch.
var fetch = function (url, options) {
  return String(url).startsWith('data:') ? Promise.reject(new Error('the embedded wasm is decoded, not fetched'))
    : globalThis.fetch(url, options);
};
