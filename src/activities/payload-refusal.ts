// Activity tasks can be scheduled on this worker's task queue by any workflow, even one that another
// worker runs: the activity's input is then not encrypted with this worker's key. The codec turned
// such an input into a refusal marker (shared/refused-payload); the step fails here, before the
// activity reads a file or opens a connection.
import { ApplicationFailure } from '@temporalio/activity';
import type { ActivityInterceptorsFactory } from '@temporalio/worker';
import { PAYLOAD_REFUSED } from '../shared/failures';
import { firstRefused } from '../shared/refused-payload';

export const payloadRefusal: ActivityInterceptorsFactory = () => ({
  inbound: {
    async execute(input, next) {
      const refused = firstRefused(input.args);
      if (refused) {
        throw ApplicationFailure.create({
          type: PAYLOAD_REFUSED,
          nonRetryable: true,
          message: `activity input refused: ${refused.message}`,
        });
      }
      return next(input);
    },
  },
});
