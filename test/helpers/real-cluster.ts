// What every run on the real fleet must end with, beyond assertClusterBuilt: CoreDNS running,
// kubectl answering through the load balancer, and the pod network carrying traffic between nodes.
import assert from 'node:assert/strict';
import type { FleetInfo } from '../../fleet';
import { shellQuote } from '../../src/common/shell-quote';
import { KUBECTL } from '../../src/kubeadm/paths';
import { eventually, onHost } from './harness';

/** admin.conf names the load balancer, and CoreDNS's pods are Running and Ready. */
export async function assertCoreDnsThroughLb(fleet: FleetInfo): Promise<void> {
  const sh = (cmd: string) => onHost(fleet, 'cp1', cmd);
  assert.equal(
    await sh(`${KUBECTL} config view -o jsonpath='{.clusters[0].cluster.server}'`),
    `https://${fleet.loadBalancer.host}:${fleet.loadBalancer.port}`,
  );
  await eventually(
    'CoreDNS Running and Ready',
    async () => {
      const pods = await sh(
        `${KUBECTL} -n kube-system get pods -l k8s-app=kube-dns -o jsonpath='{range .items[*]}{.status.phase} {.status.containerStatuses[0].ready}{"\\n"}{end}'`,
      );
      const lines = pods.split('\n').filter(Boolean);
      return lines.length >= 1 && lines.every((l) => l === 'Running true') ? lines : undefined;
    },
    180_000,
    2000,
  );
}

/** A pod on w1 answers HTTP from `from` (another node), over flannel's host-gw routes on the fleet bridge. */
export async function assertPodNetwork(fleet: FleetInfo, from: string): Promise<void> {
  const pod = `apiVersion: v1
kind: Pod
metadata: { name: pod-network-check, namespace: default }
spec:
  nodeName: w1
  containers:
  - name: web
    image: localhost/kubeadm-ha/busybox:1.35.0
    imagePullPolicy: Never
    command: [sh, -c, "mkdir -p /www && echo served-from-w1 > /www/index.html && exec httpd -f -p 8080 -h /www"]
`;
  await onHost(fleet, 'cp1', `printf '%s' ${shellQuote(pod)} | ${KUBECTL} apply -f -`);
  const ip = await eventually(
    'the pod Running with an IP',
    async () => {
      const [phase, podIp] = (
        await onHost(fleet, 'cp1', `${KUBECTL} get pod pod-network-check -o jsonpath='{.status.phase} {.status.podIP}'`)
      ).split(' ');
      return phase === 'Running' && podIp ? podIp : undefined;
    },
    120_000,
    1000,
  );
  assert.match(ip, /^192\.168\./, 'an address of the pod network');
  assert.equal(
    await eventually(
      'the pod answering',
      async () => (await onHost(fleet, from, `curl -s --max-time 3 http://${ip}:8080/`)) || undefined,
      60_000,
      1000,
    ),
    'served-from-w1',
  );
}
