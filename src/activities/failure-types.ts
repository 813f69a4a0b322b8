// Which failures Temporal may retry is decided here, by type, once for every activity (an inbound
// interceptor), so the retry policy need not list the types: the list is not copied into every
// ActivityTaskScheduled event (about 300 bytes each, the largest part of a scheduled join).
import { ApplicationFailure } from '@temporalio/activity';
import type { ActivityInterceptorsFactory } from '@temporalio/worker';
import { NON_RETRYABLE_TYPES } from '../shared/failures';

export const failureTypes: ActivityInterceptorsFactory = () => ({
  inbound: {
    async execute(input, next) {
      try {
        return await next(input);
      } catch (err) {
        throw asNonRetryable(err);
      }
    },
  },
});

export function asNonRetryable(err: unknown): unknown {
  if (
    !(err instanceof ApplicationFailure) ||
    err.nonRetryable ||
    !err.type ||
    !NON_RETRYABLE_TYPES.includes(err.type)
  ) {
    return err;
  }
  const failure = ApplicationFailure.create({
    message: err.message,
    type: err.type,
    nonRetryable: true,
    details: err.details ? [...err.details] : undefined,
    cause: err.cause,
  });
  failure.stack = err.stack;
  return failure;
}
