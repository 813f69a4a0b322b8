// kubeadm-style failures: message on stderr, the --v=5 hint, and kubeadm's exit codes.
export const STACK_HINT = 'To see the stack trace of this error execute with --v=5 or higher';

export class ExitError extends Error {
  constructor(
    message: string,
    readonly code = 1,
    /** kubeadm appends the stack-trace hint; kubectl does not. */
    readonly hint = true,
  ) {
    super(message);
  }
}

/** `error execution phase <phase>: <msg>` as printed by kubeadm's phase runner. */
export function phaseError(phase: string, msg: string): ExitError {
  return new ExitError(`error execution phase ${phase}: ${msg}`);
}

export function runMain(fn: () => Promise<number | void>): void {
  fn().then(
    (code) => process.exit(code ?? 0),
    (e: unknown) => {
      if (e instanceof ExitError) {
        // Like Go's fmt.Fprintln(os.Stderr, err): the message plus one newline, verbatim.
        process.stderr.write(e.message + '\n' + (e.hint ? STACK_HINT + '\n' : ''));
        process.exit(e.code);
      }
      process.stderr.write(`${(e as Error)?.stack ?? e}\n`);
      process.exit(1);
    },
  );
}
