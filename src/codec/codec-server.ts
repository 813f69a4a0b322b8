// The codec server the Temporal Web UI (and `temporal --codec-endpoint`) calls to show payloads
// decrypted in the browser, without the key ever reaching the Temporal server:
// POST /encode and POST /decode with {"payloads": [{"metadata": {k: base64}, "data": base64}]},
// CORS for the UI's origin (preflight included), optionally an Authorization token.
// https://docs.temporal.io/production-deployment/data-encryption#codec-server
// https://github.com/temporalio/samples-typescript/blob/main/encryption/src/codec-server.ts
import { timingSafeEqual } from 'node:crypto';
import { createServer, IncomingMessage, Server, ServerResponse } from 'node:http';
import type { Payload, PayloadCodec } from '@temporalio/common';

/** A Payload in proto3 JSON, as the Web UI sends it and `temporal workflow show --output json` prints it. */
export interface JsonPayload {
  metadata?: Record<string, string>;
  data?: string;
}

export const fromJsonPayload = (p: JsonPayload): Payload => ({
  metadata: Object.fromEntries(Object.entries(p.metadata ?? {}).map(([k, v]) => [k, Buffer.from(v, 'base64')])),
  data: Buffer.from(p.data ?? '', 'base64'),
});
export const toJsonPayload = (p: Payload): JsonPayload => ({
  metadata: Object.fromEntries(
    Object.entries(p.metadata ?? {}).map(([k, v]) => [k, Buffer.from(v ?? []).toString('base64')]),
  ),
  data: Buffer.from(p.data ?? []).toString('base64'),
});

/** Every payload in a JSON document (a history, a describe answer): objects whose metadata has an encoding. */
export function jsonPayloads(doc: unknown, out: JsonPayload[] = []): JsonPayload[] {
  if (Array.isArray(doc)) doc.forEach((d) => jsonPayloads(d, out));
  else if (doc && typeof doc === 'object') {
    const m = (doc as JsonPayload).metadata;
    if (m && typeof m === 'object' && typeof m.encoding === 'string') out.push(doc as JsonPayload);
    else Object.values(doc).forEach((d) => jsonPayloads(d, out));
  }
  return out;
}

export interface CodecServerOptions {
  codec: PayloadCodec;
  /** Origins allowed by CORS (the Web UI's), e.g. http://localhost:8233. */
  origins: string[];
  /** When set, requests must carry `Authorization: Bearer <token>` (or the bare token). */
  token?: string;
  log?: (s: string) => void;
}

const MAX_BODY = 8 << 20;

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((res, rej) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > MAX_BODY) {
        rej(new Error('request body over 8 MiB'));
        req.destroy();
      } else chunks.push(c);
    });
    req.on('end', () => res(Buffer.concat(chunks).toString('utf8')));
    req.on('error', rej);
  });
}

function tokenMatches(header: string | undefined, token: string): boolean {
  const given = Buffer.from((header ?? '').replace(/^Bearer\s+/i, ''));
  const want = Buffer.from(token);
  return given.length === want.length && timingSafeEqual(given, want);
}

export function createCodecServer(o: CodecServerOptions): Server {
  const log = o.log ?? (() => undefined);
  return createServer(async (req: IncomingMessage, res: ServerResponse) => {
    const origin = req.headers.origin;
    const allowedOrigin = origin === undefined || o.origins.includes(origin);
    if (origin && allowedOrigin) {
      res.setHeader('Access-Control-Allow-Origin', origin);
      res.setHeader('Access-Control-Allow-Credentials', 'true');
      res.setHeader('Access-Control-Allow-Methods', 'POST, OPTIONS');
      res.setHeader('Access-Control-Allow-Headers', 'Content-Type, X-Namespace, Authorization');
      res.setHeader('Access-Control-Max-Age', '600');
      res.setHeader('Vary', 'Origin');
    }
    const send = (status: number, body?: unknown) => {
      if (body === undefined) {
        res.writeHead(status).end();
        return;
      }
      res.writeHead(status, { 'Content-Type': 'application/json' }).end(JSON.stringify(body));
    };
    const path = (req.url ?? '').split('?')[0].replace(/\/+$/, '');
    // Against DNS rebinding: on loopback (where no token is required) only this machine's own
    // names are accepted, so a page on another site whose name resolves to 127.0.0.1 is refused.
    const local = (req.socket.localAddress ?? '').replace(/^::ffff:/, '');
    if (
      isLoopback(local) &&
      !acceptedHosts(local, req.socket.localPort ?? 0).includes((req.headers.host ?? '').toLowerCase())
    ) {
      return send(421, { message: `Host "${req.headers.host ?? ''}" is not this codec server's` });
    }
    // A browser page from another origin is refused outright, not only left without CORS headers:
    // the request would still reach the codec (and could encode) before the browser hid the answer.
    if (!allowedOrigin)
      return send(403, { message: `origin ${origin} is not allowed; start the server with --origin ${origin}` });
    if (req.method === 'OPTIONS') return send(origin ? 204 : 403);
    if (req.method !== 'POST' || (path !== '/encode' && path !== '/decode'))
      return send(404, { message: 'POST /encode or /decode' });
    if (o.token !== undefined && !tokenMatches(req.headers.authorization, o.token))
      return send(401, { message: 'missing or wrong Authorization token' });
    try {
      const body = JSON.parse(await readBody(req)) as { payloads?: JsonPayload[] };
      if (!Array.isArray(body.payloads)) return send(400, { message: 'expected {"payloads": [...]}' });
      const payloads = body.payloads.map(fromJsonPayload);
      const out = path === '/encode' ? await o.codec.encode(payloads) : await o.codec.decode(payloads);
      log(`${path.slice(1)} ${payloads.length} payload(s) (namespace ${req.headers['x-namespace'] ?? '-'})`);
      return send(200, { payloads: out.map(toJsonPayload) });
    } catch (err) {
      log(`${path.slice(1)} failed: ${(err as Error).message}`);
      return send(400, { message: (err as Error).message });
    }
  });
}

/** Loopback addresses: a codec server there is reached only from this machine. */
export function isLoopback(host: string): boolean {
  const h = host.replace(/^\[(.*)\]$/, '$1').toLowerCase();
  return h === 'localhost' || h === '::1' || /^127\.\d+\.\d+\.\d+$/.test(h);
}

/** The Host header values a server listening on host:port answers to. */
function acceptedHosts(host: string, port: number): string[] {
  const names = isLoopback(host) ? ['localhost', '127.0.0.1', '[::1]'] : [];
  const own = host.includes(':') && !host.startsWith('[') ? `[${host}]` : host;
  return [...new Set([own.toLowerCase(), ...names])].map((h) => `${h}:${port}`);
}
