// How the worker, the CLI and the codec server find Temporal: as Temporal's own tools do
// (@temporalio/envconfig, docs.temporal.io/develop/environment-configuration): the profile in
// temporal.toml (TEMPORAL_CONFIG_FILE, else ~/.config/temporalio/temporal.toml; TEMPORAL_PROFILE,
// else "default"), overridden by the TEMPORAL_* variables, overridden by our flags, which carry the
// temporal CLI's names. Every file is read and checked here, so a bad one is named before any dial.
import { createPrivateKey, X509Certificate } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import type { ParseArgsConfig } from 'node:util';
import type { ConnectionLike, TLSConfig } from '@temporalio/client';
import { type ClientConfigProfile, type ConfigDataSource, loadClientConfigProfile } from '@temporalio/envconfig';
import { readSecretFile } from '../common/secret-file';
import { SEARCH_ATTRIBUTES } from '../shared/definitions';
import { temporal } from '@temporalio/proto';

/** A connection setting that cannot work: the message names the setting and what to do. */
export class TemporalConfigError extends Error {
  override name = 'TemporalConfigError';
}

/** The connection flags every command and the worker take: the temporal CLI's names. */
export const CONNECTION_OPTIONS = {
  address: { type: 'string' },
  namespace: { type: 'string' },
  ui: { type: 'string' },
  profile: { type: 'string' },
  'config-file': { type: 'string' },
  'api-key-file': { type: 'string' },
  tls: { type: 'boolean' },
  'tls-cert-path': { type: 'string' },
  'tls-key-path': { type: 'string' },
  'tls-ca-path': { type: 'string' },
  'tls-server-name': { type: 'string' },
} as const satisfies NonNullable<ParseArgsConfig['options']>;

export const CONNECTION_HELP = `Temporal connection (as the temporal CLI reads it: the profile in temporal.toml, then TEMPORAL_*
variables, then these flags):
  --address HOST:PORT       frontend (TEMPORAL_ADDRESS; default localhost:7233)
  --namespace NAME          namespace (TEMPORAL_NAMESPACE; default "default")
  --profile NAME            profile in temporal.toml (TEMPORAL_PROFILE; default "default")
  --config-file PATH        the profiles file (TEMPORAL_CONFIG_FILE; default ~/.config/temporalio/temporal.toml)
  --api-key-file PATH       API key, read from a 0600 file so it never shows in ps (TEMPORAL_API_KEY); implies TLS
  --tls                     TLS with the system's CAs (TEMPORAL_TLS=true)
  --tls-cert-path PATH      client certificate for mTLS (TEMPORAL_TLS_CLIENT_CERT_PATH)
  --tls-key-path PATH       its private key (TEMPORAL_TLS_CLIENT_KEY_PATH)
  --tls-ca-path PATH        CA that signed the server's certificate (TEMPORAL_TLS_SERVER_CA_CERT_PATH)
  --tls-server-name NAME    name the server's certificate must carry (TEMPORAL_TLS_SERVER_NAME)
  --ui URL                  Web UI base for links (TEMPORAL_UI_URL; default http://localhost:8233)
Temporal Cloud with an API key:
  TEMPORAL_ADDRESS=<region>.<cloud>.api.temporal.io:7233 TEMPORAL_NAMESPACE=<ns>.<account> \\
  TEMPORAL_API_KEY=<key> kubeadm-ha start cluster.yaml
Temporal Cloud or a self-hosted server with mTLS:
  kubeadm-ha start cluster.yaml --address <ns>.<account>.tmprl.cloud:7233 --namespace <ns>.<account> \\
    --tls-cert-path client.pem --tls-key-path client.key`;

export type ConnectionFlags = {
  [K in keyof typeof CONNECTION_OPTIONS]?: (typeof CONNECTION_OPTIONS)[K] extends {
    type: 'boolean';
  }
    ? boolean
    : string;
};

/** The options both Connection (client) and NativeConnection (worker) take. */
export interface ConnectOptions {
  address: string;
  tls?: TLSConfig | boolean;
  apiKey?: string;
  metadata?: Record<string, string>;
}

export interface TemporalTarget {
  address: string;
  namespace: string;
  /** Web UI base URL, for links. */
  ui: string;
  connect: ConnectOptions;
  /** How it authenticates, for messages: "mTLS (client certificate /x/client.pem, ...)", "API key", "TLS", "plaintext". */
  auth: string;
}

