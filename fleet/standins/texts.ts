// Exact kubeadm texts, chosen by the emulated minor version.

export const RUNNING_PREFLIGHT = '[preflight] Running pre-flight checks';

export function preflightBlock(errors: string[]): string {
  return [
    '[preflight] Some fatal errors occurred:',
    ...errors.map((e) => `\t[ERROR ${e}`),
    '[preflight] If you know what you are doing, you can make a check non-fatal with `--ignore-preflight-errors=...`',
  ].join('\n');
}

export function pullImages(minor: number): string[] {
  return [
    '[preflight] Pulling images required for setting up a Kubernetes cluster',
    '[preflight] This might take a minute or two, depending on the speed of your internet connection',
    minor >= 29
      ? "[preflight] You can also perform this action beforehand using 'kubeadm config images pull'"
      : "[preflight] You can also perform this action in beforehand using 'kubeadm config images pull'",
  ];
}

/** Join line as printed by init (multi-line) — TAB continuation from 1.21, 4 spaces before. */
export function joinCommandLines(
  minor: number,
  endpoint: string,
  token: string,
  hash: string,
  controlPlane: boolean,
  certKey?: string,
): string {
  const ind = minor >= 21 ? '\t' : '    ';
  let s = `kubeadm join ${endpoint} --token ${token} \\\n${ind}--discovery-token-ca-cert-hash ${hash} `;
  if (controlPlane) s += `\\\n${ind}--control-plane ${certKey ? `--certificate-key ${certKey}` : ''}`;
  return s;
}

/** `token create --print-join-command`: the template flattened to one line. */
export function joinCommandOneLine(
  minor: number,
  endpoint: string,
  token: string,
  hash: string,
  certKey?: string,
): string {
  const gap = minor >= 21 ? ' ' : '     ';
  let s = `kubeadm join ${endpoint} --token ${token}${gap}--discovery-token-ca-cert-hash ${hash} `;
  if (certKey) s += `--control-plane --certificate-key ${certKey}`;
  return s;
}

export function initEpilogue(
  minor: number,
  endpoint: string,
  token: string,
  hash: string,
  hasCpEndpoint: boolean,
  certKey?: string,
): string {
  const out = [
    '',
    'Your Kubernetes control-plane has initialized successfully!',
    '',
    'To start using your cluster, you need to run the following as a regular user:',
    '',
    '  mkdir -p $HOME/.kube',
    '  sudo cp -i /etc/kubernetes/admin.conf $HOME/.kube/config',
    '  sudo chown $(id -u):$(id -g) $HOME/.kube/config',
    '',
  ];
  if (minor >= 21)
    out.push(
      'Alternatively, if you are the root user, you can run:',
      '',
      '  export KUBECONFIG=/etc/kubernetes/admin.conf',
      '',
    );
  out.push(
    'You should now deploy a pod network to the cluster.',
    'Run "kubectl apply -f [podnetwork].yaml" with one of the options listed at:',
    '  https://kubernetes.io/docs/concepts/cluster-administration/addons/',
    '',
  );
  if (hasCpEndpoint) {
    if (certKey) {
      out.push(
        'You can now join any number of the control-plane node running the following command on each as root:',
        '',
        '  ' + joinCommandLines(minor, endpoint, token, hash, true, certKey),
        '',
        'Please note that the certificate-key gives access to cluster sensitive data, keep it secret!',
        'As a safeguard, uploaded-certs will be deleted in two hours; If necessary, you can use',
        '"kubeadm init phase upload-certs --upload-certs" to reload certs afterward.',
        '',
      );
    } else {
      out.push(
        'You can now join any number of control-plane nodes by copying certificate authorities',
        'and service account keys on each node and then running the following as root:',
        '',
        '  ' + joinCommandLines(minor, endpoint, token, hash, true),
        '',
      );
    }
  }
  out.push(
    'Then you can join any number of worker nodes by running the following on each as root:',
    '',
    joinCommandLines(minor, endpoint, token, hash, false),
  );
  return out.join('\n') + '\n';
}

export function joinWorkerEpilogue(minor: number): string {
  const where = minor <= 13 ? 'on the master' : 'on the control-plane';
  return (
    [
      '',
      'This node has joined the cluster:',
      '* Certificate signing request was sent to apiserver and a response was received.',
      '* The Kubelet was informed of the new secure connection details.',
      '',
      `Run 'kubectl get nodes' ${where} to see this node join the cluster.`,
      '',
    ].join('\n') + '\n'
  );
}

