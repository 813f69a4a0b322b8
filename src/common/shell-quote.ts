// Quoting for remote POSIX shell command lines. Pure: usable from kubeadm knowledge and SSH plumbing.

/** POSIX single-quote quoting: safe for any byte string except NUL. */
export function shellQuote(arg: string): string {
  if (arg.includes('\0')) throw new Error('shellQuote: argument contains a NUL byte');
  return `'${arg.replace(/'/g, `'\\''`)}'`;
}
