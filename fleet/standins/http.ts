// HTTPS client used by the stand-ins to talk to the (stand-in) API server, usually through the
// load balancer. Errors are rendered the way Go's net/http renders them, because kubeadm/kubectl
// print those texts.
import * as https from 'node:https';

export interface ApiRequest {
  server: string; // https://host:port
  method?: string;
  path: string;
  body?: unknown;
  caPem?: string;
  insecure?: boolean;
  certPem?: string;
  keyPem?: string;
  bearer?: string;
  timeoutMs: number;
}

export interface ApiResponse {
  status: number;
  body: unknown;
}

export class ApiError extends Error {
  constructor(
    /** Go-style cause, e.g. "dial tcp 1.2.3.4:6443: connect: connection refused" */
    message: string,
    readonly kind: 'refused' | 'timeout' | 'eof' | 'tls' | 'other',
  ) {
    super(message);
  }
}

export function hostPort(server: string): string {
  return server.replace(/^https?:\/\//, '').replace(/\/.*$/, '');
}

export function apiRequest(r: ApiRequest): Promise<ApiResponse> {
  const u = new URL(r.path, r.server);
  const hp = hostPort(r.server);
  return new Promise((resolve, reject) => {
    let settled = false;
    const fail = (e: ApiError): void => {
      if (!settled) {
        settled = true;
        reject(e);
      }
    };
    const payload = r.body === undefined ? undefined : JSON.stringify(r.body);
    const req = https.request(
      {
        host: u.hostname,
        port: u.port || 443,
        path: u.pathname + u.search,
        method: r.method ?? 'GET',
        ca: r.caPem || undefined,
        cert: r.certPem,
        key: r.keyPem,
        rejectUnauthorized: !r.insecure,
        agent: false,
        headers: {
          accept: 'application/json',
          ...(payload ? { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) } : {}),
          ...(r.bearer ? { authorization: `Bearer ${r.bearer}` } : {}),
        },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          if (settled) return;
          settled = true;
          clearTimeout(timer);
          const text = Buffer.concat(chunks).toString('utf8');
          let body: unknown = text;
          try {
            body = JSON.parse(text);
          } catch {
            /* plain text */
          }
          resolve({ status: res.statusCode ?? 0, body });
        });
        res.on('error', () => fail(new ApiError('unexpected EOF', 'eof')));
      },
    );
    const timer = setTimeout(() => {
      fail(new ApiError('context deadline exceeded', 'timeout'));
      req.destroy();
    }, r.timeoutMs);
    req.on('error', (e: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      if (e.code === 'ECONNREFUSED') fail(new ApiError(`dial tcp ${hp}: connect: connection refused`, 'refused'));
      else if (e.code === 'ECONNRESET' || e.message === 'socket hang up') fail(new ApiError('EOF', 'eof'));
      else if (e.code === 'EHOSTUNREACH') fail(new ApiError(`dial tcp ${hp}: connect: no route to host`, 'other'));
      else if (/certificate|self.signed|SSL|altname/i.test(e.message))
        fail(new ApiError(`tls: failed to verify certificate: ${e.message}`, 'tls'));
      else fail(new ApiError(e.message, 'other'));
    });
    if (payload) req.write(payload);
    req.end();
  });
}
