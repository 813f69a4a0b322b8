// Every remote command built from workflow input, run by a real shell against stub binaries with
// hostile values: each value must arrive as the one argument it was meant to be, and no shell
// syntax in it may run (no marker file appears). The workflow's input can come from anyone who can
// reach the Temporal frontend, so quoting never relies on the CLI's checks.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { tokenCreateCommand, tokenDeleteCommand } from '../../src/kubeadm/bootstrap-token';
import { etcdctlCommand, etcdGatewayCommand } from '../../src/kubeadm/etcd';
import { etcdMemberCommand, memberEtcdctl } from '../../src/kubeadm/external-etcd';
import { probeCommand } from '../../src/kubeadm/load-balancer';

const dir = mkdtempSync(join(tmpdir(), 'kha-hostile-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const marker = join(dir, 'pwned');
const argvLog = join(dir, 'argv');
const HOSTILE = [
  `x; touch ${marker}`,
  `$(touch ${marker})`,
  `\`touch ${marker}\``,
  `x' ; touch ${marker} ; echo '`,
  `x" ; touch ${marker} ; echo "`,
  `x && touch ${marker}`,
  `x\ntouch ${marker}`,
  `x | touch ${marker}`,
  `x > ${marker}`,
];

// Stubs of every program those commands start: each records its argv, one argument per line (NUL-separated).
const bin = join(dir, 'bin');
spawnSync('mkdir', ['-p', bin]);
for (const name of ['kubeadm', 'etcdctl', 'curl', 'kubectl', 'systemctl', 'timeout', 'bash']) {
  writeFileSync(join(bin, name), `#!/bin/sh\nprintf '%s\\0' "$0" "$@" >> '${argvLog}'\n`);
  chmodSync(join(bin, name), 0o755);
}

/** Runs the command in sh with only the stubs on PATH; the argv each stub got. */
function run(command: string): string[][] {
  rmSync(argvLog, { force: true });
  spawnSync('/bin/sh', ['-c', command], { env: { PATH: bin, ETCDCTL_API: '' }, encoding: 'utf8' });
  assert.ok(!existsSync(marker), `injection ran: ${command}`);
  if (!existsSync(argvLog)) return [];
  const words = readFileSync(argvLog, 'utf8').split('\0').slice(0, -1);
  const calls: string[][] = [];
  for (const w of words) {
    if (w.startsWith(bin)) calls.push([w]);
    else calls[calls.length - 1].push(w);
  }
  return calls;
}

test('bootstrap tokens: a hostile description or token ID arrives as one argument; a TTL that is not a whole number is refused', () => {
  for (const h of HOSTILE) {
    const [create] = run(tokenCreateCommand(7200, h));
    assert.deepEqual(create.slice(1), ['token', 'create', '--ttl', '7200s', '--description', h]);
    const [del] = run(tokenDeleteCommand(h));
    assert.deepEqual(del.slice(1), ['token', 'delete', h]);
  }
  for (const ttl of [0, -1, 1.5, Number.NaN, '60; reboot' as unknown as number]) {
    assert.throws(() => tokenCreateCommand(ttl, 'x'), /token TTL must be a whole number of seconds/);
  }
});

test('etcd: hostile member addresses, node names and config paths stay inside their arguments', () => {
  for (const h of HOSTILE) {
    const [etcdctl] = run(memberEtcdctl([{ name: 'etcd1', address: h }], ['endpoint', 'health']));
    assert.equal(etcdctl[1], `--endpoints=https://${h.includes(':') ? `[${h}]` : h}:2379`);
    assert.deepEqual(etcdctl.slice(-2), ['endpoint', 'health']);
    const [curl] = run(etcdGatewayCommand(h, { list: true }));
    assert.match(curl.at(-1)!, /\/v3\/cluster\/member\/list$/);
    const [kubectl] = run(etcdctlCommand('kubectl', h, ['member', h]));
    assert.deepEqual([kubectl[4], kubectl.at(-1)], [`etcd-${h}`, h]);
    const calls = run(etcdMemberCommand(h));
    assert.ok(
      calls.filter((c) => c[0].endsWith('kubeadm')).every((c) => c.at(-1) === h),
      'the config path is one argument',
    );
  }
});

test('the load balancer probe refuses a hostile host, and passes a strange but valid one as an argument', () => {
  for (const h of HOSTILE.filter((x) => /[\s/]/.test(x)))
    assert.throws(() => probeCommand(h, 6443, 5), /is not a host name or IP address/);
  for (const h of HOSTILE.filter((x) => !/[\s/]/.test(x))) {
    const [timeout] = run(probeCommand(h, 6443, 5));
    assert.deepEqual(timeout.slice(-2), [h, '6443']);
  }
});
