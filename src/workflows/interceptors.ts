// Each scheduled activity names its host, so the Web UI's timeline reads "joinNode w17", not a row
// of "joinNode". Every activity's input names the host it acts on.
import type { WorkflowInterceptors } from '@temporalio/workflow';

export const interceptors = (): WorkflowInterceptors => ({
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
