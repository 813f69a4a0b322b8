// Text from the cluster file, made safe to print, and "did you mean" for misspelt keys and values.

/** Longest value echoed in a message, in characters; longer ones are cut with a note. */
export const MAX_ECHO = 80;

// C0 controls, DEL, C1 controls, the line/paragraph separators and the bidirectional overrides
// ("Trojan Source", CVE-2021-42574): none of them is ever written raw to a terminal.
// eslint-disable-next-line no-control-regex -- matching control characters is the point
const UNSAFE = /[\u0000-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069\ufeff]/g;
const NAMED: Record<string, string> = { '\0': '\\0', '\n': '\\n', '\r': '\\r', '\t': '\\t', '\u001b': '\\u001b' };

/** Control and bidi characters as escapes (\0, \n, \u001b ...); everything else unchanged. */
export function escapeControls(s: string): string {
  return s.replace(UNSAFE, (c) => NAMED[c] ?? `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

function cut(s: string, max = MAX_ECHO): string {
  const chars = Array.from(s);
  return chars.length <= max ? s : `${chars.slice(0, max).join('')}...(${chars.length - max} more characters)`;
}

/** A value from the file as it appears in a message: strings quoted, escaped and cut; others in JSON-ish form. */
export function show(v: unknown): string {
  if (typeof v === 'string') return `"${escapeControls(cut(v)).replace(/"/g, '\\"')}"`;
  if (typeof v === 'number' || typeof v === 'boolean' || v === null) return String(v);
  if (v === undefined) return 'nothing';
  if (Array.isArray(v)) return `a list of ${v.length}`;
  if (typeof v === 'object') return 'a mapping';
  return typeof v;
}

/** A key from the file inside a field path: bare when it is a plain identifier, else quoted and escaped. */
export function showKey(k: string): string {
  return /^[A-Za-z0-9_-]{1,64}$/.test(k) ? k : show(k);
}

/** What a value is, for "must be a string, got ..." */
export function describe(v: unknown): string {
  if (v === null || v === undefined) return 'an empty value';
  if (Array.isArray(v)) return 'a list';
  if (typeof v === 'object') return 'a mapping';
  if (typeof v === 'string') return `the text ${show(v)}`;
  return `${typeof v === 'number' ? 'the number' : typeof v} ${show(v)}`;
}

const norm = (s: string) => s.toLowerCase().replace(/[-_\s]/g, '');

/** Optimal string alignment distance (Levenshtein plus adjacent transposition: "prot" is 1 from "port"). */
export function editDistance(a: string, b: string): number {
  const d: number[][] = Array.from({ length: a.length + 1 }, (_, i) => [i, ...Array<number>(b.length).fill(0)]);
  for (let j = 1; j <= b.length; j++) d[0][j] = j;
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      d[i][j] = Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1])
        d[i][j] = Math.min(d[i][j], d[i - 2][j - 2] + 1);
    }
  }
  return d[a.length][b.length];
}

/**
 * The known word closest to `word`, ignoring case, '-' and '_', when it is near enough to be a typo:
 * 1 edit for words up to 4 characters, 2 up to 8, else 3. Long input is never compared (bounded work).
 */
export function didYouMean(word: string, known: readonly string[]): string | undefined {
  if (word.length > 64) return undefined;
  const w = norm(word);
  let best: { k: string; d: number } | undefined;
  for (const k of known) {
    const d = editDistance(w, norm(k));
    const limit = k.length <= 4 ? 1 : k.length <= 8 ? 2 : 3;
    if (d <= limit && (!best || d < best.d)) best = { k, d };
  }
  return best?.k;
}

/** "a, b and c" */
export function list(words: readonly string[], last = 'and'): string {
  return words.length <= 1 ? words.join('') : `${words.slice(0, -1).join(', ')} ${last} ${words[words.length - 1]}`;
}

/** A parsed YAML mapping, before validation. */
export type Raw = Record<string, unknown>;

export function isObject(v: unknown): v is Raw {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
