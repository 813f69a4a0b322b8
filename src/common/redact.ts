// The two engines of the redaction rules (./redact-rules.ts, which says why there are two): redact()
// and StreamRedactor in JavaScript for what the worker logs and persists, sedScript() for output
// journaled on the host.
import { MASK, PEM_BEGIN, PEM_END, RULES, S } from './redact-rules';

// ---- JavaScript engine -------------------------------------------------------------------------

const POSIX_CLASSES: Record<string, string> = { space: ' \\t\\n\\r\\f\\v', xdigit: '0-9A-Fa-f', alnum: '0-9A-Za-z' };

/** ERE subset -> JavaScript source: POSIX classes expanded, `.` never matches a newline (sed's lines have none). */
export function toJs(ere: string): string {
  let out = '';
  for (let i = 0; i < ere.length; i++) {
    const c = ere[i];
    if (c === '\\') {
      out += ere.slice(i, i + 2);
      i++;
      continue;
    }
    if (c === '.') {
      out += '[^\\n]';
      continue;
    }
    if (c !== '[') {
      out += c;
      continue;
    }
    // Bracket expression: backslash is literal in POSIX, so escape it for JavaScript.
    let j = i + 1;
    let body = '';
    if (ere[j] === '^') {
      body += '^';
      j++;
    }
    if (ere[j] === ']') {
      body += '\\]';
      j++;
    }
    while (j < ere.length && ere[j] !== ']') {
      const m = /^\[:([a-z]+):\]/.exec(ere.slice(j));
      if (m) {
        const cls = POSIX_CLASSES[m[1]];
        if (cls === undefined) throw new Error(`unsupported POSIX class [:${m[1]}:]`);
        body += cls;
        j += m[0].length;
      } else {
        // GNU sed reads \n, \t ... and \\ inside a list as escapes; any other backslash is literal.
        if (ere[j] === '\\' && /[ntrfv]/.test(ere[j + 1] ?? '')) {
          body += ere.slice(j, j + 2);
          j += 2;
          continue;
        }
        if (ere[j] === '\\') {
          body += '\\\\';
          j += ere[j + 1] === '\\' ? 2 : 1;
          continue;
        }
        body += ere[j];
        j++;
      }
    }
    if (j >= ere.length) throw new Error(`unterminated bracket expression in ${ere}`);
    out += `[${body}]`;
    i = j;
  }
  return out;
}

/** sed replacement (\1, &) -> String.prototype.replace replacement ($1, $&). */
function toJsReplacement(sed: string): string {
  return sed
    .replace(/\$/g, '$$$$')
    .replace(/\\(\d)/g, '$$$1')
    .replace(/&/g, '$$&');
}

const JS_RULES = RULES.map((r) => ({ re: new RegExp(toJs(r.pattern), 'g'), replace: toJsReplacement(r.replace) }));
const JS_BEGIN = new RegExp(toJs(PEM_BEGIN));
const JS_BEGIN_REST = new RegExp(`(${toJs(PEM_BEGIN)}).+$`);
const JS_ONE_LINE = new RegExp(`(${toJs(PEM_BEGIN)})[^\\n]*(${toJs(PEM_END)})`, 'g');
const JS_END = new RegExp(toJs(PEM_END));
const JS_END_PREFIX = new RegExp(`^([ \\t\\r\\f\\v]*)[^ \\t\\n\\r\\f\\v][^\\n]*(${toJs(PEM_END)})`);
const BASE64_LINE = /^[ \t]*[A-Za-z0-9+/]+={0,2}[ \t\r]*$/;

function applyRules(line: string): string {
  let s = line;
  for (const r of JS_RULES) s = s.replace(r.re, r.replace);
  return s;
}

type PemState = '' | 'B' | 'M';

/**
 * One line through the PEM state machine, then the rules; null = line dropped. The same machine
 * as the sed program: BEGIN line kept (text after the marker masked), first body line becomes
 * `***` (indent kept), later body lines are dropped, END line kept (text before it masked).
 */
function redactLine(line: string, st: { pem: PemState }): string | null {
  if (st.pem !== '') {
    if (JS_END.test(line)) {
      st.pem = '';
      return applyRules(line.replace(JS_END_PREFIX, `$1${MASK}$2`));
    }
    if (st.pem === 'B') {
      st.pem = 'M';
      return line.replace(/^([ \t\r\f\v]*)[^\n]*$/, `$1${MASK}`);
    }
    return null;
  }
  if (JS_BEGIN.test(line)) {
    JS_ONE_LINE.lastIndex = 0;
    if (JS_ONE_LINE.test(line)) return applyRules(line.replace(JS_ONE_LINE, `$1${MASK}$2`));
    st.pem = 'B';
    return applyRules(line.replace(JS_BEGIN_REST, `$1${MASK}`));
  }
  return applyRules(line);
}

