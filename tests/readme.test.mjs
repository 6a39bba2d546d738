// The README's runnable example runs as printed (keeps the README true).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync, rmSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));

test('the runnable example of the README prints a prediction for the drawn "1"', () => {
  const readme = readFileSync(`${root}README.md`, 'utf8');
  const section = readme.slice(readme.indexOf('A runnable example'));
  const code = section.match(/```js\n([\s\S]*?)```/)[1];
  const file = `${root}.readme-example-${process.pid}.mjs`;
  writeFileSync(file, code);
  try {
    const output = execFileSync(process.execPath, [file], { cwd: root, encoding: 'utf8' });
    assert.match(output, /^predicted 1 \(logit \d+\.\d\d\), total relevance -?\d+\.\d\d$/m);
    assert.match(output, /most relevant pixel: \d+/);
  } finally {
    rmSync(file, { force: true });
  }
});