/** The connection flags out of parsed arguments. */
export function connectionFlags(values: Record<string, unknown>): ConnectionFlags {
  const out: Record<string, unknown> = {};
  for (const k of Object.keys(CONNECTION_OPTIONS)) if (values[k] !== undefined) out[k] = values[k];
  return out as ConnectionFlags;
}

type Source = { setting: string; path?: string; data?: Uint8Array };

function sourceOf(setting: string, s: ConfigDataSource | undefined): Source | undefined {
  if (!s) return undefined;
  if ('path' in s) return { setting, path: s.path };
  return { setting, data: typeof s.data === 'string' ? Buffer.from(s.data) : s.data };
}

function read(s: Source): Buffer {
  if (s.data) return Buffer.from(s.data);
  try {
    return readFileSync(s.path!);
  } catch (err) {
    throw new TemporalConfigError(`${s.setting} ${s.path}: cannot read it (${(err as NodeJS.ErrnoException).code})`);
  }
}

const where = (s: Source) => (s.path ? `${s.setting} ${s.path}` : `${s.setting} (inline data)`);

/** The certificate's PEM, read once, after checking that it parses and is valid now. */
function certificate(s: Source, now: Date): { cert: X509Certificate; pem: Buffer } {
  const pem = read(s);
  let cert: X509Certificate;
  try {
    cert = new X509Certificate(pem);
  } catch (err) {
    if (err instanceof TemporalConfigError) throw err;
    throw new TemporalConfigError(`${where(s)}: not a PEM certificate (${(err as Error).message})`);
  }
  if (new Date(cert.validTo) < now)
    throw new TemporalConfigError(
      `${where(s)}: the certificate expired on ${new Date(cert.validTo).toISOString()}; get a new one`,
    );
  if (new Date(cert.validFrom) > now)
    throw new TemporalConfigError(
      `${where(s)}: the certificate is not valid before ${new Date(cert.validFrom).toISOString()} (is this machine's clock right?)`,
    );
  return { cert, pem };
}

function loadProfile(flags: ConnectionFlags, env: NodeJS.ProcessEnv): ClientConfigProfile {
  const overrideEnvVars = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined)) as Record<
    string,
    string
  >;
  const file = flags['config-file'] ?? env.TEMPORAL_CONFIG_FILE;
  if (flags['config-file']) {
    try {
      statSync(flags['config-file']);
    } catch (err) {
      throw new TemporalConfigError(
        `--config-file ${flags['config-file']}: cannot read it (${(err as NodeJS.ErrnoException).code})`,
      );
    }
  }
  const name = flags.profile ?? env.TEMPORAL_PROFILE;
  const load = (disableFile = false) =>
    loadClientConfigProfile({
      profile: name,
      overrideEnvVars,
      disableFile,
      ...(flags['config-file'] ? { configSource: { path: flags['config-file'] } } : {}),
    });
  try {
    return load();
  } catch (err) {
    // A file without any [profile.*] table (empty, say) makes envconfig 1.24 read a property of undefined:
    // it has no profiles, so only the variables count, as with no file.
    if (err instanceof TypeError && name === undefined) return load(true);
    const m = (err as Error).message;
    const inFile = file ?? '~/.config/temporalio/temporal.toml';
    if (/Profile '.*' not found/.test(m) || (err instanceof TypeError && name !== undefined))
      throw new TemporalConfigError(
        `profile "${name}" is not in ${inFile} (${flags.profile ? '--profile' : 'TEMPORAL_PROFILE'}); name one of its [profile.NAME] tables`,
      );
    throw new TemporalConfigError(`${inFile}: ${m}`);
  }
}