export function joinControlPlaneEpilogue(minor: number, stackedEtcd: boolean): string {
  const label =
    minor <= 13
      ? '* Master label and taint were applied to the new node.'
      : minor <= 23
        ? '* Control plane (master) label and taint were applied to the new node.'
        : '* Control plane label and taint were applied to the new node.';
  return (
    [
      '',
      'This node has joined the cluster and a new control plane instance was created:',
      '',
      '* Certificate signing request was sent to apiserver and approval was received.',
      '* The Kubelet was informed of the new secure connection details.',
      label,
      '* The Kubernetes control plane instances scaled up.',
      stackedEtcd ? '* A new etcd member was added to the local/stacked etcd cluster.' : '',
      '',
      'To start administering your cluster from this node, you need to run the following as a regular user:',
      '',
      '\tmkdir -p $HOME/.kube',
      '\tsudo cp -i /etc/kubernetes/admin.conf $HOME/.kube/config',
      '\tsudo chown $(id -u):$(id -g) $HOME/.kube/config',
      '',
      "Run 'kubectl get nodes' to see this node join the cluster.",
      '',
    ].join('\n') + '\n'
  );
}

export const RESET_TRAILER = [
  '',
  'The reset process does not clean CNI configuration. To do so, you must remove /etc/cni/net.d',
  '',
  'The reset process does not reset or clean up iptables rules or IPVS tables.',
  'If you wish to reset iptables, you must do so manually by using the "iptables" command.',
  '',
  'If your cluster was setup to utilize IPVS, run ipvsadm --clear (or similar)',
  "to reset your system's IPVS tables.",
  '',
  'The reset process does not clean your kubeconfig files and you must remove them manually.',
  'Please, check the contents of the $HOME/.kube/config file.',
  '',
].join('\n');

export function notReadyToJoinControlPlane(reason: string): string {
  return [
    '',
    'One or more conditions for hosting a new control plane instance is not satisfied.',
    '',
    reason,
    '',
    'Please ensure that:',
    '* The cluster has a stable controlPlaneEndpoint address.',
    '* The certificates that must be shared among control plane instances are provided.',
    '',
    '',
  ].join('\n');
}

/**
 * wait-control-plane giving up (kubeadm's cmd/kubeadm/app/cmd/phases/init/waitcontrolplane.go:
 * kubeletFailTempl, then the phase runner's "error execution phase" wrapping).
 */
export const WAIT_CONTROL_PLANE_FAILED = [
  '',
  'Unfortunately, an error has occurred:',
  '\ttimed out waiting for the condition',
  '',
  'This error is likely caused by:',
  '\t- The kubelet is not running',
  '\t- The kubelet is unhealthy due to a misconfiguration of the node in some way (required cgroups disabled)',
  '',
  "error execution phase wait-control-plane: couldn't initialize a Kubernetes cluster",
].join('\n');

/**
 * kubelet-start after the TLS bootstrap: the Node exists, annotating it with the CRI socket timed out
 * (cmd/kubeadm/app/cmd/phases/join/kubelet.go wraps patchnode.AnnotateCRISocket's error).
 */
export const CRISOCKET_TIMEOUT = 'error uploading crisocket: timed out waiting for the condition';

/**
 * control-plane-join/etcd when the etcd cluster refuses the new member (etcdphase
 * CreateStackedEtcdStaticPodManifestFile -> MemberAdd; etcd's ErrNotEnoughStartedMembers).
 */
export const ETCD_MEMBER_ADD_FAILED =
  'error creating local etcd static pod manifest file: etcdserver: re-configuration failed due to not enough started members';

export function controlPlaneRoles(minor: number): string {
  return minor <= 19 ? 'master' : minor <= 23 ? 'control-plane,master' : 'control-plane';
}

export function markControlPlane(minor: number, node: string): string[] {
  const labels =
    minor <= 23
      ? '[node-role.kubernetes.io/control-plane node-role.kubernetes.io/master(deprecated) node.kubernetes.io/exclude-from-external-load-balancers]'
      : '[node-role.kubernetes.io/control-plane node.kubernetes.io/exclude-from-external-load-balancers]';
  const taints =
    minor <= 23
      ? '[node-role.kubernetes.io/master:NoSchedule]'
      : minor === 24
        ? '[node-role.kubernetes.io/master:NoSchedule node-role.kubernetes.io/control-plane:NoSchedule]'
        : '[node-role.kubernetes.io/control-plane:NoSchedule]';
  return [
    `[mark-control-plane] Marking the node ${node} as control-plane by adding the labels: ${labels}`,
    `[mark-control-plane] Marking the node ${node} as control-plane by adding the taints ${taints}`,
  ];
}
