// kubeadm's bootstrap-token commands (cmd/kubeadm/app/cmd/token.go). Every value is quoted and the
// TTL checked here, whatever validated them before: a workflow's input may come from anyone who can
// reach the Temporal frontend.
import { shellQuote } from '../common/shell-quote';

/** `kubeadm token create`: the token is printed on stdout, never put in argv. */
export function tokenCreateCommand(ttlSeconds: number, description: string): string {
  if (!Number.isSafeInteger(ttlSeconds) || ttlSeconds <= 0) {
    throw new Error(`token TTL must be a whole number of seconds above 0, not ${JSON.stringify(ttlSeconds)}`);
  }
  return `kubeadm token create --ttl ${shellQuote(`${ttlSeconds}s`)} --description ${shellQuote(description)}`;
}

/** `kubeadm token delete` of a token by its public ID. */
export function tokenDeleteCommand(id: string): string {
  return `kubeadm token delete ${shellQuote(id)}`;
}
