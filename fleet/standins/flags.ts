// Minimal cobra/pflag-like parsing: --name value, --name=value, bool flags, shorthands,
// and cobra's texts for unknown flags.
import { ExitError } from './errors';

export type FlagKind = 'bool' | 'string' | 'list';
export interface FlagSpec {
  [name: string]: FlagKind;
}

export interface Parsed {
  values: Map<string, string | boolean | string[]>;
  /** Flag names in the order given (for --config mixing errors). */
  given: string[];
  args: string[];
}

export function parseFlags(
  argv: string[],
  spec: FlagSpec,
  shorthands: Record<string, string> = {},
  hint = true,
): Parsed {
  const values = new Map<string, string | boolean | string[]>();
  const given: string[] = [];
  const args: string[] = [];
  const set = (name: string, raw: string | undefined, next: () => string | undefined, display: string): void => {
    const kind = spec[name];
    if (!kind) throw new ExitError(`unknown flag: ${display}`, 1, hint);
    if (!given.includes(name)) given.push(name);
    if (kind === 'bool') {
      values.set(name, raw === undefined ? true : raw === 'true');
      return;
    }
    const v = raw ?? next();
    if (v === undefined) throw new ExitError(`flag needs an argument: ${display}`, 1, hint);
    if (kind === 'list') values.set(name, [...((values.get(name) as string[]) ?? []), ...v.split(',')]);
    else values.set(name, v);
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const next = (): string | undefined => (i + 1 < argv.length ? argv[++i] : undefined);
    if (a === '--') {
      args.push(...argv.slice(i + 1));
      break;
    } else if (a.startsWith('--')) {
      const eq = a.indexOf('=');
      const name = eq > 0 ? a.slice(2, eq) : a.slice(2);
      set(name, eq > 0 ? a.slice(eq + 1) : undefined, next, eq > 0 ? a.slice(0, eq) : a);
    } else if (a.startsWith('-') && a.length > 1) {
      const c = a[1];
      const long = shorthands[c];
      if (!long) throw new ExitError(`unknown shorthand flag: '${c}' in ${a}`, 1, hint);
      const rest = a.slice(2).replace(/^=/, '');
      set(long, rest || undefined, next, a);
    } else args.push(a);
  }
  return { values, given, args };
}

export const str = (p: Parsed, n: string): string | undefined => p.values.get(n) as string | undefined;
export const bool = (p: Parsed, n: string): boolean => p.values.get(n) === true;
export const list = (p: Parsed, n: string): string[] => (p.values.get(n) as string[] | undefined) ?? [];
