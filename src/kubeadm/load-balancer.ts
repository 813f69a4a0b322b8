// The HA page's `nc -v LOAD_BALANCER_IP PORT` check, read as the kubeadm HA guide and kubeadm/docs/ha-considerations.md describe it: refused is
// expected before the API server runs, an LB that accepts then closes is alive too, a timeout means
// the LB cannot reach the control plane node.

export type ProbeOutcome = 'refused' | 'accepted' | 'timeout' | 'unresolvable' | 'unreachable';

import { shellQuote } from '../common/shell-quote';

/**
 * A remote command that opens one TCP connection with bash's /dev/tcp under coreutils `timeout`.
 * Exit 0 = connected, 124 = timed out, 1 = failed with the reason on stderr. Host and port are
 * passed as positional arguments, never spliced into the script.
 */
export function probeCommand(host: string, port: number, timeoutSeconds: number): string {
  if (typeof host !== 'string' || host === '' || /[\s\0/]/.test(host)) {
    throw new Error(`load balancer host: ${JSON.stringify(host)} is not a host name or IP address`);
  }
  if (!Number.isInteger(port) || port < 1 || port > 65535)
    throw new Error(`load balancer port: ${port} is not in 1-65535`);
  if (!Number.isInteger(timeoutSeconds) || timeoutSeconds < 1)
    throw new Error(`probe timeout: ${timeoutSeconds} is not a whole number of seconds >= 1`);
  const h = host.replace(/^\[(.*)\]$/, '$1');
  return `timeout ${timeoutSeconds} bash -c 'exec 3<>"/dev/tcp/$1/$2"' lb-probe ${shellQuote(h)} ${shellQuote(String(port))}`;
}

export function classifyProbe(exitCode: number | null, stdout: string, stderr: string): ProbeOutcome {
  const text = `${stdout ?? ''}\n${stderr ?? ''}`;
  // bash: "connect: Connection refused"; nc: "... failed: Connection refused".
  if (/connection refused/i.test(text)) return 'refused';
  if (
    /Name or service not known|Temporary failure in name resolution|No address associated with hostname|nodename nor servname|Could not resolve|getaddrinfo/i.test(
      text,
    )
  ) {
    return 'unresolvable';
  }
  if (/No route to host|Network is unreachable|Host is unreachable/i.test(text)) return 'unreachable';
  // `timeout` exits 124 (137 if it had to SIGKILL); a null exit means the runner gave up waiting.
  if (exitCode === null || exitCode === 124 || exitCode === 137 || /timed out/i.test(text)) return 'timeout';
  // nc -v: "Connection to h 6443 port [tcp/*] succeeded!" / "open".
  if (exitCode === 0 || /succeeded|\bopen\b/i.test(text)) return 'accepted';
  return 'unreachable';
}

export function probeVerdict(o: ProbeOutcome, lb: string): { ok: boolean; message: string } {
  switch (o) {
    case 'refused':
      return { ok: true, message: `${lb} refused the connection: expected, because the API server is not yet running` };
    case 'accepted':
      return {
        ok: true,
        message: `${lb} accepted the connection: the load balancer is alive (it may have no healthy backend yet)`,
      };
    case 'timeout':
      return {
        ok: false,
        message: `Connecting to ${lb} timed out: the load balancer cannot communicate with the control plane node. Reconfigure the load balancer to communicate with the control plane node`,
      };
    case 'unresolvable':
      return {
        ok: false,
        message: `${lb} does not resolve on the node: fix DNS (or /etc/hosts); the name must match the controlPlaneEndpoint`,
      };
    case 'unreachable':
      return {
        ok: false,
        message: `${lb} is unreachable from the node (no route or network down): check addressing, routes and firewalls`,
      };
  }
}
