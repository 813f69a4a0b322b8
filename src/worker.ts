// The worker process: runs the workflow and the SSH activities. Start one per machine that can
// reach the hosts (it reads the SSH key and known_hosts named in the cluster file). Several may share
// a task queue; the host journal and lock keep each step on a host exactly once whichever runs it.
import { parseArgs } from 'node:util';
import { DefaultLogger, NativeConnection, Runtime, Worker } from '@temporalio/worker';
import { activityWorkerOptions } from './activities/worker-options';
import { workerDataConverter } from './codec/data-converter';
import { codecNotice, loadCodecKeys } from './codec/keys';
import { openConnection } from './client/connect';
import {
  CONNECTION_OPTIONS,
  connectionFlags,
  type ConnectionFlags,
  ensureSearchAttributes,
  TemporalConfigError,
  temporalTarget,
} from './client/connection';
import { taskQueueProblem } from './config/value-problems';
import { TASK_QUEUE } from './shared/definitions';
import { sessionPool } from './ssh/pool';
import { workflowBundleOption } from './workflow-bundle';
import { FILE_ROOTS_ENV, FileRootsError, resolveFileRoots, setFileRoots } from './worker-files';

export const TASK_QUEUE_ENV = 'KUBEADM_HA_TASK_QUEUE';

export interface WorkerArgs {
  fileRoots: string[];
  /** The queue it polls: the runs' own (TASK_QUEUE), or a zone's that hosts name in the cluster file. */
  taskQueue: string;
  connection: ConnectionFlags;
}

const WORKER_USAGE =
  'the worker takes --file-roots DIR[:DIR...] (folders it may read the files a run names from), --task-queue NAME ' +
  `(default ${TASK_QUEUE}; a zone's queue named by hosts' taskQueue in the cluster file) and the Temporal connection flags (kubeadm-ha --help)`;

/** The worker's settings: `--file-roots` (KUBEADM_HA_FILE_ROOTS), `--task-queue` (KUBEADM_HA_TASK_QUEUE), the connection flags. */
export function parseWorkerArgs(argv: string[], env: NodeJS.ProcessEnv = process.env): WorkerArgs {
  let values: Record<string, string | boolean | undefined>;
  try {
    values = parseArgs({
      args: argv,
      strict: true,
      allowPositionals: false,
      options: { 'file-roots': { type: 'string' }, 'task-queue': { type: 'string' }, ...CONNECTION_OPTIONS },
    }).values;
  } catch (err) {
    throw new FileRootsError(`${(err as Error).message}; ${WORKER_USAGE}`);
  }
  const taskQueue = (values['task-queue'] as string | undefined) ?? env[TASK_QUEUE_ENV] ?? TASK_QUEUE;
  const problem = taskQueueProblem(taskQueue);
  if (problem) throw new FileRootsError(`--task-queue: ${problem}`);
  return {
    fileRoots: resolveFileRoots((values['file-roots'] as string | undefined) ?? env[FILE_ROOTS_ENV]),
    taskQueue,
    connection: connectionFlags(values),
  };
}

export async function runWorker(argv: string[] = []): Promise<void> {
  const args = parseWorkerArgs(argv);
  const { fileRoots, taskQueue } = args;
  setFileRoots(fileRoots);
  Runtime.install({ logger: new DefaultLogger((process.env.LOG_LEVEL as 'INFO' | undefined) ?? 'INFO') });
  const target = temporalTarget(args.connection);
  const keys = loadCodecKeys(); // a bad or world-readable key file stops the worker here
  console.log(`kubeadm-ha worker: ${codecNotice(keys)}`);
  console.log(`kubeadm-ha worker: reads the files a run names only under ${fileRoots.join(', ')} (--file-roots)`);
  // The client connection fails fast and clearly (certificate, API key, namespace); the worker's own then uses the same settings.
  const client = await openConnection(target);
  await ensureSearchAttributes(client, target.namespace);
  await client.close();
  const connection = await NativeConnection.connect(target.connect);
  const worker = await Worker.create({
    connection,
    namespace: target.namespace,
    taskQueue,
    workflowBundle: await workflowBundleOption((s) => console.log(`kubeadm-ha worker: ${s}`)),
    ...activityWorkerOptions,
    // Encrypts every payload, failure messages and stack traces included (the bundle carries the same failure converter).
    dataConverter: workerDataConverter(keys),
    // Let a running kubeadm finish (or be stopped properly) when the worker is asked to stop.
    shutdownGraceTime: '30s',
  });
  console.log(
    `kubeadm-ha worker: task queue "${taskQueue}" on ${target.address} (namespace ${target.namespace}, ${target.auth})`,
  );
  await worker.run();
  await sessionPool().closeAll(); // else the pooled SSH connections keep the process up until their idle timeout
  await connection.close();
}

if (require.main === module) {
  runWorker(process.argv.slice(2)).catch((err) => {
    console.error(
      err instanceof TemporalConfigError
        ? `kubeadm-ha worker: ${err.message}`
        : err instanceof Error
          ? err.message
          : err,
    );
    process.exit(1);
  });
}
