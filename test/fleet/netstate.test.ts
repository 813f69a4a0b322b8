// The stand-in hosts' network state (fleet/standins/netstate.ts), without a fleet: the rules the
// stand-in kubeadm gives a node are a real node's, line for line (test/fixtures/kubeadm/
// iptables-save-real-fleet-node.txt was captured from a real-fleet node: kube-proxy in iptables
// mode, flannel, three control planes at 198.18.0.11-13, podSubnet 192.168.0.0/16), and the
// stand-in iptables-restore refuses what the real one refuses, so a cleanup that left a jump to a
// removed chain would fail on the fleet as it would on a node.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import {
  BASELINE,
  RestoreError,
  addNodeNetwork,
  formatTables,
  parseTables,
  portProtoHash,
  readLinks,
  readTables,
  seedNetState,
} from '../../fleet/standins/netstate';
import { IPTABLES_FILTER_AWK } from '../../src/kubeadm/reset';
import { fixture } from '../kubeadm/fixtures';

const REAL = fixture('iptables-save-real-fleet-node.txt');
const withoutComments = (t: string): string =>
  t
    .split('\n')
    .filter((l) => !l.startsWith('#'))
    .join('\n');

function scratchHost(): { dir: string; host: string } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kha-netstate-'));
  seedNetState(dir, 'w1');
  return { dir, host: 'w1' };
}

describe('stand-in network state', () => {
  it("kube-proxy's chain names: base32(sha256(service port, protocol[, endpoint]))[:16]", () => {
    assert.equal(portProtoHash('default/kubernetes:https', 'tcp'), 'NPX46M4PTMTKRN6Y');
    assert.equal(portProtoHash('kube-system/kube-dns:dns', 'udp'), 'TCOU7JCQXEZGVUNU');
    assert.match(REAL, /^:KUBE-SEP-E246GPXKQECA5LYO /m);
    assert.equal(portProtoHash('default/kubernetes:https', 'tcp', '198.18.0.11:6443'), 'E246GPXKQECA5LYO');
  });

  it("a joined node's rules are a real node's, line for line; twice is once; the host's own stay", () => {
    const { dir, host } = scratchHost();
    const o = { podCidr: '192.168.0.0/16', nodeIndex: 0, apiServers: ['198.18.0.11', '198.18.0.12', '198.18.0.13'] };
    addNodeNetwork(dir, host, o);
    const once = formatTables(readTables(dir, host, 'iptables'));
    addNodeNetwork(dir, host, o);
    assert.equal(formatTables(readTables(dir, host, 'iptables')), once);
    const real = new Set(REAL.split('\n'));
    const baseline = BASELINE.iptables.split('\n');
    const added = once.split('\n').filter((l) => !baseline.includes(l));
    assert.ok(added.length > 40);
    assert.deepEqual(
      added.filter((l) => !real.has(l)),
      [],
    );
    // The host's rules keep their order; kube-proxy's jumps come before them (prepended).
    const lines = once.split('\n');
    const filter = parseTables(once).find((t) => t.name === 'filter')!;
    const hostRules = filter.chains.flatMap((c) => c.rules).filter((r) => !/KUBE-|FLANNEL-/.test(r));
    const baseFilter = parseTables(BASELINE.iptables).find((t) => t.name === 'filter')!;
    assert.deepEqual(
      hostRules,
      baseFilter.chains.flatMap((c) => c.rules),
    );
    assert.ok(lines.indexOf('-A INPUT -j KUBE-FIREWALL') < lines.indexOf('-A INPUT -i lo -j ACCEPT'));
    assert.deepEqual(
      readLinks(dir, host).map((l) => [l.name, l.type]),
      [
        ['flannel.1', 'vxlan'],
        ['cni0', 'bridge'],
      ],
    );
    fs.rmSync(dir, { recursive: true });
  });

  it('parses and prints iptables-save text as it was, comments aside', () => {
    for (const f of ['iptables-save-node.txt', 'ip6tables-save-node.txt', 'iptables-save-real-fleet-node.txt']) {
      const text = fixture(f);
      assert.equal(formatTables(parseTables(text)), withoutComments(text).replace(/^\n+/, ''), f);
    }
  });

  it("refuses what iptables-restore refuses: a jump to a chain the table lacks, a rule's undeclared chain, no COMMIT", () => {
    const refused = (text: string): RestoreError => {
      try {
        parseTables(text);
      } catch (e) {
        if (e instanceof RestoreError) return e;
        throw e;
      }
      throw new Error('accepted');
    };
    let e = refused('*filter\n:INPUT ACCEPT [0:0]\n-A INPUT -j KUBE-FIREWALL\nCOMMIT\n');
    assert.equal(e.message, "Couldn't load target `KUBE-FIREWALL':No such file or directory");
    assert.deepEqual([e.line, e.code], [3, 2]);
    e = refused('*nat\n-A KUBE-SERVICES -j RETURN\nCOMMIT\n');
    assert.equal(e.message, "Chain 'KUBE-SERVICES' does not exist");
    e = refused('*filter\n:INPUT ACCEPT [0:0]\n');
    assert.deepEqual([e.message, e.code], ['COMMIT expected at line 4', 1]);
    assert.equal(refused('*filter\n:INPUT FOO [0:0]\nCOMMIT\n').message, "Bad policy name 'FOO'");
  });

  it("the reset cleanup's filter output is valid restore input for every fixture (no jump left to a removed chain)", () => {
    for (const f of ['iptables-save-node.txt', 'ip6tables-save-node.txt', 'iptables-save-real-fleet-node.txt']) {
      const r = spawnSync('awk', [IPTABLES_FILTER_AWK], { input: fixture(f), encoding: 'utf8' });
      assert.equal(r.status, 0, r.stderr);
      const tables = parseTables(r.stdout);
      assert.ok(tables.length >= 3, f);
      assert.equal(
        r.stdout,
        fixture(f.replace(/\.txt$/, '.clean.txt')),
        `${f}: the filter leaves what its .clean.txt says`,
      );
    }
  });
});
