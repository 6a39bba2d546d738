// The README's runnable example runs as printed in this repository (keeps the README true); tests/package.test.mjs
// runs it where the packed package was installed.
import { test } from 'node:test';
import { writeFileSync, rmSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { checkExampleOutput, readmeExample } from './helpers/readme-example.mjs';

const root = fileURLToPath(new URL('..', import.meta.url));

test('the runnable example of the README prints a prediction for the drawn "1" and conserves relevance', () => {
  const file = `${root}.readme-example-${process.pid}.mjs`;
  writeFileSync(file, readmeExample(`${root}README.md`));
  try {
    checkExampleOutput(execFileSync(process.execPath, [file], { cwd: root, encoding: 'utf8' }));
  } finally {
    rmSync(file, { force: true });
  }
});
