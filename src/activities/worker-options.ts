// The activities as a worker registers them: the functions and the interceptor that decides which
// of their failures Temporal retries. The worker and the tests that run real activities share it.
import * as activities from '.';
import { failureTypes } from './failure-types';

export const activityWorkerOptions = { activities, interceptors: { activity: [failureTypes] } };
