// The CLI's own behaviour, no server needed: help on every verb, and bad input refused before
// anything connects (a missing flag, an unknown phase, a bad cluster file).
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { main } from '../../src/client/cli';
import { UsageError } from '../../src/client/usage-error';
import { ClusterFileError } from '../../src/config/cluster-file';

const NO_SERVER = ['--address', '127.0.0.1:9'];
const run = async (argv: string[]) => {
  const out: string[] = [];
  const code = await main(argv, (s) => out.push(s));
  return { code, out: out.join('\n') };
};

describe('kubeadm-ha CLI', () => {
  it('lists every command, and each has --help', async () => {
    const top = await run(['--help']);
    assert.equal(top.code, 0);
    for (const verb of ['start', 'approve', 'reject', 'status', 'watch', 'list', 'cancel']) {
      assert.match(top.out, new RegExp(`^  ${verb} `, 'm'));
      const help = await run([verb, '--help']);
      assert.equal(help.code, 0);
      assert.match(help.out, new RegExp(`^Usage: kubeadm-ha ${verb}`));
      assert.match(help.out, /--address HOST:PORT/);
    }
    assert.equal((await run([])).code, 2, 'no command is a usage error');
  });

  it('refuses unknown commands, flags and argument counts with the usage', async () => {
    await assert.rejects(
      run(['approv']),
      (e: unknown) =>
        e instanceof UsageError &&
        /unknown command "approv"; commands: plan, start, reset, upgrade, approve/.test(e.message),
    );
    await assert.rejects(
      run(['status', 'c', '--jsn']),
      (e: unknown) =>
        e instanceof UsageError && /Unknown option '--jsn'[\s\S]*Usage: kubeadm-ha status/.test(e.message),
    );
    await assert.rejects(
      run(['status']),
      (e: unknown) => e instanceof UsageError && /expected <cluster>/.test(e.message),
    );
  });

  it('refuses an approval without a name or for an unknown phase, before connecting', async () => {
    await assert.rejects(
      run(['approve', 'c', 'init', ...NO_SERVER]),
      (e: unknown) => e instanceof UsageError && /missing --as NAME \(who approves\)/.test(e.message),
    );
    await assert.rejects(
      run(['reject', 'c', 'init', '--as', ' ', ...NO_SERVER]),
      (e: unknown) => e instanceof UsageError && /missing --as NAME \(who rejects\)/.test(e.message),
    );
    await assert.rejects(
      run(['approve', 'c', 'cni', '--as', 'alice', ...NO_SERVER]),
      (e: unknown) =>
        e instanceof UsageError &&
        /"cni" is not a phase with an approval gate; use one of etcd, init, joinControlPlanes, joinWorkers, removeNodes, reset/.test(
          e.message,
        ),
    );
  });

  it('refuses a bad cluster file before connecting, naming the fields', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kha-cli-'));
    writeFileSync(join(dir, 'c.yaml'), 'name: Bad_Name\ntopology: mesh\n');
    for (const verb of ['start', 'plan']) {
      await assert.rejects(
        run([verb, join(dir, 'c.yaml'), ...NO_SERVER]),
        (e: unknown) =>
          e instanceof ClusterFileError &&
          e.problems.some((p) => p.startsWith('name: "Bad_Name"')) &&
          e.problems.some((p) => p.startsWith('topology: "mesh" is unknown')),
      );
    }
  });
});
