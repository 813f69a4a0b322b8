// The activities as a worker registers them: the functions, the interceptor that refuses inputs not
// encrypted with the worker's key, and the one that decides which of their failures Temporal
// retries. The worker and the tests that run real activities share it.
import * as activities from '.';
import { failureTypes } from './failure-types';
import { payloadRefusal } from './payload-refusal';

export const activityWorkerOptions = { activities, interceptors: { activity: [payloadRefusal, failureTypes] } };
