// The failure converter of the worker, its workflow bundle and every client: failure messages and
// stack traces move into an encoded payload, so the payload codec encrypts them too.
// https://typescript.temporal.io/api/classes/common.DefaultFailureConverter
// https://docs.temporal.io/develop/typescript/converters-and-encryption
import { DefaultFailureConverter } from '@temporalio/common';

export const failureConverter = new DefaultFailureConverter({ encodeCommonAttributes: true });
