// Opening the connection to Temporal with a clear failure within seconds: the address is probed first
// (TCP, then HTTP/2, over TLS when configured: the handshake names a certificate problem), then the
// SDK connects and the namespace is described, which is where a wrong API key or namespace shows.
import { Connection } from '@temporalio/client';
import { type TemporalTarget, TemporalConfigError } from './connection';
import { messageWithCauses, unreachableReason } from './reach';

const PROBE_MS = 3000;
/** gRPC status codes (grpc.io/docs/guides/status-codes). */
const grpcStatus = { NOT_FOUND: 5, PERMISSION_DENIED: 7, UNAUTHENTICATED: 16 } as const;

/** What a refused call means, from its gRPC status, for this target. */
export function refusalReason(err: unknown, t: TemporalTarget): string | undefined {
  // The SDK wraps the call's error ("Failed to connect to Temporal server: 7 PERMISSION_DENIED: ..."):
  // the status and the server's words are the innermost error's with a code.
  let code: number | undefined;
  let detail = messageWithCauses(err);
  for (let e: unknown = err, depth = 0; e && depth < 5; e = (e as { cause?: unknown }).cause, depth++) {
    const c = (e as { code?: unknown }).code;
    if (typeof c === 'number') {
      code = c;
      detail = (e as Error).message;
    }
  }
  detail = detail.replace(/^.*?\d+ [A-Z_]+: /, '');
  if (code === grpcStatus.NOT_FOUND && /namespace/i.test(detail))
    return `namespace "${t.namespace}" does not exist on ${t.address} (${detail}); create it (temporal operator namespace create ${t.namespace}) or set --namespace (TEMPORAL_NAMESPACE)`;
  if (code === grpcStatus.UNAUTHENTICATED || code === grpcStatus.PERMISSION_DENIED)
    return `${t.address} refused the credentials (${t.auth}): ${detail}; check the API key (--api-key-file, TEMPORAL_API_KEY) or the client certificate, and that it is allowed on namespace "${t.namespace}"`;
  return undefined;
}

/** A client connection that works, with the namespace checked; or a TemporalConfigError saying why not. */
export async function openConnection(t: TemporalTarget): Promise<Connection> {
  const tls = t.connect.tls ?? (t.connect.apiKey !== undefined ? true : undefined);
  const unreachable = await unreachableReason(t.address, PROBE_MS, tls);
  if (unreachable)
    throw new TemporalConfigError(
      `cannot reach Temporal at ${t.address} (${t.auth}): ${unreachable}; start it (npm run server) or set --address (TEMPORAL_ADDRESS)`,
    );
  let connection: Connection;
  try {
    connection = await Connection.connect({ ...t.connect, connectTimeout: '5s' });
  } catch (err) {
    throw new TemporalConfigError(
      refusalReason(err, t) ?? `cannot connect to Temporal at ${t.address} (${t.auth}): ${messageWithCauses(err)}`,
    );
  }
  try {
    await connection.workflowService.describeNamespace({ namespace: t.namespace });
  } catch (err) {
    await connection.close();
    throw new TemporalConfigError(
      refusalReason(err, t) ??
        `Temporal at ${t.address} did not describe namespace "${t.namespace}": ${messageWithCauses(err)}`,
    );
  }
  return connection;
}
