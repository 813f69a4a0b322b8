// The suite's leftover check: which processes count as the suite's, and which as this checkout's,
// with another checkout's suite running side by side.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CHECKOUT_ENV, ofCheckout, suiteKind } from '../../scripts/leftovers';

const ROOT = '/work/wt-a';
const OTHER = '/work/wt-a2';

describe('leftovers', () => {
  it('names the kinds of process the suite starts, sshd by its retitled command line too', () => {
    const kinds = [
      [['sshd: /usr/sbin/sshd -f /tmp/fleet/hosts/cp1/sshd_config -E /tmp/l [listener] 0 of 100-200 startups'], 'sshd'],
      [['/usr/sbin/sshd', '-D', '-e', '-f', '/tmp/t/sshd_config'], 'sshd'],
      [['haproxy', '-f', '/tmp/f/lb/haproxy.cfg', '-D'], 'haproxy'],
      [['node', '/opt/kubeadm-ha-fleet/lib/fleet/standins/kubelet.js', '--run-dir=/tmp/f/run'], 'fleet stand-in'],
      [[`${ROOT}/.tools/venv/bin/temporal`, 'server', 'start-dev', '--headless'], 'Temporal dev server'],
      [[`${ROOT}/.tools/test-server-1.40.0/temporal-test-server`, '37051'], 'Temporal test server'],
      [['/usr/bin/node', '--optimize-for-size', `${ROOT}/lib/src/worker.js`], 'kubeadm-ha worker'],
      [['node', 'lib/src/client/cli.js', 'codec-server', '--port', '8081'], 'codec server'],
      [['containerd', '--config', '/etc/containerd/config.toml'], 'containerd'],
      [['/usr/bin/kubelet', '--config=/var/lib/kubelet/config.yaml'], 'kubelet'],
      [['python3', '/run/kha-node/host/kubelet-service.py'], 'kubelet'],
      [['socat', 'TCP-LISTEN:2222,bind=198.18.3.10,reuseaddr,fork', 'UNIX-CONNECT:/run/ssh.sock'], 'socat'],
    ] as const;
    for (const [argv, kind] of kinds) assert.equal(suiteKind([...argv]), kind, argv.join(' '));
    const others = [
      ['sshd: kha [priv]'],
      ['/usr/sbin/sshd', '-D'],
      ['bash', 'scripts/test.sh'],
      ['temporal', 'workflow', 'list'],
      ['containerd'],
      ['node', `${ROOT}/lib/scripts/leftovers.js`],
    ];
    for (const argv of others) {
      assert.equal(suiteKind(argv), undefined, argv.join(' '));
    }
  });

  it("is this checkout's by test.sh's environment, the command line, or the checkout at the code mount", () => {
    const none = { argv: ['haproxy', '-f', '/tmp/f/lb/haproxy.cfg'], environ: ['PATH=/usr/bin'], seesCheckout: false };
    assert.equal(ofCheckout(none, ROOT), false);
    assert.equal(ofCheckout({ ...none, environ: [`${CHECKOUT_ENV}=${ROOT}`] }, ROOT), true);
    assert.equal(ofCheckout({ ...none, seesCheckout: true }, ROOT), true);
    assert.equal(ofCheckout({ ...none, argv: ['node', `${ROOT}/lib/src/worker.js`] }, ROOT), true);
    // Another checkout's suite, even one whose path starts with this one's.
    assert.equal(ofCheckout({ ...none, environ: [`${CHECKOUT_ENV}=${OTHER}`] }, ROOT), false);
    assert.equal(ofCheckout({ ...none, argv: ['node', `${OTHER}/lib/src/worker.js`] }, ROOT), false);
  });

  it("for npm run down, also a process running in the checkout: the demo's client, the dev server", () => {
    const client = {
      argv: ['node', 'lib/src/client/cli.js', 'start', '.run/fleet/cluster.yaml'],
      environ: [],
      seesCheckout: false,
      cwd: ROOT,
    };
    assert.equal(suiteKind(client.argv), 'kubeadm-ha client');
    assert.equal(suiteKind(['node', 'lib/src/client/cli.js', 'codec-server', '--port', '8888']), 'codec server');
    assert.equal(ofCheckout(client, ROOT, true), true);
    assert.equal(ofCheckout(client, ROOT), false, "the suite's own check leaves a developer's processes alone");
    assert.equal(ofCheckout({ ...client, cwd: OTHER }, ROOT, true), false);
  });
});