/** Where Temporal is and how to authenticate: profile, then environment, then flags; files read and checked. */
export function temporalTarget(flags: ConnectionFlags = {}, env: NodeJS.ProcessEnv = process.env): TemporalTarget {
  const p = loadProfile(flags, env);
  const address = flags.address ?? p.address ?? 'localhost:7233';
  const namespace = flags.namespace ?? p.namespace ?? 'default';
  const apiKey = flags['api-key-file']
    ? readSecretFile(flags['api-key-file'], '--api-key-file', (m) => new TemporalConfigError(m))
    : p.apiKey;
  const tls = { ...p.tls };
  if (flags.tls) tls.disabled = false;
  if (flags['tls-cert-path']) tls.clientCert = { path: flags['tls-cert-path'] };
  if (flags['tls-key-path']) tls.clientKey = { path: flags['tls-key-path'] };
  if (flags['tls-ca-path']) tls.serverCACert = { path: flags['tls-ca-path'] };
  if (flags['tls-server-name']) tls.serverName = flags['tls-server-name'];

  const cert = sourceOf('client certificate (--tls-cert-path, TEMPORAL_TLS_CLIENT_CERT_PATH)', tls.clientCert);
  const key = sourceOf('client key (--tls-key-path, TEMPORAL_TLS_CLIENT_KEY_PATH)', tls.clientKey);
  const ca = sourceOf('server CA (--tls-ca-path, TEMPORAL_TLS_SERVER_CA_CERT_PATH)', tls.serverCACert);
  if (Boolean(cert) !== Boolean(key))
    throw new TemporalConfigError(
      `mTLS needs both a client certificate and its key; only the ${cert ? 'certificate' : 'key'} is set (${where((cert ?? key)!)})`,
    );
  const wantsTls = tls.disabled === false || Boolean(cert || ca || tls.serverName) || apiKey !== undefined;
  if (tls.disabled === true && (cert || ca)) {
    throw new TemporalConfigError(
      'TLS is turned off (TEMPORAL_TLS=false or tls.disabled in the profile) but TLS files are set; drop one or the other',
    );
  }
  let tlsConfig: TLSConfig | undefined;
  let auth = 'plaintext';
  if (wantsTls && tls.disabled !== true) {
    const now = new Date();
    tlsConfig = {};
    if (ca) tlsConfig.serverRootCACertificate = certificate(ca, now).pem;
    if (tls.serverName) tlsConfig.serverNameOverride = tls.serverName;
    auth = 'TLS';
    if (cert && key) {
      const { cert: c, pem: crt } = certificate(cert, now);
      const keyPem = read(key);
      try {
        if (!c.checkPrivateKey(createPrivateKey(keyPem)))
          throw new TemporalConfigError(`${where(key)} is not the key of ${where(cert)}; pass the pair`);
      } catch (err) {
        if (err instanceof TemporalConfigError) throw err;
        throw new TemporalConfigError(`${where(key)}: not a PEM private key (${(err as Error).message})`);
      }
      tlsConfig.clientCertPair = { crt, key: keyPem };
      auth = `mTLS (client certificate ${cert.path ?? 'from the profile'}, subject ${c.subject.replace(/\n/g, ', ')})`;
    }
    if (apiKey !== undefined) auth = `API key${cert ? ` and ${auth}` : ''}`;
  }
  return {
    address,
    namespace,
    ui: (flags.ui ?? env.TEMPORAL_UI_URL ?? 'http://localhost:8233').replace(/\/$/, ''),
    connect: {
      address,
      ...(tlsConfig ? { tls: tlsConfig } : tls.disabled === true ? { tls: false } : {}),
      ...(apiKey !== undefined ? { apiKey } : {}),
      ...(p.grpcMeta ? { metadata: p.grpcMeta } : {}),
    },
    auth,
  };
}

export function workflowUrl(t: TemporalTarget, workflowId: string): string {
  return `${t.ui}/namespaces/${encodeURIComponent(t.namespace)}/workflows/${encodeURIComponent(workflowId)}`;
}

/**
 * Registers our search attributes (cluster name, phase) unless the server has them, so runs can be
 * found in the Web UI. The dev server and the compose setup both start without them.
 */
export async function ensureSearchAttributes(connection: ConnectionLike, namespace: string): Promise<void> {
  const have = await connection.operatorService.listSearchAttributes({ namespace });
  const missing = SEARCH_ATTRIBUTES.filter((k) => !(k.name in (have.customAttributes ?? {})));
  if (missing.length === 0) return;
  const searchAttributes = Object.fromEntries(
    missing.map((k) => [k.name, temporal.api.enums.v1.IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD]),
  );
  try {
    await connection.operatorService.addSearchAttributes({ namespace, searchAttributes });
  } catch (err) {
    if (!/already exists/i.test((err as Error).message)) throw err;
  }
}
