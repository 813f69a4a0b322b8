// Workflow interceptors, registered in the bundle (workflow-bundle.ts):
// - inbound: with a payload key, only payloads encrypted with it steer a run. The worker's codec turns
//   any other into a refusal marker (shared/refused-payload.ts), refused here before a handler sees it:
//   a run started with one fails at once, before any activity; a signal is ignored; an update or a
//   query is refused with the reason.
// - outbound: each scheduled activity names its host, so the Web UI's timeline reads "joinNode w17",
//   not a row of "joinNode". Every activity's input names the host it acts on.
import { ApplicationFailure, log, type WorkflowInterceptors } from '@temporalio/workflow';
import { firstRefused } from '../shared/refused-payload';
import { PAYLOAD_REFUSED } from '../shared/failures';

const refusal = (what: string, message: string) =>
  ApplicationFailure.create({ type: PAYLOAD_REFUSED, nonRetryable: true, message: `${what} refused: ${message}` });

export const interceptors = (): WorkflowInterceptors => ({
  inbound: [
    {
      async execute(input, next) {
        const refused = firstRefused(input.args);
        // A key this worker lacks may be added back (a key dropped too early): the workflow task
        // fails and is retried until then, rather than the run failing for good.
        if (refused?.reason === 'unknown-key') throw new Error(refused.message);
        if (refused) throw refusal("the run's input was", refused.message);
        return next(input);
      },
      async handleSignal(input, next) {
        const refused = firstRefused(input.args);
        if (refused) {
          log.warn(`signal ${input.signalName} ignored: ${refused.message}`);
          return;
        }
        return next(input);
      },
      validateUpdate(input, next) {
        const refused = firstRefused(input.args);
        if (refused) throw refusal(`update ${input.name}`, refused.message);
        next(input);
      },
      async handleUpdate(input, next) {
        const refused = firstRefused(input.args);
        if (refused) throw refusal(`update ${input.name}`, refused.message);
        return next(input);
      },
      async handleQuery(input, next) {
        const refused = firstRefused(input.args);
        if (refused) throw refusal(`query ${input.queryName}`, refused.message);
        return next(input);
      },
    },
  ],
  outbound: [
    {
      scheduleActivity(input, next) {
        const host = (input.args[0] as { host?: { name?: unknown } } | undefined)?.host?.name;
        if (typeof host !== 'string' || input.options.summary) return next(input);
        return next({ ...input, options: { ...input.options, summary: `${input.activityType} ${host}` } });
      },
    },
  ],
});
