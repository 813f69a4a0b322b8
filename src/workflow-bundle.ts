// The workflow code as the worker loads it: bundled once at build time (`npm run build`), not at
// every worker start. The bundle records a digest of the compiled workflow sources it was made
// from; a worker whose sources changed since (a `tsc` without the bundle step) bundles afresh
// rather than run stale workflow code.
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { bundleWorkflowCode, DefaultLogger } from '@temporalio/worker';
import { FAILURE_CONVERTER_PATH } from './codec/data-converter';

const LIB_SRC = resolve(__dirname);
export const BUNDLE_FILE = resolve(__dirname, '../workflow-bundle.js');
const DIGEST_FILE = `${BUNDLE_FILE}.sha256`;

/** Digest of every compiled module the workflows can import (workflows, shared definitions, pure kubeadm and config code). */
function sourcesDigest(): string {
  const h = createHash('sha256');
  const walk = (dir: string): void => {
    for (const name of readdirSync(dir).sort()) {
      const p = join(dir, name);
      if (statSync(p).isDirectory()) walk(p);
      else if (name.endsWith('.js')) h.update(p).update(readFileSync(p));
    }
  };
  for (const d of ['workflows', 'shared', 'kubeadm', 'config', 'common']) walk(join(LIB_SRC, d));
  h.update(readFileSync(FAILURE_CONVERTER_PATH));
  return h.digest('hex');
}

export async function buildWorkflowBundle(): Promise<string> {
  // A custom failure converter runs inside the workflow sandbox, so it is bundled:
  // https://typescript.temporal.io/api/interfaces/worker.BundleOptions#failureconverterpath
  const { code } = await bundleWorkflowCode({
    workflowsPath: require.resolve('./workflows'),
    workflowInterceptorModules: [require.resolve('./workflows/interceptors')],
    failureConverterPath: FAILURE_CONVERTER_PATH,
    logger: new DefaultLogger('WARN'),
  });
  writeFileSync(BUNDLE_FILE, code);
  writeFileSync(DIGEST_FILE, sourcesDigest());
  return BUNDLE_FILE;
}

/** The prebuilt bundle when it matches the compiled sources; otherwise a fresh one. */
export async function workflowBundleOption(log: (s: string) => void = () => undefined): Promise<{ codePath: string }> {
  const fresh =
    existsSync(BUNDLE_FILE) && existsSync(DIGEST_FILE) && readFileSync(DIGEST_FILE, 'utf8') === sourcesDigest();
  if (!fresh) {
    log(
      'workflow bundle missing or older than the compiled workflows: bundling now (npm run build does it ahead of time)',
    );
    await buildWorkflowBundle();
  }
  return { codePath: BUNDLE_FILE };
}

if (require.main === module) {
  buildWorkflowBundle().then(
    (f) => console.log(`workflow bundle: ${f}`),
    (err) => {
      console.error(err);
      process.exit(1);
    },
  );
}
