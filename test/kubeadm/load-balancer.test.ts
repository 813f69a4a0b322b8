import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createServer, type AddressInfo } from 'node:net';
import { classifyProbe, probeCommand, probeVerdict } from '../../src/kubeadm/load-balancer';
import { fixture } from './fixtures';

function captured(name: string): [number, string] {
  return [Number(fixture(`probe-${name}.exit.txt`).trim()), fixture(`probe-${name}.stderr.txt`)];
}

test('classifyProbe on captured bash /dev/tcp outputs', () => {
  for (const o of ['refused', 'accepted', 'unresolvable', 'timeout'] as const) {
    const [code, stderr] = captured(o);
    assert.equal(classifyProbe(code, '', stderr), o);
  }
});

test('classifyProbe on nc -v wording and edge cases', () => {
  assert.equal(classifyProbe(1, '', 'nc: connect to 10.0.0.5 port 6443 (tcp) failed: Connection refused\n'), 'refused');
  assert.equal(classifyProbe(0, '', 'Connection to 10.0.0.5 6443 port [tcp/*] succeeded!\n'), 'accepted');
  assert.equal(
    classifyProbe(1, '', 'nc: connect to 10.0.0.5 port 6443 (tcp) failed: Connection timed out\n'),
    'timeout',
  );
  assert.equal(
    classifyProbe(1, '', 'nc: getaddrinfo for host "lb" port 6443: Name or service not known\n'),
    'unresolvable',
  );
  assert.equal(classifyProbe(1, '', 'lb-probe: connect: No route to host\n'), 'unreachable');
  assert.equal(classifyProbe(null, '', ''), 'timeout');
});

test('probeVerdict: refused/accepted ok, timeout uses the seed wording', () => {
  assert.equal(probeVerdict('refused', 'lb:6443').ok, true);
  assert.equal(probeVerdict('accepted', 'lb:6443').ok, true);
  const t = probeVerdict('timeout', 'lb:6443');
  assert.equal(t.ok, false);
  assert.match(
    t.message,
    /the load balancer cannot communicate with the control plane node.*[Rr]econfigure the load balancer/,
  );
  assert.equal(probeVerdict('unresolvable', 'lb:6443').ok, false);
  assert.match(probeVerdict('unresolvable', 'lb:6443').message, /resolve/);
  assert.equal(probeVerdict('unreachable', 'lb:6443').ok, false);
});

test('probeCommand validates and quotes', () => {
  assert.equal(
    probeCommand('lb.example.com', 6443, 5),
    `timeout 5 bash -c 'exec 3<>"/dev/tcp/$1/$2"' lb-probe 'lb.example.com' '6443'`,
  );
  assert.throws(() => probeCommand('lb example', 6443, 5), /host/);
  assert.throws(() => probeCommand('lb', 0, 5), /port/);
  assert.throws(() => probeCommand('lb', 6443, 0), /timeout/);
  assert.match(probeCommand('[fd00::1]', 6443, 5), /'fd00::1' '6443'$/);
});

function run(cmd: string): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync('/bin/sh', ['-c', cmd], { encoding: 'utf8', timeout: 10_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

test('probeCommand really runs: refused, accepted, unresolvable, injection stays literal', async () => {
  const server = createServer((s) => s.end());
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const open = (server.address() as AddressInfo).port;
  try {
    const acc = run(probeCommand('127.0.0.1', open, 3));
    assert.equal(classifyProbe(acc.code, '', acc.stderr), 'accepted');
  } finally {
    server.close();
  }
  const ref = run(probeCommand('127.0.0.1', 1, 3));
  assert.equal(classifyProbe(ref.code, '', ref.stderr), 'refused');
  const evil = run(probeCommand("x';echo${IFS}pwned;'", 6443, 3));
  assert.equal(evil.stdout, '', 'the host name must not run as shell code');
  assert.match(evil.stderr, /x';echo\$\{IFS\}pwned;'/, 'the host name reaches bash as one literal argument');
  assert.notEqual(classifyProbe(evil.code, '', evil.stderr), 'accepted');
});
