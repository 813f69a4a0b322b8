// The real kubeadm releases the tests and the fleet's stand-in run: the newest patch of each of the
// three newest minors (Kubernetes supports the newest three minors: kubernetes.io/releases). They are
// built from source by scripts/build-kubernetes.sh into <repo>/.tools/kubernetes/<version>/kubeadm;
// scripts/test.sh reads this list by running this file (`node lib/fleet/real-kubeadm.js`).
import * as fs from 'node:fs';
import * as path from 'node:path';

export const REAL_KUBEADM_VERSIONS = ['v1.35.4', 'v1.36.3', 'v1.37.2'] as const;

/**
 * The releases the real fleet (fleet/real) runs: every binary, etcd, CoreDNS and the images built
 * here by scripts/build-real.sh. The others stay on the stand-ins.
 */
export const REAL_FLEET_VERSIONS = ['v1.36.3', 'v1.37.2'] as const;

/** The repository: the nearest directory above this file holding scripts/build-kubernetes.sh. */
export function repoRoot(): string {
  for (let d = __dirname; path.dirname(d) !== d; d = path.dirname(d)) {
    if (fs.existsSync(path.join(d, 'scripts', 'build-kubernetes.sh'))) return d;
  }
  return process.cwd();
}

/**
 * The folder scripts/build-kubernetes.sh builds a release's binaries into (kubeadm, kubelet, kubectl
 * and the control plane's, each with its `<binary>.sha256`), whether built yet or not. The real
 * fleet's nodes run this release's kubeadm, kubelet and kubectl from it; an upgrade test stages
 * another release's from it.
 */
export function kubernetesBinDir(version: string): string {
  return path.join(repoRoot(), '.tools', 'kubernetes', version);
}

export function realKubeadmPath(version: string): string {
  return path.join(kubernetesBinDir(version), 'kubeadm');
}

/** The listed release of this minor, whether built or not. */
export function realKubeadmVersion(minor: number): string | undefined {
  return REAL_KUBEADM_VERSIONS.find((v) => Number(v.split('.')[1]) === minor);
}

/** The built binary of this minor, or undefined (not listed, or not built yet). */
export function realKubeadm(minor: number): string | undefined {
  const version = realKubeadmVersion(minor);
  if (!version) return undefined;
  const bin = realKubeadmPath(version);
  return fs.existsSync(bin) ? bin : undefined;
}

if (require.main === module) {
  // `node lib/fleet/real-kubeadm.js` lists the releases built for kubeadm alone; `... real` those of the real fleet.
  const real = process.argv[2] === 'real';
  process.stdout.write(
    (real
      ? REAL_FLEET_VERSIONS
      : REAL_KUBEADM_VERSIONS.filter((v) => !(REAL_FLEET_VERSIONS as readonly string[]).includes(v))
    ).join(' ') + '\n',
  );
}
