// Token-based discovery through apiServerEndpoint (normally the load balancer): fetch
// cluster-info, check the token's JWS signature, pin the CA. Retries like kubeadm until the
// discovery timeout.
import * as crypto from 'node:crypto';
import { ApiError, apiRequest } from './http';
import { parseKubeconfig } from './kubeconfig';
import { caCertHash } from './pki';
import { phaseError } from './errors';

const RETRY_MS = 5000; // constants.DiscoveryRetryInterval
const PATH = '/api/v1/namespaces/kube-public/configmaps/cluster-info';

export interface Discovered {
  caPem: string;
  server: string;
}

const fail = (msg: string): Error =>
  phaseError('preflight', `couldn't validate the identity of the API Server: ${msg}`);

export function checkPins(hashes: string[]): void {
  for (const h of hashes) {
    const m = /^([^:]+):(.*)$/.exec(h);
    if (!m || m[1] !== 'sha256') throw fail('invalid hash, expected "format:hex-value". Known format(s) are: sha256');
    if (!/^[0-9a-fA-F]*$/.test(m[2]) || m[2].length !== 64)
      throw fail(`invalid hash "${h}", expected a 32 byte SHA-256 hash, found ${Math.floor(m[2].length / 2)} bytes`);
  }
}

export async function discover(
  endpoint: string,
  token: string,
  hashes: string[],
  unsafeSkip: boolean,
  timeoutMs: number,
): Promise<Discovered> {
  if (!unsafeSkip) checkPins(hashes);
  const [id, secret] = token.split('.');
  const until = Date.now() + timeoutMs;
  let lastError = 'timed out waiting for the condition';
  let data: Record<string, string> | undefined;
  while (Date.now() < until) {
    try {
      const r = await apiRequest({
        server: `https://${endpoint}`,
        path: `${PATH}?timeout=10s`,
        insecure: true,
        timeoutMs: Math.min(10000, until - Date.now()),
      });
      const body = r.body as { data?: Record<string, string> };
      if (r.status !== 200 || !body.data)
        lastError = `failed to request the cluster-info ConfigMap: the server could not find the requested resource (get configmaps cluster-info)`;
      else if (!body.data[`jws-kubeconfig-${id}`])
        lastError = `could not find a JWS signature in the cluster-info ConfigMap for token ID "${id}"`;
      else {
        data = body.data;
        break;
      }
    } catch (e) {
      const cause = e instanceof ApiError ? e.message : String(e);
      lastError = `failed to request the cluster-info ConfigMap: Get "https://${endpoint}${PATH}?timeout=10s": ${cause}`;
    }
    const wait = Math.min(RETRY_MS, until - Date.now());
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
  }
  if (!data) throw fail(lastError);

  const kubeconfig = data.kubeconfig ?? '';
  const [header, , sig] = data[`jws-kubeconfig-${id}`].split('.');
  const expect = crypto
    .createHmac('sha256', secret)
    .update(`${header}.${Buffer.from(kubeconfig).toString('base64url')}`)
    .digest('base64url');
  if (expect !== sig)
    throw fail("failed to verify JWS signature of received cluster info object, can't trust this API Server");
  const kc = parseKubeconfig(kubeconfig);
  if (!unsafeSkip) {
    const actual = caCertHash(kc.caPem);
    if (!hashes.map((h) => h.toLowerCase()).includes(actual)) {
      throw fail(
        `cluster CA found in cluster-info ConfigMap is invalid: none of the public keys "${actual}" are pinned`,
      );
    }
  }
  return { caPem: kc.caPem, server: kc.server };
}
