// The worker process: runs the workflow and the SSH activities. Start one per machine that can
// reach the hosts (it reads the SSH key and known_hosts named in the cluster file).
import { Connection } from '@temporalio/client';
import { DefaultLogger, NativeConnection, Runtime, Worker } from '@temporalio/worker';
import { activityWorkerOptions } from './activities/worker-options';
import { workerDataConverter } from './codec/data-converter';
import { codecNotice, loadCodecKeys } from './codec/keys';
import { ensureSearchAttributes, temporalTarget } from './client/connection';
import { TASK_QUEUE } from './shared/definitions';
import { sessionPool } from './ssh/pool';
import { workflowBundleOption } from './workflow-bundle';
import { FILE_ROOTS_ENV, FileRootsError, resolveFileRoots, setFileRoots } from './worker-files';

/** The worker's own settings: `--file-roots DIR[:DIR...]` (or KUBEADM_HA_FILE_ROOTS). */
export function parseWorkerArgs(argv: string[], env: NodeJS.ProcessEnv = process.env): { fileRoots: string[] } {
  let roots = env[FILE_ROOTS_ENV];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--file-roots' && i + 1 < argv.length) roots = argv[++i];
    else if (a.startsWith('--file-roots=')) roots = a.slice('--file-roots='.length);
    else
      throw new FileRootsError(
        `unknown worker argument ${JSON.stringify(a)}; the worker takes --file-roots DIR[:DIR...] (folders it may read the files a run names from)`,
      );
  }
  return { fileRoots: resolveFileRoots(roots) };
}

export async function runWorker(argv: string[] = []): Promise<void> {
  const { fileRoots } = parseWorkerArgs(argv);
  setFileRoots(fileRoots);
  Runtime.install({ logger: new DefaultLogger((process.env.LOG_LEVEL as 'INFO' | undefined) ?? 'INFO') });
  const target = temporalTarget();
  const keys = loadCodecKeys(); // a bad or world-readable key file stops the worker here
  console.log(`kubeadm-ha worker: ${codecNotice(keys)}`);
  console.log(`kubeadm-ha worker: reads the files a run names only under ${fileRoots.join(', ')} (--file-roots)`);
  const client = await Connection.connect({ address: target.address });
  await ensureSearchAttributes(client, target.namespace);
  await client.close();
  const connection = await NativeConnection.connect({ address: target.address });
  const worker = await Worker.create({
    connection,
    namespace: target.namespace,
    taskQueue: TASK_QUEUE,
    workflowBundle: await workflowBundleOption((s) => console.log(`kubeadm-ha worker: ${s}`)),
    ...activityWorkerOptions,
    // Encrypts every payload, failure messages and stack traces included (the bundle carries the same failure converter).
    dataConverter: workerDataConverter(keys),
    // Let a running kubeadm finish (or be stopped properly) when the worker is asked to stop.
    shutdownGraceTime: '30s',
  });
  console.log(`kubeadm-ha worker: task queue "${TASK_QUEUE}" on ${target.address} (namespace ${target.namespace})`);
  await worker.run();
  await sessionPool().closeAll(); // else the pooled SSH connections keep the process up until their idle timeout
  await connection.close();
}

if (require.main === module) {
  runWorker(process.argv.slice(2)).catch((err) => {
    console.error(err instanceof Error ? err.message : err);
    process.exit(1);
  });
}
