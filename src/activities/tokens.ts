// Bootstrap tokens for joins, one per join wave, not per host. The secret is minted on the first
// control plane (`kubeadm token create`, printed on stdout, never in argv), kept there in a 0600
// file and in this worker's memory; only the token's public ID and expiry reach the workflow.
import { ApplicationFailure } from '@temporalio/activity';
import type { HostSpec, SshSpec } from '../config/types';
import { shellQuote } from '../common/shell-quote';
import { stateFile, tokenFile } from '../kubeadm/paths';
import { TOKEN_RE } from '../kubeadm/validate';
import type { KubeadmHaActivities } from './types';
import { tail, withSessions } from './host-context';

const secrets = new Map<string, string>();

export const ensureJoinToken: KubeadmHaActivities['ensureJoinToken'] = async ({ host, ssh, current, ttlSeconds, minRemainingSeconds, description }) => {
  if (current && (Date.parse(current.expiresAt) - Date.now()) / 1000 >= minRemainingSeconds) return current;
  return withSessions(ssh, [host], async (cp) => {
    cp.step('kubeadm token create');
    const r = await cp.check(`kubeadm token create --ttl ${ttlSeconds}s --description ${shellQuote(description)}`, 'kubeadm token create');
    const token = r.stdout.trim().split('\n').pop()?.trim() ?? '';
    if (!TOKEN_RE.test(token)) throw ApplicationFailure.retryable(`${host.name}: kubeadm token create printed no token: ${tail(r.stdout)}`, 'KubeadmFailed');
    const id = token.split('.')[0];
    await cp.session.writeFile(tokenFile(id), token, stateFile(0o600));
    secrets.set(id, token);
    return { id, expiresAt: new Date(Date.now() + ttlSeconds * 1000).toISOString() };
  });
};

export const deleteJoinTokens: KubeadmHaActivities['deleteJoinTokens'] = async ({ host, ssh, ids }) =>
  withSessions(ssh, [host], async (cp) => {
    const deleted: string[] = [];
    for (const id of ids) {
      // A token that already expired is gone from the cluster: that is fine.
      const r = await cp.run(`kubeadm token delete ${shellQuote(id)}`);
      if (r.exitCode !== 0 && !/not found/i.test(r.stderr + r.stdout)) continue; // left to expire on its own
      await cp.run(`rm -f ${shellQuote(tokenFile(id))}`);
      deleted.push(id);
      secrets.delete(id);
    }
    return { deleted };
  });

/** The token's secret: from this worker's memory, else from the first control plane's 0600 file. */
export async function tokenSecret(ssh: SshSpec, tokenHost: HostSpec, id: string): Promise<string> {
  const cached = secrets.get(id);
  if (cached) return cached;
  return withSessions(ssh, [tokenHost], async (cp) => {
    const token = (await cp.session.readFile(tokenFile(id))).toString('utf8').trim();
    if (!TOKEN_RE.test(token) || !token.startsWith(`${id}.`)) {
      throw ApplicationFailure.nonRetryable(`${tokenHost.name}: ${tokenFile(id)} does not hold token ${id}`, 'KubeadmDiscoveryRejected');
    }
    secrets.set(id, token);
    return token;
  });
}
