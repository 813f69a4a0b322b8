// What `kubeadm reset` leaves on a node, and the command that removes it. kubeadm's reset page
// (https://kubernetes.io/docs/reference/setup-tools/kubeadm/kubeadm-reset/, its cleanup sections for
// the CNI configuration, network traffic rules and $HOME/.kube) and the text `kubeadm reset` prints
// at its end (cmd/kubeadm/app/cmd/reset.go; fleet/standins/texts.ts RESET_TRAILER) say reset does
// not clean: the CNI configuration in /etc/cni/net.d, iptables rules and IPVS tables, and
// kubeconfig files ($HOME/.kube/config).
//
// Only what Kubernetes and the CNI made goes; a host's own firewall stays (a blanket `iptables -F`
// would drop it, and with an INPUT policy of DROP cut the SSH session running the cleanup):
//   - iptables/ip6tables chains named KUBE-* (the kubelet's KUBE-FIREWALL, KUBE-KUBELET-CANARY,
//     KUBE-IPTABLES-HINT: pkg/kubelet/kubelet_network_linux.go; kube-proxy's KUBE-SERVICES,
//     KUBE-NODEPORTS, KUBE-POSTROUTING, KUBE-MARK-MASQ, KUBE-FORWARD, KUBE-PROXY-FIREWALL,
//     KUBE-PROXY-CANARY, KUBE-EXTERNAL-SERVICES and its per-service KUBE-SVC-/KUBE-SEP-/KUBE-EXT-/
//     KUBE-FW- chains: kubernetes pkg/proxy/iptables/proxier.go), CNI-* (the CNI plugins' portmap
//     CNI-HOSTPORT-*, CNI-DN-*, bridge ipMasq CNI-<hash>, firewall CNI-FORWARD: containernetworking/
//     plugins) and FLANNEL-* (flannel's FLANNEL-POSTRTG in nat and FLANNEL-FWD in filter:
//     flannel-io/flannel pkg/trafficmngr/iptables/iptables.go), every rule in them, and every rule
//     of another chain that jumps (-j) or goes (-g) to one of them;
//   - rules that name the pod bridge or the overlay device as their in/out interface (cni0,
//     flannel.1), which go with the devices;
//   - the IPVS tables, when kube-proxy ran in IPVS mode (its dummy device kube-ipvs0 exists);
//   - the devices cni0 (the bridge plugin's), flannel.1 (flannel's VXLAN device), kube-ipvs0.
// Pure: no I/O, so the workflow's plan and the activity share it.
import { shellQuote } from '../common/shell-quote';

/** Where the CNI plugins read their network configuration (containerd's and CRI-O's default conf_dir). */
export const CNI_CONF_DIR = '/etc/cni/net.d';
/** root's kubeconfig: the copy of admin.conf `kubeadm init` tells the operator to make, done as root. */
export const ROOT_KUBECONFIG = '/root/.kube/config';
/** Chain name prefixes of the kubelet and kube-proxy, the CNI plugins, and flannel. */
export const CHAIN_PREFIXES: readonly string[] = ['KUBE-', 'CNI-', 'FLANNEL-'];
/** The bridge plugin's pod bridge (flannel's CNI config names it cni0) and flannel's VXLAN device. */
export const CNI_LINKS: readonly string[] = ['cni0', 'flannel.1'];
/** The dummy device kube-proxy's IPVS mode binds service addresses to (pkg/proxy/ipvs/proxier.go). */
export const IPVS_LINK = 'kube-ipvs0';

const awkAlternation = (xs: readonly string[]): string =>
  xs.map((x) => x.replace(/[\\^$.[\]|()*+?{}/]/g, '\\$&')).join('|');

/**
 * An awk program over `iptables-save` (or `ip6tables-save`) output that prints it back without
 * the Kubernetes and CNI state: the `:CHAIN` declarations of chains named KUBE-/CNI-/FLANNEL-, the
 * `-A` rules of those chains, the `-A` rules elsewhere that jump (-j/--jump) or go (-g/--goto) to
 * one, and the rules with `-i`/`-o` cni0 or flannel.1. Every other line (table headers, built-in
 * chains with their policies, the host's own chains and rules, COMMIT, comments) passes byte for
 * byte, so `iptables-restore` of the result rebuilds each table as it was minus those. A quoted
 * string (a rule's --comment, which iptables-save double-quotes with \" and \\ escaped) is blanked
 * before the words are read, so a comment that reads "-j KUBE-X" does not condemn its rule.
 * Portable: POSIX awk (mawk, gawk, busybox awk).
 */
export const IPTABLES_FILTER_AWK = [
  `function k8s(name) { return name ~ /^(${awkAlternation(CHAIN_PREFIXES)})/ }`,
  `function cniLink(name) { return ${CNI_LINKS.map((l) => `name == "${l}"`).join(' || ')} }`,
  '/^:/ { name = substr($0, 2); sub(/[ \\t].*/, "", name); if (k8s(name)) next; print; next }',
  '/^-A[ \\t]/ {',
  '  s = $0; gsub(/"([^"\\\\]|\\\\.)*"/, "\\"\\"", s); n = split(s, w, /[ \\t]+/)',
  '  if (k8s(w[2])) next',
  '  for (i = 3; i < n; i++) {',
  '    if ((w[i] == "-j" || w[i] == "--jump" || w[i] == "-g" || w[i] == "--goto") && k8s(w[i + 1])) next',
  '    if ((w[i] == "-i" || w[i] == "--in-interface" || w[i] == "-o" || w[i] == "--out-interface") && cniLink(w[i + 1])) next',
  '  }',
  '}',
  '{ print }',
  '',
].join('\n');

