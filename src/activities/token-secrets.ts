// Join token secrets, kept in this worker's memory and in a 0600 file on the first control plane;
// never in workflow history (which holds only a token's public ID).
import { ApplicationFailure } from '@temporalio/activity';
import type { HostSpec, SshSpec } from '../config/types';
import { tokenFile } from '../kubeadm/paths';
import { TOKEN_RE } from '../kubeadm/validate';
import { withSessions } from './host-context';

const secrets = new Map<string, string>();

export function rememberToken(id: string, token: string): void {
  secrets.set(id, token);
}

export function forgetToken(id: string): void {
  secrets.delete(id);
}

/** The token's secret: from this worker's memory, else from the first control plane's 0600 file. */
export async function tokenSecret(ssh: SshSpec, tokenHost: HostSpec, id: string): Promise<string> {
  const cached = secrets.get(id);
  if (cached) return cached;
  return withSessions(ssh, [tokenHost], async (cp) => {
    const token = (await cp.session.readFile(tokenFile(id))).toString('utf8').trim();
    if (!TOKEN_RE.test(token) || !token.startsWith(`${id}.`)) {
      throw ApplicationFailure.nonRetryable(
        `${tokenHost.name}: ${tokenFile(id)} does not hold token ${id}`,
        'KubeadmDiscoveryRejected',
      );
    }
    secrets.set(id, token);
    return token;
  });
}