/**
 * Redacts a whole text (many lines). Body lines of a block whose BEGIN was cut off before the
 * text starts (a tail of output) are masked too: base64 lines right before an orphan END.
 */
export function redact(text: string): string {
  if (!text) return text;
  const trailingNewline = text.endsWith('\n');
  const lines = (trailingNewline ? text.slice(0, -1) : text).split('\n');
  const st = { pem: '' as PemState };
  const out: string[] = [];
  // How many of the last entries of out are base64-looking lines passed through unchanged.
  let b64Run = 0;
  for (const line of lines) {
    if (st.pem === '' && !JS_BEGIN.test(line) && JS_END.test(line)) {
      // Orphan END: withdraw the base64 lines just before it.
      if (b64Run > 0) out.splice(out.length - b64Run, b64Run, MASK);
      b64Run = 0;
      out.push(applyRules(line.replace(JS_END_PREFIX, `$1${MASK}$2`)));
      continue;
    }
    const wasOutside = st.pem === '';
    const r = redactLine(line, st);
    if (r === null) continue;
    b64Run = wasOutside && st.pem === '' && r === line && BASE64_LINE.test(line) ? b64Run + 1 : 0;
    out.push(r);
  }
  return out.join('\n') + (trailingNewline ? '\n' : '');
}

/**
 * Streaming redaction for output that arrives in chunks: whole lines only, so a secret or a PEM
 * block split across chunks is still recognised. push() returns the redacted complete lines (each
 * ending in '\n'); end() the redacted rest. A line longer than maxLine is cut there and treated
 * as a line (a 64 KiB line without a newline is not a kubeadm secret).
 */
export class StreamRedactor {
  private carry = '';
  private readonly st = { pem: '' as PemState };
  constructor(private readonly maxLine = 64 * 1024) {}

  push(chunk: string): string {
    let text = this.carry + chunk;
    let out = '';
    for (;;) {
      let nl = text.indexOf('\n');
      if (nl < 0 && text.length > this.maxLine) nl = this.maxLine - 1;
      if (nl < 0) break;
      const cut = text[nl] === '\n';
      const r = redactLine(text.slice(0, cut ? nl : nl + 1), this.st);
      if (r !== null) out += `${r}\n`;
      text = text.slice(nl + 1);
    }
    this.carry = text;
    return out;
  }

  end(): string {
    const rest = this.carry;
    this.carry = '';
    if (!rest) return '';
    return redactLine(rest, this.st) ?? '';
  }
}

// ---- sed engine ---------------------------------------------------------------------------------

/**
 * The same machine as GNU sed -E text (run with LC_ALL=C). The PEM state lives in the hold space
 * ('' outside a block, B after BEGIN, M once the body's *** was printed); G appends it to the line.
 */
export function sedScript(): string {
  const esc = (s: string) => s.replace(/\//g, '\\/');
  return [
    'G',
    '/\\n[BM]$/{',
    `/${esc(PEM_END)}.*\\n[BM]$/{`,
    `s/^(${S}*)[^[:space:]][^\\n]*(${esc(PEM_END)})/\\1${MASK}\\2/`,
    's/\\n[BM]$//',
    'x',
    's/.*//',
    'x',
    'b rules',
    '}',
    '/\\nB$/{',
    'x',
    's/.*/M/',
    'x',
    `s/^([ \\t\\r\\f\\v]*)[^\\n]*\\n.*/\\1${MASK}/`,
    'b',
    '}',
    'd',
    '}',
    's/\\n$//',
    // Resets the t flag, which the s just above has set.
    't clear',
    ':clear',
    `/${esc(PEM_BEGIN)}/{`,
    `s/(${esc(PEM_BEGIN)})[^\\n]*(${esc(PEM_END)})/\\1${MASK}\\2/g`,
    't rules',
    `s/(${esc(PEM_BEGIN)}).+$/\\1${MASK}/`,
    'x',
    's/.*/B/',
    'x',
    '}',
    ':rules',
    ...RULES.map((r) => `s/${esc(r.pattern)}/${r.replace}/g`),
  ].join('\n');
}
