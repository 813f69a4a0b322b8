import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseCertificateKey, parseJoinCommands } from '../../src/kubeadm/join-command';
import { fixture } from './fixtures';

const H13 = 'sha256:84938d2a22203a8e56a787ec0c6ddad7bc7dbd52ebabc62fd5f4dbea72b14d1f';
const H = 'sha256:8817bb69522a72618241f20adfede139743f48403367cec3f4144b43f918b97d';
const KEY = 'f9ea00c50ef12a386949dfb84b3abb2aa1053cc84f3792cd4b8aa6cc42c1fd57';
const TOKEN = '38tjlt.ibkwbtflmj6w8qmg';
const worker = { endpoint: 'lb.example.com:6443', token: TOKEN, caCertHashes: [H], controlPlane: false };

test('1.13 init epilogue: one single-line join', () => {
  assert.deepEqual(parseJoinCommands(fixture('init-1.13.stdout.txt')), [
    { endpoint: '192.168.0.200:6443', token: 'j04n3m.octy8zely83cy2ts', caCertHashes: [H13], controlPlane: false },
  ]);
  assert.equal(parseCertificateKey(fixture('init-1.13.stdout.txt')), undefined);
});

test('seed page sample (extra spaces) and its --experimental-control-plane join', () => {
  assert.deepEqual(parseJoinCommands(fixture('seed-1.13-sample.txt')), [
    { endpoint: '192.168.0.200:6443', token: 'j04n3m.octy8zely83cy2ts', caCertHashes: [H13], controlPlane: false },
  ]);
  assert.deepEqual(parseJoinCommands(fixture('seed-1.13-cp-join.txt')), [
    { endpoint: '192.168.0.200:6443', token: 'j04n3m.octy8zely83cy2ts', caCertHashes: [H13], controlPlane: true },
  ]);
});

test('1.28 init with --upload-certs: TAB continuations, CP + worker commands, key line', () => {
  const out = fixture('init-1.28-upload-certs.stdout.txt');
  assert.ok(out.includes('\\\n\t--discovery-token-ca-cert-hash'), 'fixture keeps literal TAB continuations');
  assert.deepEqual(parseJoinCommands(out), [{ ...worker, controlPlane: true, certificateKey: KEY }, worker]);
  assert.equal(parseCertificateKey(out), KEY);
});

test('1.15-1.20 and 1.14 epilogues: 4-space continuations; 1.14 uses --experimental-control-plane', () => {
  for (const f of ['init-1.16-upload-certs.stdout.txt', 'init-1.14-upload-certs.stdout.txt']) {
    const out = fixture(f);
    assert.ok(out.includes('\\\n    --discovery-token-ca-cert-hash'), f);
    assert.deepEqual(parseJoinCommands(out), [{ ...worker, controlPlane: true, certificateKey: KEY }, worker], f);
  }
});

test('no --upload-certs: CP command ends "--control-plane " without key', () => {
  assert.deepEqual(parseJoinCommands(fixture('init-1.28-manual-certs.stdout.txt')), [{ ...worker, controlPlane: true }, worker]);
});

test('no controlPlaneEndpoint: only the worker command', () => {
  const cmds = parseJoinCommands(fixture('init-1.28-no-endpoint.stdout.txt'));
  assert.deepEqual(cmds, [worker]);
  assert.equal(cmds.some((c) => c.controlPlane), false);
});

test('epilogue printed once per token is reported once', () => {
  assert.equal(parseJoinCommands(fixture('init-1.28-two-tokens.stdout.txt')).length, 2);
});

test('<value withheld> is treated as absent', () => {
  const out = fixture('init-1.28-withheld.stdout.txt');
  assert.deepEqual(parseJoinCommands(out), [{ ...worker, controlPlane: true }, worker]);
  const tokenWithheld = out.split(TOKEN).join('<value withheld>');
  assert.deepEqual(parseJoinCommands(tokenWithheld), []);
});

test('token create --print-join-command shapes of every era', () => {
  for (const f of ['print-join-1.13.txt', 'print-join-1.14-1.20.txt', 'print-join-1.21.txt', 'print-join-1.11.txt']) {
    assert.deepEqual(parseJoinCommands(fixture(f)), [worker], f);
  }
  assert.ok(fixture('print-join-1.14-1.20.txt').includes('     --discovery'));
  assert.deepEqual(parseJoinCommands(fixture('print-join-1.21-cp.txt')), [{ ...worker, controlPlane: true, certificateKey: KEY }]);
});

test('CRLF, IPv6 endpoints, repeated hashes, --flag=value', () => {
  const H2 = 'sha256:' + 'a'.repeat(64);
  const out = `kubeadm join [fd00::1]:6443 --token=${TOKEN} \\\r\n\t--discovery-token-ca-cert-hash ${H} --discovery-token-ca-cert-hash ${H2} \r\n`;
  assert.deepEqual(parseJoinCommands(out), [{ endpoint: '[fd00::1]:6443', token: TOKEN, caCertHashes: [H, H2], controlPlane: false }]);
});

test('text without join commands', () => {
  assert.deepEqual(parseJoinCommands(fixture('preflight-reinit-1.28.stderr.txt')), []);
  assert.deepEqual(parseJoinCommands(''), []);
  // placeholders from docs are not commands
  assert.deepEqual(parseJoinCommands('sudo kubeadm join <LB>:<PORT> --token <t> --discovery-token-ca-cert-hash sha256:<h>'), []);
});

test('parseCertificateKey takes the last upload', () => {
  const newer = 'b'.repeat(64);
  const out = `[upload-certs] Using certificate key:\n${KEY}\n...\n[upload-certs] Using certificate key:\n${newer}\n`;
  assert.equal(parseCertificateKey(out), newer);
  assert.equal(parseCertificateKey('[upload-certs] Skipping phase. Please see --upload-certs\n'), undefined);
});
