// A CommonJS consumer (type-checked by tests/package.test.mjs): the package is an ES module, loaded with import().
export async function outputs(path: string): Promise<number> {
  const { loadModel } = await import('lrp-wasm');
  const model = await loadModel(path);
  const size: number = model.outputSize;
  model.dispose();
  return size;
}
