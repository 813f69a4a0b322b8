// The one DataConverter of the worker and every client (CLI, tests): the encryption codec and the
// failure converter that puts failure messages into (encrypted) payloads. Search attributes never
// pass through codecs and stay plain: they hold the cluster name, phase and status only.
// https://docs.temporal.io/develop/typescript/converters-and-encryption
import type { DataConverter } from '@temporalio/common';
import { EncryptionCodec, type RefusalMode } from './encryption-codec';
import { CodecKeys, loadCodecKeys } from './keys';

/** Module with the `failureConverter` export, for Worker/Client options and bundleWorkflowCode. */
export const FAILURE_CONVERTER_PATH = require.resolve('./failure-converter');

/** `mode`: the worker marks the payloads it refuses, a client throws (see EncryptionCodec). */
export function kubeadmHaDataConverter(
  keys: CodecKeys = loadCodecKeys(),
  who?: string,
  mode: RefusalMode = 'throw',
): DataConverter {
  return { payloadCodecs: [new EncryptionCodec(keys, who, mode)], failureConverterPath: FAILURE_CONVERTER_PATH };
}

/** The worker's: a payload it refuses becomes a marker its interceptors turn away (see shared/refused-payload). */
export const workerDataConverter = (keys: CodecKeys = loadCodecKeys()): DataConverter =>
  kubeadmHaDataConverter(keys, 'this worker', 'mark');
