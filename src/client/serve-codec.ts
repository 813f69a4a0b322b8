// `kubeadm-ha codec-server`: the payload codec over HTTP for the Web UI, refusing what would expose the key.
import { readSecretFile } from '../common/secret-file';
import { createCodecServer, isLoopback } from '../codec/codec-server';
import { EncryptionCodec } from '../codec/encryption-codec';
import { codecNotice, loadCodecKeys } from '../codec/keys';
import { connectionFlags, temporalTarget } from './connection';
import { UsageError } from './usage-error';

const str = (v: unknown) => (typeof v === 'string' ? v : undefined);

export async function serveCodec(
  v: Record<string, string | boolean | undefined>,
  print: (s: string) => void,
): Promise<number> {
  const port = Number(v.port ?? 8888);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new UsageError(`--port ${v.port}: not a port number`);
  const keys = loadCodecKeys();
  if (!keys.encryptKeyId)
    throw new UsageError(
      'the codec server needs the payload keys: set KUBEADM_HA_CODEC_KEY_FILE (or KUBEADM_HA_CODEC_KEY)',
    );
  const tokenFile = str(v['token-file']);
  // Private like the key file, and not empty.
  const token = tokenFile ? readSecretFile(tokenFile, '--token-file', (m) => new UsageError(m)) : undefined;
  // The Web UI of the Temporal the other commands use (--ui, TEMPORAL_UI_URL), unless named.
  const origins = (v.origin as unknown as string[] | undefined) ?? [
    new URL(temporalTarget(connectionFlags(v)).ui).origin,
  ];
  const host = str(v.listen) ?? '127.0.0.1';
  if (!isLoopback(host) && token === undefined) {
    throw new UsageError(
      `--listen ${host} reaches beyond this machine: anyone who reaches it could encrypt and decrypt with the payload key; add --token-file PATH`,
    );
  }
  const server = createCodecServer({
    codec: new EncryptionCodec(keys, 'this codec server', 'show'),
    origins,
    token,
    log: (s) => print(`codec-server: ${s}`),
  });
  await new Promise<void>((res, rej) => {
    server.once('error', rej);
    server.listen(port, host, res);
  });
  const { port: bound } = server.address() as { port: number };
  print(
    `codec-server: http://${host}:${bound} for ${origins.join(', ')}; ${codecNotice(keys)}${token ? '; Authorization required' : ''}`,
  );
  await new Promise<void>((res) => {
    const stop = () => server.close(() => res());
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
  return 0;
}
