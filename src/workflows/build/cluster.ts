// The cluster file as the build phases read it: which host is the first control plane, the etcd
// hosts, each host's role, and the kubeadm config of the init. Pure: from the spec alone, so the
// phases' plans may use it.
import type { OnHost, Role } from '../../activities/types';
import type { Gate } from '../../config/enums';
import { type ClusterSpec, type HostSpec, isBuiltEtcd } from '../../config/types';
import type { InitConfigInput, KubeadmNodeOptions } from '../../kubeadm/config';
import { clientURL, externalEtcdConfig } from '../../kubeadm/external-etcd';

export class BuildCluster {
  /** The cluster the file describes: its control planes and workers without those marked `remove`. */
  readonly spec: ClusterSpec;
  /** Hosts the file marks `remove: true`: taken out of the cluster by the run. */
  readonly removedControlPlanes: HostSpec[];
  readonly removedWorkers: HostSpec[];
  readonly stacked: boolean;
  /** Histories from before the certificate modes have no `certificates`: they copied. */
  readonly upload: boolean;
  /** The etcd hosts kubeadm-ha builds (none: stacked, or an existing external etcd). */
  readonly etcdHosts: HostSpec[];
  readonly firstCp: HostSpec;
  readonly otherCps: HostSpec[];
  /** The load balancer in front of the API servers, as kubeadm's controlPlaneEndpoint. */
  readonly endpoint: string;

  constructor(file: ClusterSpec) {
    const keep = (h: HostSpec) => !h.remove;
    this.removedControlPlanes = file.controlPlanes.filter((h) => h.remove);
    this.removedWorkers = file.workers.filter((h) => h.remove);
    const spec = (this.spec = {
      ...file,
      controlPlanes: file.controlPlanes.filter(keep),
      workers: file.workers.filter(keep),
    });
    this.stacked = spec.topology === 'stacked';
    this.upload = spec.certificates === 'upload';
    this.etcdHosts = spec.etcd && isBuiltEtcd(spec.etcd) ? spec.etcd.hosts : [];
    [this.firstCp, ...this.otherCps] = spec.controlPlanes;
    this.endpoint = `${spec.loadBalancer.host}:${spec.loadBalancer.port}`;
  }

  /** Every host, in inspection order. */
  get hosts(): HostSpec[] {
    return [
      ...this.spec.controlPlanes,
      ...this.removedControlPlanes,
      ...this.etcdHosts,
      ...this.spec.workers,
      ...this.removedWorkers,
    ];
  }

  /** The hosts as the progress lists them. */
  get progressHosts(): { name: string; address: string; role: Role }[] {
    const { spec } = this;
    return [
      ...spec.controlPlanes,
      ...this.removedControlPlanes,
      ...spec.workers,
      ...this.removedWorkers,
      ...this.etcdHosts,
    ].map((h) => ({
      name: h.name,
      address: h.address,
      role: this.roleOf(h),
    }));
  }

  /** The gates this build asks: the file's, and always the removal's (it takes live nodes down). */
  get gates(): Gate[] {
    return [...this.spec.approvals, 'removeNodes'];
  }

  roleOf(h: HostSpec): Role {
    return this.spec.controlPlanes.includes(h) || this.removedControlPlanes.includes(h)
      ? 'control-plane'
      : this.etcdHosts.includes(h)
        ? 'etcd'
        : 'worker';
  }

  at(host: HostSpec): OnHost {
    return { host, ssh: this.spec.ssh };
  }

  /** The cluster file's kubeadm section; older histories' specs have none, and an empty one renders nothing. */
  kubeadmOptions(): { kubeadm?: KubeadmNodeOptions } {
    const k = this.spec.kubeadm;
    return k && (k.ignorePreflightErrors.length > 0 || k.patches) ? { kubeadm: k } : {};
  }

  initConfig(): InitConfigInput {
    const { spec, firstCp } = this;
    return {
      kubernetesVersion: spec.kubernetesVersion,
      nodeName: firstCp.name,
      advertiseAddress: firstCp.address,
      controlPlaneEndpoint: this.endpoint,
      certSANs: [spec.loadBalancer.host],
      podSubnet: spec.networking.podSubnet,
      ...(spec.networking.serviceSubnet ? { serviceSubnet: spec.networking.serviceSubnet } : {}),
      ...this.kubeadmOptions(),
      ...(spec.kubeletConfiguration ? { kubeletConfiguration: spec.kubeletConfiguration } : {}),
      ...(spec.kubeProxyConfiguration ? { kubeProxyConfiguration: spec.kubeProxyConfiguration } : {}),
      ...(spec.etcd
        ? {
            etcd: externalEtcdConfig(
              isBuiltEtcd(spec.etcd) ? this.etcdHosts.map((h) => clientURL(h.address)) : spec.etcd.endpoints,
            ),
          }
        : {}),
    };
  }
}
