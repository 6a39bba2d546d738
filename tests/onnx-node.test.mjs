// The ONNX project's own operator tests (Debian package libonnx-testdata) through lrp-wasm's forward pass:
// one subtest per ONNX test case of the operators in READY. The scan, the applicability rules and the
// baking live in tests/helpers/onnx-node.mjs; `node tests/helpers/onnx-node.mjs [filter]` prints the
// report over every target operator (issue 8), READY or not.

// Every operator the package converts (its `supportedOperators`, with the harness's issue-8 target list)
// is checked: each applicable ONNX node test of it must pass. The harness prints which tests are out of
// scope and why (node:test lists them as skipped with the reason).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  TOLERANCE, operatorList, runTest, scanTests, testdataAvailable, testdataMissingMessage,
} from './helpers/onnx-node.mjs';

if (!testdataAvailable()) {
  test('ONNX node tests are installed', () => {
    assert.fail(testdataMissingMessage());
  });
} else {
  const { operators, source, unclaimed } = await operatorList();
  const { tests } = scanTests({ operators });

  test('the package lists its operators, and every target operator is among them', () => {
    assert.equal(source, 'package', 'lrp-wasm should export supportedOperators');
    assert.deepEqual(unclaimed, [], `target operators the package does not convert: ${unclaimed.join(', ')}`);
    assert.ok(tests.filter((t) => t.applicable).length >= 150, 'the ONNX node tests of the supported operators');
  });

  // Out-of-scope tests (the definition: input 0 not a float batch, operations along the batch,
  // 3-D conv/pool, training mode, a graph that is only a trailing Softmax, …) are listed with the reason.
  test('out-of-scope ONNX node tests, with the reason for each', (t) => {
    const outOfScope = tests.filter((c) => !c.applicable);
    const byReason = new Map();
    for (const c of outOfScope) byReason.set(c.reason, [...(byReason.get(c.reason) ?? []), c.name]);
    for (const [reason, names] of byReason) t.diagnostic(`${names.length} out of scope: ${reason}: ${names.join(', ')}`);
    assert.ok(outOfScope.every((c) => typeof c.reason === 'string' && c.reason.length > 0));
  });

  for (const t of tests.filter((c) => c.applicable)) {
    const title = `${t.name} [${t.operator}${t.expanded ? ', expanded' : ''}]`;
    test(title, async () => {
      const result = await runTest(t);
      assert.ok(result.pass, `${result.message} (tolerance ${TOLERANCE.absolute} + ${TOLERANCE.relative}·|expected|)`);
    });
  }
}
