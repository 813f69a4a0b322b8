// Talking to the cluster with a kubeconfig, as kubeadm's API calls do (10s per request).
import * as fs from 'node:fs';
import { ExitError } from './errors';
import { ApiError, ApiResponse, apiRequest, hostPort } from './http';
import { LoadedKubeconfig, parseKubeconfig } from './kubeconfig';

export function loadKubeconfigFile(file: string, what = 'admin'): LoadedKubeconfig {
  try {
    return parseKubeconfig(fs.readFileSync(file, 'utf8'));
  } catch {
    throw new ExitError(`failed to load ${what} kubeconfig: open ${file}: no such file or directory`);
  }
}

export async function call(
  kc: LoadedKubeconfig,
  method: string,
  path: string,
  body?: unknown,
  timeoutMs = 10000,
): Promise<ApiResponse> {
  return apiRequest({
    server: kc.server,
    method,
    path,
    body,
    caPem: kc.caPem,
    certPem: kc.certPem,
    keyPem: kc.keyPem,
    timeoutMs,
  });
}

/** Go's url.Error text: `Post "https://host:port/path?timeout=10s": <cause>` */
export function urlError(method: string, server: string, path: string, e: unknown): string {
  const cause = e instanceof ApiError ? e.message : String((e as Error)?.message ?? e);
  const verb = method[0] + method.slice(1).toLowerCase();
  return `${verb} "https://${hostPort(server)}${path}?timeout=10s": ${cause}`;
}

/** Retries an API call (kubeadm's API helpers retry until their timeout). */
export async function callWithRetry(
  kc: LoadedKubeconfig,
  method: string,
  path: string,
  body: unknown,
  timeoutMs: number,
): Promise<ApiResponse> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    try {
      const r = await call(kc, method, path, body, Math.max(100, Math.min(10000, until - Date.now())));
      if (r.status < 500) return r;
      throw new ApiError(`the server returned ${r.status}`, 'other');
    } catch (e) {
      if (Date.now() + 500 >= until) throw e;
      await new Promise((r) => setTimeout(r, 500));
    }
  }
}