export interface ResetCleanupOptions {
  /**
   * Home folder of the SSH login user (absolute), whose ~/.kube/config goes too: the kubeadm
   * init epilogue has it copied there. Omit for a root login (root's is always removed).
   */
  userHome?: string;
  /** Paths on the host; the defaults are the production ones (tests point them at a scratch folder). */
  paths?: { cniConfDir?: string; rootKubeconfig?: string };
}

/**
 * One POSIX sh command, run as root (sudo) after `kubeadm reset -f`, that removes what reset
 * leaves (see RESET_CLEANUP_STEPS):
 *  1. the contents of /etc/cni/net.d, hidden files included (the folder stays: containerd watches
 *     it for the next CNI's configuration);
 *  2. /root/.kube/config and, with `userHome`, <userHome>/.kube/config (a symlink is removed, not
 *     followed; the rest of ~/.kube, e.g. its cache, stays);
 *  3. for iptables and ip6tables, when `<x>-save` is on PATH: its output through
 *     IPTABLES_FILTER_AWK into `<x>-restore`, only when the filter removed something. restore
 *     replaces just the tables it is given, each atomically, so the host's own rules and chain
 *     policies are written back as they were (their counters restart);
 *  4. when the kube-ipvs0 device exists: `ipvsadm --clear` (if ipvsadm is installed) and
 *     `ip link delete kube-ipvs0`;
 *  5. the cni0 and flannel.1 devices, each when `ip link show` finds it.
 * Every part is idempotent and skips a tool that is not installed: a clean host, or one without
 * iptables, ipvsadm or ip, exits 0 having changed nothing. Every part runs even when an earlier
 * one failed; the exit status is 1 when any tool that exists failed (iptables-save, the filter,
 * iptables-restore, ipvsadm, ip link delete, rm). Prints one line per network change it made.
 * Runs in a subshell, so it can be chained (`kubeadm reset -f && ...`) without leaking variables.
 */
export function resetCleanupCommand(opts: ResetCleanupOptions = {}): string {
  const cniDir = absolute('CNI configuration folder', opts.paths?.cniConfDir ?? CNI_CONF_DIR);
  const kubeconfigs = [absolute("root's kubeconfig", opts.paths?.rootKubeconfig ?? ROOT_KUBECONFIG)];
  if (opts.userHome !== undefined) {
    const home = absolute('login user home', opts.userHome).replace(/\/+$/, '');
    kubeconfigs.push(`${home}/.kube/config`);
  }
  const d = shellQuote(cniDir.replace(/\/+$/, ''));
  const links = CNI_LINKS.map(shellQuote).join(' ');
  const ipvs = shellQuote(IPVS_LINK);
  return [
    '(rc=0',
    // 1. CNI configuration: unmatched patterns stay literal and rm -f ignores them.
    `rm -rf -- ${d}/* ${d}/.[!.]* ${d}/..?* || rc=1`,
    // 2. kubeconfigs.
    `rm -f -- ${[...new Set(kubeconfigs)].map(shellQuote).join(' ')} || rc=1`,
    // 3. iptables state of Kubernetes and the CNI; no pipefail in POSIX sh, so each stage's status is its own.
    'for t in iptables ip6tables; do',
    '  command -v "$t-save" >/dev/null 2>&1 || continue',
    '  s=$("$t-save") || { rc=1; continue; }',
    `  f=$(printf '%s\\n' "$s" | awk ${shellQuote(IPTABLES_FILTER_AWK)}) || { rc=1; continue; }`,
    '  [ "$f" = "$s" ] && continue',
    `  if printf '%s\\n' "$f" | "$t-restore"; then echo "$t: removed the KUBE-, CNI- and FLANNEL- chains and their rules"; else rc=1; fi`,
    'done',
    // 4, 5. IPVS and the devices (ip link show: exit 1 when there is no such device).
    'if command -v ip >/dev/null 2>&1; then',
    `  if ip link show ${ipvs} >/dev/null 2>&1; then`,
    '    if command -v ipvsadm >/dev/null 2>&1; then',
    '      if ipvsadm --clear; then echo "ipvs: cleared the IPVS tables"; else rc=1; fi',
    '    fi',
    `    if ip link delete ${ipvs}; then echo "ip: deleted device ${IPVS_LINK}"; else rc=1; fi`,
    '  fi',
    `  for l in ${links}; do`,
    '    if ip link show "$l" >/dev/null 2>&1; then',
    '      if ip link delete "$l"; then echo "ip: deleted device $l"; else rc=1; fi',
    '    fi',
    '  done',
    'fi',
    'exit $rc)',
  ].join('\n');
}

function absolute(what: string, p: string): string {
  if (typeof p !== 'string' || !p.startsWith('/') || p.replace(/\/+$/, '') === '')
    throw new Error(`${what}: ${JSON.stringify(p)} is not an absolute path below /`);
  if (p.includes('\0')) throw new Error(`${what}: the path contains a NUL byte`);
  return p;
}

/** What resetCleanupCommand removes, in words, in its order (for `plan` and progress). */
export const RESET_CLEANUP_STEPS: readonly string[] = [
  `the CNI configuration in ${CNI_CONF_DIR} (its contents; the folder stays)`,
  `the kubeconfig files ${ROOT_KUBECONFIG} and the login user's ~/.kube/config`,
  `the iptables and ip6tables chains of Kubernetes and the CNI (${CHAIN_PREFIXES.map((p) => `${p}*`).join(', ')}), their rules, the rules that jump to them, and the rules on ${CNI_LINKS.join(' and ')}; the host's own rules and policies stay`,
  `the IPVS tables (ipvsadm --clear) and the ${IPVS_LINK} device, when kube-proxy ran in IPVS mode`,
  `the ${CNI_LINKS.join(' and ')} devices`,
];
