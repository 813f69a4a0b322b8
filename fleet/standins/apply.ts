// Server side of `kubectl apply`: records objects; a DaemonSet counts as a CNI being installed
// (nodes turn Ready, CoreDNS leaves Pending).
import * as crypto from 'node:crypto';
import { updateState } from './state';

export interface ApplyObject {
  apiVersion: string;
  kind: string;
  metadata?: { name?: string; namespace?: string };
}

export function applyObjects(dir: string, objects: ApplyObject[]): { lines: string[]; errors: string[] } {
  const lines: string[] = [];
  const errors: string[] = [];
  updateState(dir, (s) => {
    for (const o of objects) {
      const name = o.metadata?.name;
      if (!o.kind || !o.apiVersion) {
        errors.push('error validating data: [apiVersion not set, kind not set]');
        continue;
      }
      if (!name) {
        errors.push(
          `error when creating: ${o.kind} in version "${o.apiVersion}" cannot be handled as a ${o.kind}: resource name may not be empty`,
        );
        continue;
      }
      const group = o.apiVersion.includes('/') ? o.apiVersion.split('/')[0] : '';
      const ref = `${o.kind.toLowerCase()}${group ? '.' + group : ''}/${name}`;
      const key = `${ref}@${o.metadata?.namespace ?? ''}`;
      const hash = crypto.createHash('sha256').update(JSON.stringify(o)).digest('hex');
      const prev = s.applied[key];
      s.applied[key] = { apiVersion: o.apiVersion, kind: o.kind, name, namespace: o.metadata?.namespace, hash };
      lines.push(`${ref} ${!prev ? 'created' : prev.hash === hash ? 'unchanged' : 'configured'}`);
      if (o.kind === 'DaemonSet') s.cniApplied = true;
    }
  });
  return { lines, errors };
}
