// The one DataConverter of the worker and every client (CLI, tests): the encryption codec and the
// failure converter that puts failure messages into (encrypted) payloads. Search attributes never
// pass through codecs and stay plain: they hold the cluster name, phase and status only.
// https://docs.temporal.io/develop/typescript/converters-and-encryption
import type { DataConverter } from '@temporalio/common';
import { EncryptionCodec } from './encryption-codec';
import { CodecKeys, loadCodecKeys } from './keys';

/** Module with the `failureConverter` export, for Worker/Client options and bundleWorkflowCode. */
export const FAILURE_CONVERTER_PATH = require.resolve('./failure-converter');

export function kubeadmHaDataConverter(keys: CodecKeys = loadCodecKeys(), who?: string): DataConverter {
  return { payloadCodecs: [new EncryptionCodec(keys, who)], failureConverterPath: FAILURE_CONVERTER_PATH };
}
