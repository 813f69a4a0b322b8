// Every relative link in README.md and docs/*.md resolves: the file exists and a #anchor names one of
// the target's headings. The reference moves between files; a link left behind should fail here, not
// on GitHub.
import assert from 'node:assert/strict';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, it } from 'node:test';

const ROOT = resolve(__dirname, '../../..');
const FILES = [
  'README.md',
  ...readdirSync(join(ROOT, 'docs')).flatMap((f) => (f.endsWith('.md') ? [`docs/${f}`] : [])),
];

/** GitHub's heading anchor: lower-case, punctuation but '-' and '_' dropped, each space a '-'. */
function slug(heading: string): string {
  return heading
    .toLowerCase()
    .replace(/[^\p{L}\p{M}\p{N}\p{Pc} -]/gu, '')
    .replace(/ /g, '-');
}

/** The lines outside fenced code blocks. */
function prose(text: string): string[] {
  const out: string[] = [];
  let fence = false;
  for (const line of text.split('\n')) {
    if (/^\s*(```|~~~)/.test(line)) fence = !fence;
    else if (!fence) out.push(line);
  }
  return out;
}

/** The anchors of a markdown file's headings; a repeated heading gets -1, -2, as on GitHub. */
function anchors(text: string): Set<string> {
  const seen = new Map<string, number>();
  const out = new Set<string>();
  for (const line of prose(text)) {
    const m = /^#{1,6}\s+(.*?)\s*#*\s*$/.exec(line);
    if (!m) continue;
    // The heading as rendered: a link's text, not its target.
    const base = slug(m[1].replace(/\[([^\]]*)\]\([^)]*\)/g, '$1'));
    const n = seen.get(base) ?? 0;
    seen.set(base, n + 1);
    out.add(n === 0 ? base : `${base}-${n}`);
  }
  return out;
}

/** Relative link targets: inline `[text](target "title")` and reference definitions `[id]: target`. */
function links(text: string): string[] {
  const out: string[] = [];
  // A code span shows a link's syntax, it is not one.
  for (const line of prose(text).map((l) => l.replace(/`[^`]*`/g, ''))) {
    for (const m of line.matchAll(/\]\(\s*<?([^)\s>]+)>?(?:\s+"[^"]*")?\s*\)/g)) out.push(m[1]);
    const def = /^\s*\[[^\]]+\]:\s*<?(\S+?)>?(?:\s|$)/.exec(line);
    if (def) out.push(def[1]);
  }
  return out.filter((t) => !/^[a-z][a-z0-9+.-]*:/i.test(t));
}

describe('documentation links', () => {
  it('slugs headings as GitHub does', () => {
    assert.equal(slug('Temporal with Docker: temporal-compose.yml'), 'temporal-with-docker-temporal-composeyml');
    assert.equal(slug('Plan: what a start would do'), 'plan-what-a-start-would-do');
    assert.equal(slug('Topologies, certificate modes and versions'), 'topologies-certificate-modes-and-versions');
    assert.deepEqual([...anchors('# A\n```\n# not a heading\n```\n## A\n## `b_c` d\n')], ['a', 'a-1', 'b_c-d']);
    assert.deepEqual(links('[x](a.md#b) `[y](c.md)` [z](https://e.org) [w](d.md "t")\n[id]: f.md'), [
      'a.md#b',
      'd.md',
      'f.md',
    ]);
  });

  it('every relative link and anchor in README.md and docs/*.md resolves', () => {
    assert.ok(FILES.length > 1, 'README.md and the docs');
    const problems: string[] = [];
    let checked = 0;
    for (const file of FILES) {
      const text = readFileSync(join(ROOT, file), 'utf8');
      for (const link of links(text)) {
        checked++;
        const [path, anchor] = link.split('#', 2);
        const target = path === '' ? join(ROOT, file) : resolve(dirname(join(ROOT, file)), decodeURIComponent(path));
        if (!existsSync(target)) {
          problems.push(`${file}: ${link}: no such file ${relative(ROOT, target)}`);
          continue;
        }
        if (anchor === undefined) continue;
        if (!target.endsWith('.md')) problems.push(`${file}: ${link}: an anchor into a file that is not markdown`);
        else if (!anchors(readFileSync(target, 'utf8')).has(anchor))
          problems.push(`${file}: ${link}: no heading #${anchor} in ${relative(ROOT, target)}`);
      }
    }
    assert.deepEqual(problems, []);
    assert.ok(checked > 10, `only ${checked} links found: is the parser missing them?`);
  });

  it('the README links to every doc', () => {
    const linked = new Set(links(readFileSync(join(ROOT, 'README.md'), 'utf8')).map((l) => l.split('#')[0]));
    for (const doc of FILES.filter((f) => f.startsWith('docs/'))) assert.ok(linked.has(doc), `README.md links ${doc}`);
  });
});
