// A host whose SSH is gone, with nobody at the keyboard (the demo's `start --auto-approve
// --exit-on-park`): the CLI must end by itself, non-zero, naming the host, the step and ssh's own
// error, well within the two minutes the demo allows. An sshd that is stopped (connection refused),
// packets to an sshd that are dropped (the connect times out), and the first control plane's SSH
// lost after the joins, where the run fails instead of parking. Stand-in fleet, real sshd, dev
// server and worker process. How long each took is printed (a diagnostic), not asserted: timing
// targets belong to the benchmark; the bound here is the test's own timeout.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { setFault, type FleetInfo } from '../../fleet';
import { main } from '../../src/client/cli';
import { EXIT_PARKED } from '../../src/client/commands';
import { running, Rig } from '../helpers/harness';

/** The demo's bound is two minutes; this is the test's, with room for a slow machine. */
const BOUND_MS = 4 * 60_000;

describe("a host's SSH gone: start --exit-on-park ends by itself with the diagnosis", { timeout: 15 * 60_000 }, () => {
  const rig = new Rig();
  const server = rig.server;
  before(() => rig.up());
  after(() => rig.down());

  const fleet = (joinMs = 1000): Promise<FleetInfo> =>
    rig.fleet({ controlPlanes: 1, workers: 1, timing: { initMs: 1000, joinMs } });
  /** The demo's command line; resolves with the exit code, the output and how long it took. */
  const demoStart = async (f: FleetInfo) => {
    const out: string[] = [];
    const t0 = Date.now();
    const code = await main(
      ['start', f.clusterFile, '--auto-approve', 'demo', '--exit-on-park', '--address', server.address],
      (s) => out.push(s),
    );
    return { code, out: out.join('\n'), ms: Date.now() - t0 };
  };
  const at = (f: FleetInfo, host: string) => {
    const h = f.hosts.find((x) => x.name === host)!;
    return `${h.address}:${h.port}`.replace(/\./g, '\\.');
  };

  it(
    "a worker's sshd stopped: the inspection parks with ECONNREFUSED and the CLI exits 5",
    { timeout: BOUND_MS },
    async (t) => {
      const f = await fleet();
      setFault(f.dir, { host: 'w1', sshd: 'down' });
      const r = await demoStart(f);
      t.diagnostic(`sshd stopped on w1: the CLI exited ${r.code} after ${(r.ms / 1000).toFixed(1)} s`);
      assert.equal(r.code, EXIT_PARKED, r.out);
      assert.match(
        r.out,
        new RegExp(
          `inspectHost on w1 \\(worker\\) is parked since .* after 1 attempt\\(s\\):\\n\\s+attempt 1 at \\S+: host w1 \\(${at(f, 'w1')}\\): ` +
            'cannot connect \\(ECONNREFUSED\\); check that the host is up and sshd listens on that port; gave up after \\d+ tries in \\d+ s',
        ),
      );
      assert.match(r.out, /Stopped following: inspectHost on w1 parked and waits for an operator/);
    },
  );

  it(
    "packets to the first control plane's sshd dropped: the inspection parks with the connect timeout and the CLI exits 5",
    { timeout: BOUND_MS },
    async (t) => {
      const f = await fleet();
      setFault(f.dir, { host: 'cp1', ssh: 'drop' });
      const r = await demoStart(f);
      t.diagnostic(`packets to cp1's sshd dropped: the CLI exited ${r.code} after ${(r.ms / 1000).toFixed(1)} s`);
      setFault(f.dir, { host: 'cp1', ssh: 'normal' });
      assert.equal(r.code, EXIT_PARKED, r.out);
      assert.match(
        r.out,
        new RegExp(
          `inspectHost on cp1 \\(control-plane\\) is parked since .* after 1 attempt\\(s\\):\\n\\s+attempt 1 at \\S+: host cp1 \\(${at(f, 'cp1')}\\): ` +
            'timed out during connect/handshake; the host may be overloaded or a firewall drops traffic; gave up after \\d+ tries in \\d+ s',
        ),
      );
      assert.match(r.out, /Stopped following: inspectHost on cp1 parked and waits for an operator/);
    },
  );

  it(
    "the first control plane's SSH lost after the joins: the run fails and the CLI exits 1 with the step and ssh's error",
    { timeout: BOUND_MS },
    async (t) => {
      const f = await fleet(10_000);
      const run = demoStart(f);
      // w1's join has its token; what is left on cp1 is the deletion of the minted tokens, outside any host's step.
      await running(f, 'w1', 'join');
      // Live sessions cut first (the cut finds them through the listener), then no new ones.
      setFault(f.dir, { host: 'cp1', cutSsh: true });
      setFault(f.dir, { host: 'cp1', sshd: 'down' });
      const r = await run;
      t.diagnostic(`cp1's SSH lost during w1's join: the CLI exited ${r.code} after ${(r.ms / 1000).toFixed(1)} s`);
      assert.equal(r.code, 1, r.out);
      assert.match(r.out, /^ {2}w1: done — joined as worker$/m);
      assert.match(r.out, /^Run failed: http/m);
      assert.match(
        r.out,
        new RegExp(
          `^Failed in phase joinWorkers at step deleteJoinTokens: host cp1 \\(${at(f, 'cp1')}\\): cannot connect \\(ECONNREFUSED\\); ` +
            'check that the host is up and sshd listens on that port; gave up after \\d+ tries in \\d+ s \\[SshUnavailable\\]$',
          'm',
        ),
      );
    },
  );
});
