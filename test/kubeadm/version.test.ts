import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  MIN_SUPPORTED,
  atLeast,
  configApiVersion,
  parseKubeVersion,
  supportedVersionProblem,
} from '../../src/kubeadm/version';

test('parseKubeVersion accepts v-prefixed and bare versions', () => {
  assert.deepEqual(parseKubeVersion('v1.31.4'), { major: 1, minor: 31, patch: 4, raw: 'v1.31.4' });
  assert.deepEqual(parseKubeVersion('1.13.0'), { major: 1, minor: 13, patch: 0, raw: '1.13.0' });
  assert.equal(parseKubeVersion(' v1.30.0-rc.1 ').minor, 30);
});

test('parseKubeVersion rejects other forms, naming the value and the expected form', () => {
  for (const bad of ['1.31', 'stable', 'v1.31.x', '', 'version 1.2.3']) {
    assert.throws(
      () => parseKubeVersion(bad),
      (e: Error) => e.message.includes(JSON.stringify(bad)) && e.message.includes('MAJOR.MINOR.PATCH'),
    );
  }
});

test('configApiVersion follows the support matrix', () => {
  const cases: Array<[string, string]> = [
    ['1.13.0', 'v1beta1'],
    ['v1.14.10', 'v1beta1'],
    ['1.15.0', 'v1beta2'],
    ['v1.21.14', 'v1beta2'],
    ['1.22.0', 'v1beta3'],
    ['v1.30.9', 'v1beta3'],
    ['1.31.0', 'v1beta4'],
    ['v1.35.1', 'v1beta4'],
  ];
  for (const [v, api] of cases) assert.equal(configApiVersion(parseKubeVersion(v)), `kubeadm.k8s.io/${api}`, v);
});

test('versions older than MIN_SUPPORTED are refused clearly', () => {
  assert.equal(MIN_SUPPORTED, '1.13.0');
  assert.equal(supportedVersionProblem('v1.13.0'), undefined);
  assert.equal(supportedVersionProblem(parseKubeVersion('1.34.2')), undefined);
  const p = supportedVersionProblem('v1.12.5');
  assert.match(p ?? '', /v1\.12\.5 is not supported: kubeadm-ha supports 1\.13 to 1\.37/);
  assert.equal(supportedVersionProblem('v1.37.2'), undefined);
  assert.match(
    supportedVersionProblem('v1.38.0') ?? '',
    /v1\.38\.0 is not supported yet: kubeadm-ha supports 1\.13 to 1\.37/,
  );
  assert.match(supportedVersionProblem('2.0.0') ?? '', /not supported/);
  assert.match(supportedVersionProblem('latest') ?? '', /invalid Kubernetes version/);
  assert.throws(() => configApiVersion(parseKubeVersion('1.12.0')), /not supported/);
});

test('atLeast compares minor and patch', () => {
  const v = parseKubeVersion('v1.15.3');
  assert.equal(atLeast(v, '1.15'), true);
  assert.equal(atLeast(v, '1.15.4'), false);
  assert.equal(atLeast(v, '1.14.9'), true);
});
