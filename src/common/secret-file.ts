// A file that holds a secret (an API key, a bearer token): readable by its owner only, and not empty.
import { readFileSync, statSync } from 'node:fs';

/** The file's text, trimmed; `fail` makes the error for a problem, named by the setting that gave the path. */
export function readSecretFile(path: string, setting: string, fail: (message: string) => Error): string {
  let mode: number;
  try {
    mode = statSync(path).mode;
  } catch (err) {
    throw fail(`${setting} ${path}: cannot read it (${(err as NodeJS.ErrnoException).code})`);
  }
  if (mode & 0o077)
    throw fail(
      `${setting} ${path} is readable by group or others (mode ${(mode & 0o777).toString(8)}); run: chmod 600 ${path}`,
    );
  const text = readFileSync(path, 'utf8').trim();
  if (text === '') throw fail(`${setting} ${path} is empty`);
  return text;
}
