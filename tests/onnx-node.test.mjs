// The ONNX project's own operator tests (Debian package libonnx-testdata) through lrp-wasm's forward pass:
// one subtest per ONNX test case of the operators in READY. The scan, the applicability rules and the
// baking live in tests/helpers/onnx-node.mjs; `node tests/helpers/onnx-node.mjs [filter]` prints the
// report over every target operator (issue 8), READY or not.

// READY: the ONNX operators whose applicable node tests all pass today. `npm test` runs exactly these;
// every one of their applicable tests must pass. When you land an operator (or fix one), run
// `node tests/helpers/onnx-node.mjs <OpType>`, and once its row says "all pass", add it here.
// Not yet (at a5fe725): MatMul (matmul_4d: N-D input), MaxPool (1-D; storage_order=1),
// AveragePool (1-D), Softmax/LogSoftmax (only the _expanded tests apply: ReduceMax, Exp, Log) and every
// operator new in issue 8.
export const READY = Object.freeze([
  'Gemm', 'Conv', 'GlobalAveragePool', 'BatchNormalization', 'Add', 'Sub', 'Pad', 'Relu', 'LeakyRelu',
  'Clip', 'Sigmoid', 'Tanh', 'Flatten', 'Reshape', 'Identity', 'Dropout',
]);

import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  OPERATOR_TARGETS, TOLERANCE, operatorList, runTest, scanTests, testdataAvailable, testdataMissingMessage,
} from './helpers/onnx-node.mjs';

if (!testdataAvailable()) {
  test('ONNX node tests are installed', () => {
    assert.fail(testdataMissingMessage());
  });
} else {
  const { tests } = scanTests({ operators: READY });

  test('READY lists target operators, each with at least one applicable test', async () => {
    const { operators, source } = await operatorList();
    for (const op of READY) {
      assert.ok(OPERATOR_TARGETS.includes(op), `${op} is not in the harness's target list`);
      if (source === 'package') assert.ok(operators.includes(op), `${op} is READY but the package's supportedOperators does not list it`);
      assert.ok(tests.some((t) => t.operator === op && t.applicable), `${op} has no applicable ONNX node test: READY would check nothing`);
    }
  });

  for (const t of tests) {
    const title = `${t.name} [${t.operator}${t.expanded ? ', expanded' : ''}]`;
    if (!t.applicable) {
      // Reported, not silently dropped: node:test lists these as skipped with the reason.
      test(title, { skip: `out of scope: ${t.reason}` }, () => {});
      continue;
    }
    test(title, async () => {
      const result = await runTest(t);
      assert.ok(result.pass, `${result.message} (tolerance ${TOLERANCE.absolute} + ${TOLERANCE.relative}·|expected|)`);
    });
  }
}
