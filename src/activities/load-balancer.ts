// probeLoadBalancer: the procedure's `nc -v LOAD_BALANCER_IP PORT` from the first control plane.
// Refused (or accepted then closed, as HAProxy does with no healthy backend) is expected before init;
// a timeout means the load balancer cannot reach the node, and retrying will not fix that.
import { ApplicationFailure } from '@temporalio/activity';
import { classifyProbe, probeCommand, probeVerdict } from '../kubeadm/load-balancer';
import { withSessions } from './host-context';
import type { OnHost, ProbeResult } from './types';

export const probeLoadBalancer = async ({
  host,
  ssh,
  loadBalancer,
}: OnHost & { loadBalancer: { host: string; port: number } }): Promise<ProbeResult> =>
  withSessions(ssh, [host], async (remote) => {
    const r = await remote.run(probeCommand(loadBalancer.host, loadBalancer.port, 5), { sudo: false });
    const outcome = classifyProbe(r.exitCode, r.stdout, r.stderr);
    const verdict = probeVerdict(outcome, `${loadBalancer.host}:${loadBalancer.port}`);
    if (!verdict.ok)
      throw ApplicationFailure.nonRetryable(`${remote.host.name}: ${verdict.message}`, 'LoadBalancerUnreachable');
    return { outcome, message: verdict.message };
  });
