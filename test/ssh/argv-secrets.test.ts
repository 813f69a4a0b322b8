// Tokens and certificate keys reach hosts only through stdin or 0600 files, never argv. The fleet's
// kubeadm invocation log checks the argv kubeadm really got (test/e2e); this is the unit-level
// check on the commands we build: every command text in the activities (run, check, journaled
// command/guard) is scanned, and none may interpolate a secret-carrying value.
import { it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

function srcDir(): string {
  for (let d = __dirname; dirname(d) !== d; d = dirname(d)) {
    const c = join(d, 'src', 'activities');
    if (existsSync(join(d, 'package.json')) && existsSync(c)) return c;
  }
  return join(process.cwd(), 'src', 'activities');
}

// Identifiers that carry a secret in the activities: the token (secret, token), the certificate key.
const SECRET_EXPR = /\b(secret|token(?!File\b|s\b)|[cC]ertificateKey|certKey|key|password)\b(?!\s*\.\s*id\b)/;

/**
 * Command texts: the template literal or string right after run(, check(, command: or guard:, and the
 * shell scripts kept in upper-case constants (`const ENSURE = \`...\``, run through a helper).
 */
function commandTexts(source: string): { text: string; line: number }[] {
  const out: { text: string; line: number }[] = [];
  const re =
    /(?:\.(?:run|check)\(\s*|\b(?:command|guard):\s*|^const [A-Z][A-Z0-9_]* = )(`(?:\\.|\$\{(?:[^{}]|\{[^{}]*\})*\}|[^`\\])*`|'(?:\\.|[^'\\])*'|[A-Za-z_][\w.]*)/gm;
  for (let m = re.exec(source); m; m = re.exec(source))
    out.push({ text: m[1], line: source.slice(0, m.index).split('\n').length });
  return out;
}

it('no command built by the activities interpolates a token or certificate key', () => {
  const dir = srcDir();
  let scanned = 0;
  for (const f of readdirSync(dir).filter((n) => n.endsWith('.ts'))) {
    const source = readFileSync(join(dir, f), 'utf8');
    for (const c of commandTexts(source)) {
      scanned++;
      const exprs = [...c.text.matchAll(/\$\{((?:[^{}]|\{[^{}]*\})*)\}/g)].map((m) => m[1]);
      if (!c.text.startsWith('`') && !c.text.startsWith("'")) exprs.push(c.text); // a variable passed as the command
      for (const e of exprs)
        assert.doesNotMatch(
          e,
          SECRET_EXPR,
          `${f}:${c.line}: command interpolates ${e}: pass secrets on stdin or in a 0600 file`,
        );
    }
  }
  assert.ok(scanned >= 10, `only ${scanned} commands found: the scan no longer sees the activities' commands`);
});

it('the scan catches a secret in argv', () => {
  const bad =
    'await node.check(`kubeadm join --token ${secret} x`, "join");\nnode.journaled({ id, command: `kubeadm init phase upload-certs --certificate-key ${certificateKey}` });\nconst KEEP = `printf %s ${key} > "$1"`;';
  const found = commandTexts(bad)
    .flatMap((c) => [...c.text.matchAll(/\$\{([^}]*)\}/g)].map((m) => m[1]))
    .filter((e) => SECRET_EXPR.test(e));
  assert.deepEqual(found, ['secret', 'certificateKey', 'key']);
  assert.ok(!SECRET_EXPR.test('shellQuote(tokenFile(id))') && !SECRET_EXPR.test('input.token.id'));
});
