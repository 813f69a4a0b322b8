// The workflow-side SHA-256 gives node:crypto's digests, at block boundaries and for non-ASCII text.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { test } from 'node:test';
import { canonicalJson, sha256Hex } from '../../src/common/sha256';

test('sha256Hex equals node:crypto for empty, boundary-length and UTF-8 inputs', () => {
  const inputs = ['', 'abc', 'a'.repeat(55), 'a'.repeat(56), 'a'.repeat(64), 'a'.repeat(1000), 'cp1 – Ready ✓'];
  for (const s of inputs)
    assert.equal(sha256Hex(s), createHash('sha256').update(s, 'utf8').digest('hex'), `length ${s.length}`);
});

test('canonicalJson sorts keys at every level and drops undefined, so equal data hashes equal', () => {
  assert.equal(
    canonicalJson({ b: 1, a: { d: [2, { z: 1, y: undefined, x: 0 }], c: 'x' } }),
    '{"a":{"c":"x","d":[2,{"x":0,"z":1}]},"b":1}',
  );
  assert.notEqual(canonicalJson({ a: [1, 2] }), canonicalJson({ a: [2, 1] }), 'order inside arrays is data');
});
