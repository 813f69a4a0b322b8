// Which failures Temporal retries is decided by the activities (activities/index.ts), not by a list
// in every scheduled event's retry policy.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ApplicationFailure } from '@temporalio/activity';
import { MockActivityEnvironment } from '@temporalio/testing';
import { asNonRetryable, failureTypes } from '../../src/activities/failure-types';
import { NON_RETRYABLE_TYPES } from '../../src/shared/failures';

test('a retryable failure of a non-retryable type comes back non-retryable, with its message, type and stack', () => {
  const err = ApplicationFailure.retryable('cp1: kubeadm token create printed no token: …', 'KubeadmFailed');
  const out = asNonRetryable(err);
  assert.ok(out instanceof ApplicationFailure);
  assert.equal(out.nonRetryable, true);
  assert.equal(out.type, 'KubeadmFailed');
  assert.equal(out.message, err.message);
  assert.equal(out.stack, err.stack);
});

test('failures a new attempt can heal stay retryable; other errors pass unchanged', () => {
  for (const type of ['SshUnavailable', 'CommandFailed', 'ActivityError']) {
    assert.ok(!NON_RETRYABLE_TYPES.includes(type));
    const err = ApplicationFailure.retryable('w3: connection lost while a command was running', type);
    assert.equal(asNonRetryable(err), err);
  }
  const plain = new Error('boom');
  assert.equal(asNonRetryable(plain), plain);
});

test("through the worker's interceptor, an activity that throws a retryable failure of a non-retryable type rejects non-retryable", async () => {
  const env = new MockActivityEnvironment(undefined, { interceptors: [failureTypes] });
  const act = async (_: { host: string }) => {
    throw ApplicationFailure.retryable('w1: HalfDone', 'HalfDone');
  };
  await assert.rejects(
    env.run(act, { host: 'w1' }),
    (err: unknown) => err instanceof ApplicationFailure && err.nonRetryable === true && err.type === 'HalfDone',
  );
  assert.equal(await env.run(async (i: { host: string }) => `joined ${i.host}`, { host: 'w2' }), 'joined w2');
});
