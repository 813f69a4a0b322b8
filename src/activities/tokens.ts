// Bootstrap tokens for joins, one per join wave, not per host. The secret is minted on the first
// control plane (`kubeadm token create`, printed on stdout, never in argv), kept there in a 0600
// file and in this worker's memory; only the token's public ID and expiry reach the workflow.
import { ApplicationFailure, Context } from '@temporalio/activity';
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

/**
 * Deletes the tokens from the cluster, and their secrets from the first control plane's disk and this
 * worker's memory whatever the delete's outcome: a token that could not be deleted (`leftToExpire`)
 * stays valid in the cluster until its expiry, but its secret is no longer kept anywhere. One that
 * already expired is gone from the cluster: deleted.
 */
export const deleteJoinTokens = async ({
  host,
  ssh,
  ids,
}: OnHost & { ids: string[] }): Promise<{ deleted: string[]; leftToExpire: string[] }> =>
  withSessions(ssh, [host], async (cp) => {
    const deleted: string[] = [];
    const leftToExpire: string[] = [];
    for (const id of ids) {
      const r = await cp.run(tokenDeleteCommand(id));
      if (r.exitCode === 0 || /not found/i.test(r.stderr + r.stdout)) deleted.push(id);
      else {
        leftToExpire.push(id);
        Context.current().log.warn(
          `${host.name}: kubeadm token delete ${id} failed (exit ${r.exitCode ?? 'unknown'}): ${tail(r.stderr || r.stdout)}; the token is left to expire, its secret is removed`,
        );
      }
    }
    for (const id of ids) forgetToken(id);
    if (ids.length)
      await cp.check(`rm -f -- ${ids.map((id) => shellQuote(tokenFile(id))).join(' ')}`, 'removing the token files');
    return { deleted, leftToExpire };
  });
