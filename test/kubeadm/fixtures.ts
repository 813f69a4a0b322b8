// Locates test/fixtures/kubeadm whether tests run from lib/ inside the repo or from another outDir
// (then the repo is the working directory).
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

function fixturesDir(): string {
  const tried: string[] = [];
  for (let d = __dirname; ; d = dirname(d)) {
    const c = join(d, 'test', 'fixtures', 'kubeadm');
    tried.push(c);
    if (existsSync(c)) return c;
    if (dirname(d) === d) break;
  }
  const c = join(process.cwd(), 'test', 'fixtures', 'kubeadm');
  if (existsSync(c)) return c;
  throw new Error(`kubeadm fixtures not found (tried ${[...tried, c].join(', ')})`);
}

const dir = fixturesDir();

export function fixture(name: string): string {
  return readFileSync(join(dir, name), 'utf8');
}
