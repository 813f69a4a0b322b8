// A run's input is checked before anything is scheduled: the spec with the cluster file's own schema
// (config/spec-check), the tuning within bounds. Whoever started the run may not have used the CLI.
import { ApplicationFailure } from '@temporalio/workflow';
import { z } from 'zod';
import { specProblems } from '../config/spec-check';
import { INVALID_INPUT } from '../shared/failures';
import { WAVE_SIZE } from './build/waves';

/** A Temporal duration string as the tests and operators write them: 50ms, 0.050s, 2s, 1m. */
const duration = z.string().regex(/^\d{1,6}(\.\d{1,3})?(ms|s|m|h)$/, 'must be a duration such as 500ms, 2s or 1m');
const seconds = (min: number) =>
  z
    .number()
    .int()
    .min(min)
    .max(7 * 86400);

const retrySchema = z.strictObject({
  maximumAttempts: z.number().int().min(1).max(100).optional(),
  initialInterval: duration.optional(),
  maximumInterval: duration.optional(),
});
const tuningSchema = z.strictObject({
  retry: retrySchema.optional(),
  token: z.strictObject({ ttlSeconds: seconds(1), minRemainingSeconds: seconds(0) }).optional(),
  uploadedCerts: z.strictObject({ validSeconds: seconds(1), minRemainingSeconds: seconds(0) }).optional(),
  // At most the default: a larger wave's history would near Temporal's 10,240-event warning.
  waves: z.strictObject({ size: z.number().int().min(1).max(WAVE_SIZE) }).optional(),
});

function zodProblems(field: string, schema: z.ZodType, value: unknown): string[] {
  const r = schema.safeParse(value);
  return r.success ? [] : r.error.issues.map((i) => `${[field, ...i.path].join('.')}: ${i.message}`);
}

function inputProblems(input: unknown, optional: Record<string, z.ZodType>): string[] {
  if (!input || typeof input !== 'object' || Array.isArray(input)) return ['the input must be an object with a spec'];
  const { spec, ...rest } = input as Record<string, unknown>;
  const problems = specProblems(spec).map((p) => `spec.${p}`);
  for (const [k, v] of Object.entries(rest)) {
    const schema = optional[k];
    if (!schema) problems.push(`${k}: not an input this workflow takes`);
    else if (v !== undefined) problems.push(...zodProblems(k, schema, v));
  }
  return problems;
}

/** Stops the run, naming every problem, before any activity is scheduled. */
function refuse(problems: string[]): void {
  if (!problems.length) return;
  const shown = problems.slice(0, 20).concat(problems.length > 20 ? [`and ${problems.length - 20} more`] : []);
  throw ApplicationFailure.create({
    type: INVALID_INPUT,
    nonRetryable: true,
    message: `the run's input is not one kubeadm-ha's CLI would start (${problems.length} problem(s)); nothing was done:\n${shown.map((p) => `  - ${p}`).join('\n')}`,
  });
}

export const checkBuildInput = (input: unknown): void => refuse(inputProblems(input, { tuning: tuningSchema }));
export const checkPlanInput = (input: unknown): void => refuse(inputProblems(input, { retry: retrySchema }));
export const checkResetInput = (input: unknown): void =>
  refuse(inputProblems(input, { tuning: z.strictObject({ retry: retrySchema.optional() }) }));
export const checkUpgradeInput = (input: unknown): void =>
  refuse(
    inputProblems(input, {
      tuning: z.strictObject({ retry: retrySchema.optional() }),
      approvedBy: z.string().min(1).max(256),
      approvedPlan: z.strictObject({
        fingerprint: z.string().regex(/^[0-9a-f]{64}$/, 'must be a SHA-256 in hex'),
        approver: z.string().min(1).max(256),
        versions: z.record(
          z.string().max(253),
          z.strictObject({
            kubeadm: z.string().max(64).optional(),
            kubelet: z.string().max(64).optional(),
            staticPods: z.record(z.string().max(64), z.string().max(256)),
          }),
        ),
      }),
    }),
  );
