// What one cluster-file value can say about itself: the message after "field: " when it is wrong,
// or undefined. The schema (./schema) attaches them to its fields.
import { isDnsName, isIP, isPreflightCheckName } from '../kubeadm/validate';
import { addressBits, Cidr, hostBitsFixed, parseCidr } from './net';
import { show } from './text';

export type Problem = (v: string) => string | undefined;

/** A host name or IP; an all-numeric dotted string is a mistyped IP, not a name. */
export function isAddress(s: string): boolean {
  return isIP(s) || (!/^[\d.]+$/.test(s) && isDnsName(s));
}
export const addressProblem: Problem = (a) =>
  isAddress(a) ? undefined : `${show(a)} is neither an IP address nor a DNS name`;

/** Linux user names as useradd accepts them by default (NAME_REGEX in adduser.conf). */
export const userProblem: Problem = (u) =>
  /^[a-z_][a-z0-9_-]*\$?$/.test(u) && u.length <= 32 ? undefined : `${show(u)} is not a valid Linux user name`;

/**
 * One range or a dual-stack pair. kubeadm (cmd/kubeadm/app/apis/kubeadm/validation/validation.go):
 * ValidateIPNetFromString takes one CIDR or two of different families; ValidateServiceSubnetSize caps
 * the service range at 20 host bits (constants.MaximumBitsForServiceSubnet, /12 for IPv4, /108 for IPv6);
 * ValidatePodSubnetNodeMask needs the pod range to hold whole node ranges (kube-controller-manager's
 * default --node-cidr-mask-size: /24 IPv4, /64 IPv6) and at most 2^16 of them (PodSubnetNodeMaskMaxDiff).
 */
export function cidrListProblem(kind: 'pod' | 'service'): Problem {
  return (value) => {
    const parts = value.split(',').map((c) => parseCidr(c));
    if (parts.some((c) => c === undefined))
      return `${show(value)} is not a CIDR such as "192.168.0.0/16" (or a dual-stack pair such as "10.244.0.0/16,fd00:10:244::/56")`;
    const cidrs = parts as Cidr[];
    if (cidrs.length > 2 || (cidrs.length === 2 && cidrs[0].family === cidrs[1].family)) {
      return `${show(value)}: give one range, or two for dual-stack (one IPv4 and one IPv6)`;
    }
    for (const c of cidrs) {
      if (c.prefix === 0)
        return `${show(c.text)} is every address; give the cluster's own ${kind} range, e.g. ${kind === 'pod' ? '192.168.0.0/16' : '10.96.0.0/12'}`;
      const fixed = hostBitsFixed(c);
      if (fixed) return `${show(c.text)} has host bits set; the network address is ${fixed}: write that`;
      const bits = addressBits(c.family);
      if (kind === 'service' && bits - c.prefix > 20) {
        return `${show(c.text)} is too large: kubeadm allows at most 2^20 service addresses, so the mask must be /${bits - 20} or longer`;
      }
      if (kind === 'pod') {
        const nodeMask = c.family === 4 ? 24 : 64;
        if (c.prefix > nodeMask)
          return `${show(c.text)} is smaller than one node's pod range (/${nodeMask}); use /${nodeMask} or shorter`;
        if (nodeMask - c.prefix > 16)
          return `${show(c.text)} is too large: at most 2^16 node ranges of /${nodeMask}, so use /${nodeMask - 16} or longer`;
      }
    }
    return undefined;
  };
}

export const clusterNameProblem: Problem = (n) =>
  /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/.test(n)
    ? undefined
    : `${show(n)} must be lower-case letters, digits and '-', at most 63 characters (it becomes part of the workflow ID)`;

export const endpointProblem: Problem = (e) =>
  /^https:\/\/(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]+):\d{1,5}\/?$/.test(e)
    ? undefined
    : `${show(e)} is not an https://host:port client URL (the API server talks TLS to etcd)`;

/** kubeadm prints a check's name in "[ERROR <Name>]: ..." (cmd/kubeadm/app/preflight/checks.go); "all" is refused. */
export const preflightCheckProblem: Problem = (c) =>
  c.toLowerCase() === 'all'
    ? '"all" would skip every preflight check; name each check to ignore, as kubeadm prints it in "[ERROR <Name>]: ..."'
    : isPreflightCheckName(c)
      ? undefined
      : `${show(c)} is not a kubeadm preflight check name (as printed in "[ERROR <Name>]: ...", e.g. SystemVerification)`;
export const hostPathProblem: Problem = (p) =>
  p.startsWith('/') && !/[\0\n]/.test(p) ? undefined : `${show(p)} must be an absolute path on the hosts`;

/** A Temporal task queue name as kubeadm-ha's workers take it with --task-queue. */
export const taskQueueProblem: Problem = (q) =>
  /^[A-Za-z0-9][A-Za-z0-9._:@-]{0,199}$/.test(q)
    ? undefined
    : `${show(q)} is not a task queue name: letters, digits and . _ : @ -, starting with a letter or digit, at most 200 characters`;
