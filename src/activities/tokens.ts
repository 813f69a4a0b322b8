// Bootstrap tokens for joins, one per join wave, not per host. The secret is minted on the first
// control plane (`kubeadm token create`, printed on stdout, never in argv), kept there in a 0600
// file and in this worker's memory; only the token's public ID and expiry reach the workflow.
import { ApplicationFailure } from '@temporalio/activity';
import { shellQuote } from '../common/shell-quote';
import { stateFile, tokenFile } from '../kubeadm/paths';
import { tokenCreateCommand, tokenDeleteCommand } from '../kubeadm/bootstrap-token';
import { TOKEN_RE } from '../kubeadm/validate';
import { tail, withSessions } from './host-context';
import { forgetToken, rememberToken } from './token-secrets';
import type { OnHost, TokenRef } from './types';

export const ensureJoinToken = async ({
  host,
  ssh,
  current,
  ttlSeconds,
  minRemainingSeconds,
  description,
}: OnHost & {
  current?: TokenRef;
  ttlSeconds: number;
  minRemainingSeconds: number;
  description: string;
}): Promise<TokenRef> => {
  if (current && (Date.parse(current.expiresAt) - Date.now()) / 1000 >= minRemainingSeconds) return current;
  return withSessions(ssh, [host], async (cp) => {
    cp.step('kubeadm token create');
    const r = await cp.check(tokenCreateCommand(ttlSeconds, description), 'kubeadm token create');
    const token = r.stdout.trim().split('\n').pop()?.trim() ?? '';
    if (!TOKEN_RE.test(token))
      throw ApplicationFailure.retryable(
        `${host.name}: kubeadm token create printed no token: ${tail(r.stdout)}`,
        'KubeadmFailed',
      );
    const id = token.split('.')[0];
    await cp.session.writeFile(tokenFile(id), token, stateFile(0o600));
    rememberToken(id, token);
    return { id, expiresAt: new Date(Date.now() + ttlSeconds * 1000).toISOString() };
  });
};

export const deleteJoinTokens = async ({
  host,
  ssh,
  ids,
}: OnHost & { ids: string[] }): Promise<{ deleted: string[] }> =>
  withSessions(ssh, [host], async (cp) => {
    const deleted: string[] = [];
    for (const id of ids) {
      // A token that already expired is gone from the cluster: that is fine.
      const r = await cp.run(tokenDeleteCommand(id));
      if (r.exitCode !== 0 && !/not found/i.test(r.stderr + r.stdout)) continue; // left to expire on its own
      await cp.run(`rm -f ${shellQuote(tokenFile(id))}`);
      deleted.push(id);
      forgetToken(id);
    }
    return { deleted };
  });
