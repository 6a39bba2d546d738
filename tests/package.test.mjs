// The npm package as `npm pack` makes it (issue 11): the built engine and its types, the license and the notices
// of every third-party project bundled into it; `prepack` builds, so a pack from a clean clone has dist/.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const read = (file) => readFileSync(new URL(`../${file}`, import.meta.url), 'utf8');

test('npm pack ships the engine, its types, LICENSE and THIRD_PARTY_NOTICES.md, and nothing of the repository else', () => {
  // --ignore-scripts: dist/ is built already (prepack would build it again).
  const out = execFileSync('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], { cwd: root, encoding: 'utf8' });
  const files = JSON.parse(out)[0].files.map((f) => f.path);
  for (const file of ['dist/lrp-wasm.js', 'dist/lrp-wasm.node.js', 'dist/lrp-wasm.inline.js', 'dist/lrp-engine.wasm',
    'dist/lrp-worker.js', 'dist/lrp-worker.node.js', 'dist/lrp-engine-mt.js', 'dist/lrp-engine-mt.worker.js',
    'dist/lrp-engine-mt.worker.cjs', 'web/src/index.d.ts', 'web/src/inline.d.ts', 'web/models/mnist-cnn.onnx',
    'bin/lrp-wasm.mjs', 'README.md', 'CHANGELOG.md', 'LICENSE', 'THIRD_PARTY_NOTICES.md', 'package.json'])
    assert.ok(files.includes(file), `${file} is not in the package`);
  for (const file of files)
    assert.match(file, /^(dist\/[^/]+\.(js|cjs|wasm)$|bin\/|web\/src\/(index|inline)\.d\.ts$|web\/models\/mnist-cnn\.onnx$|(README|CHANGELOG)\.md$|LICENSE$|THIRD_PARTY_NOTICES\.md$|package\.json$)/, file);
  assert.ok(!files.some((file) => file.endsWith('.map')), 'no source map in the package');
  const pkg = JSON.parse(read('package.json'));
  assert.equal(pkg.scripts.prepack, 'bash scripts/build.sh');
  assert.match(read('LICENSE'), /^MIT License/);
});

test('THIRD_PARTY_NOTICES.md names every package bundled into dist/, and the compiled-in libraries', () => {
  // Every source file scripts/bundle.mjs put into dist/ (esbuild's metafile).
  const inputs = JSON.parse(read('build/bundle-inputs.json'));
  const bundled = new Set(inputs.map((file) => file.match(/^node_modules\/((?:@[^/]+\/)?[^/]+)\//)?.[1]).filter(Boolean));
  assert.ok(bundled.has('protobufjs'), [...bundled].join(', '));
  const notices = read('THIRD_PARTY_NOTICES.md');
  for (const name of bundled) {
    const short = name.replace(/^@protobufjs\//, '');
    assert.ok(notices.includes(name) || (name.startsWith('@protobufjs/') && notices.includes('@protobufjs/*') && notices.includes(short)),
      `${name} is bundled but not in THIRD_PARTY_NOTICES.md`);
  }
  for (const library of ['Eigen', 'Emscripten', 'musl', 'dlmalloc', 'libc++']) assert.ok(notices.includes(library), library);
});
