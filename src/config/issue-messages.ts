// From zod's issues to the cluster file's messages: each names its field as written
// (etcd.hosts[1].address), says what is wrong in words, and for an unknown key the key meant.
import type { z } from 'zod';
import { clusterFileSchema } from './schema';
import { describe, didYouMean, isObject, list, type Raw, show, showKey } from './text';

const EXPECTED: Record<string, string> = {
  string: 'a string (quote it if YAML reads it as a number or true/false)',
  number: 'a number',
  int: 'a whole number',
  boolean: 'true or false',
  object: 'a mapping (key: value)',
  array: 'a list',
};

/** Messages for zod's issues where the schema gives none; the field path is prefixed later. */
export function defaultMessage(iss: z.core.$ZodRawIssue): string | undefined {
  const i = iss as unknown as {
    code: string;
    input?: unknown;
    expected?: string;
    values?: unknown[];
    origin?: string;
    minimum?: number | bigint;
    maximum?: number | bigint;
  };
  const len = Array.isArray(i.input) || typeof i.input === 'string' ? i.input.length : undefined;
  switch (i.code) {
    case 'invalid_type':
      return i.input === undefined
        ? 'missing; it is required'
        : `must be ${EXPECTED[i.expected ?? ''] ?? i.expected}, got ${describe(i.input)}`;
    case 'invalid_value': {
      const values = (i.values ?? []).map(String);
      const near = typeof i.input === 'string' ? didYouMean(i.input, values) : undefined;
      return `${show(i.input)} is unknown; use one of ${values.join(', ')}${near ? `; did you mean ${near}?` : ''}`;
    }
    case 'too_small':
      if (i.origin === 'string' && Number(i.minimum) === 1) return 'missing; it is required';
      if (i.origin === 'array') return `needs at least ${i.minimum}, found ${len}`;
      return `${show(i.input)} is too small; the least is ${i.minimum}`;
    case 'too_big':
      if (i.origin === 'array') return `has ${len} entries; at most ${i.maximum} are allowed`;
      if (i.origin === 'string') return `is ${len} characters long; at most ${i.maximum} are allowed`;
      return `${show(i.input)} is too big; the most is ${i.maximum}`;
    case 'unrecognized_keys':
      return 'unknown field';
    default:
      return undefined;
  }
}

let KNOWN: Map<string, string[]> | undefined;
const EXISTING_ETCD_KEYS = ['endpoints', 'caFile', 'certFile', 'keyFile'];

function fieldName(path: readonly PropertyKey[]): string {
  return path.map((k, i) => (typeof k === 'number' ? `[${k}]` : `${i === 0 ? '' : '.'}${showKey(String(k))}`)).join('');
}

function at(doc: unknown, path: readonly PropertyKey[]): unknown {
  return path.reduce<unknown>(
    (v, k) => (v !== null && typeof v === 'object' ? (v as Raw)[k as string] : undefined),
    doc,
  );
}

export function issueProblems(issues: readonly z.core.$ZodIssue[], doc: Raw, base: PropertyKey[]): string[] {
  const out: string[] = [];
  for (const issue of issues) {
    const path = [...base, ...issue.path];
    if (issue.code === 'invalid_union') {
      // etcd is the only union: the form the user meant is the one with hosts, or else the existing cluster.
      const v = at(doc, path);
      const branch = isObject(v) && 'hosts' in v ? issue.errors[0] : issue.errors[issue.errors.length - 1];
      out.push(...issueProblems(branch, doc, path));
    } else if (issue.code === 'unrecognized_keys') {
      for (const key of issue.keys) out.push(`${fieldName([...path, key])}: ${unknownKey(key, path, doc)}`);
    } else {
      out.push(`${fieldName(path) || '(top level)'}: ${issue.message}`);
    }
  }
  return out;
}

/** "unknown field; did you mean port?", or what the mapping takes. */
function unknownKey(key: string, path: readonly PropertyKey[], doc: Raw): string {
  KNOWN ??= knownKeys();
  const where = path
    .map((k) => (typeof k === 'number' ? '[]' : String(k)))
    .join('.')
    .replace(/\.\[\]/g, '[]');
  const isEtcd = where === 'etcd';
  const built = isEtcd && isObject(doc.etcd) && 'hosts' in doc.etcd;
  const known = isEtcd ? (built ? ['hosts'] : EXISTING_ETCD_KEYS) : (KNOWN.get(where) ?? []);
  const near = didYouMean(key, known);
  if (near) return `unknown field; did you mean ${near}?`;
  // The right key in the wrong place: "podSubnet" at the top level is networking.podSubnet.
  if (key.length <= 64) {
    for (const [p, keys] of KNOWN) {
      const hit = p !== where && !p.includes('[]') && keys.find((k) => k.toLowerCase() === key.toLowerCase());
      if (hit) return `unknown field here; did you mean ${p ? `${p}.` : ''}${hit}?`;
    }
  }
  if (isEtcd) {
    return built
      ? 'unknown field next to etcd.hosts; an etcd cluster kubeadm-ha builds takes only hosts'
      : 'unknown field; an existing etcd cluster takes endpoints, caFile, certFile and keyFile (or give hosts for kubeadm-ha to build one)';
  }
  if (where === '') return `unknown field; known fields are ${known.join(', ')}`;
  return `unknown field; ${fieldName(path)} takes ${list(known)}`;
}

/** Keys each mapping takes, by field path ("" for the top level, "etcd" for the etcd forms), for "did you mean". */
function knownKeys(): Map<string, string[]> {
  const out = new Map<string, string[]>();
  const walk = (s: z.ZodType, at: string) => {
    const def = (
      s as unknown as {
        _zod: {
          def: {
            type: string;
            innerType?: z.ZodType;
            element?: z.ZodType;
            options?: z.ZodType[];
            shape?: Record<string, z.ZodType>;
          };
        };
      }
    )._zod.def;
    if (def.innerType) return walk(def.innerType, at);
    if (def.type === 'array' && def.element) return walk(def.element, `${at}[]`);
    if (def.type === 'union' && def.options) return def.options.forEach((o) => walk(o, at));
    if (def.type === 'object' && def.shape) {
      out.set(at, [...(out.get(at) ?? []), ...Object.keys(def.shape)]);
      for (const [k, v] of Object.entries(def.shape)) walk(v, at ? `${at}.${k}` : k);
    }
  };
  walk(clusterFileSchema, '');
  return out;
}
