// AES-256-GCM payload codec, after samples-typescript's encryption sample
// (https://github.com/temporalio/samples-typescript/tree/main/encryption): the whole serialized
// Payload is encrypted; the result has metadata encoding "binary/encrypted" and the key id, and data
// iv (12 bytes) | ciphertext | GCM tag (16 bytes). With a key configured, a payload that is not
// encrypted with one of the keys is refused (see shared/refused-payload): only holders of the key steer.
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { defaultPayloadConverter, type Payload, type PayloadCodec } from '@temporalio/common';
import { temporal } from '@temporalio/proto';
import { CodecKeys, KEY_FILE_ENV } from './keys';
import { type RefusalReason, refusedPayload } from '../shared/refused-payload';

export const ENCRYPTED_ENCODING = 'binary/encrypted';
export const KEY_ID_METADATA = 'encryption-key-id';
const IV_BYTES = 12;
const TAG_BYTES = 16;

export class CodecError extends Error {
  constructor(
    message: string,
    readonly reason: RefusalReason,
  ) {
    super(message);
  }
}

/**
 * What a decoder does with a payload it refuses: `throw` (the CLI: the command fails, naming why),
 * `mark` (the worker: the payload becomes a refusal marker its interceptors turn away, since a decode
 * error would fail the workflow task over and over), `show` (the codec server: it only displays,
 * so plain payloads pass; undecryptable ones are still an error).
 */
export type RefusalMode = 'throw' | 'mark' | 'show';

const text = (b: Uint8Array | null | undefined) => (b ? Buffer.from(b).toString('utf8') : undefined);

export function isEncrypted(p: Payload): boolean {
  return text(p.metadata?.encoding) === ENCRYPTED_ENCODING;
}

export class EncryptionCodec implements PayloadCodec {
  constructor(
    private readonly k: CodecKeys,
    private readonly who = 'this worker/CLI',
    private readonly mode: RefusalMode = 'throw',
  ) {}

  async encode(payloads: Payload[]): Promise<Payload[]> {
    const id = this.k.encryptKeyId;
    if (!id) return payloads;
    const key = this.k.keys.get(id)!;
    return payloads.map((p) => {
      const iv = randomBytes(IV_BYTES);
      const cipher = createCipheriv('aes-256-gcm', key, iv);
      const plain = temporal.api.common.v1.Payload.encode(p).finish();
      return {
        metadata: { encoding: Buffer.from(ENCRYPTED_ENCODING), [KEY_ID_METADATA]: Buffer.from(id) },
        data: Buffer.concat([iv, cipher.update(plain), cipher.final(), cipher.getAuthTag()]),
      };
    });
  }

  async decode(payloads: Payload[]): Promise<Payload[]> {
    return payloads.map((p) => {
      try {
        return this.decodeOne(p);
      } catch (e) {
        if (this.mode !== 'mark' || !(e instanceof CodecError)) throw e;
        return defaultPayloadConverter.toPayload(refusedPayload(e.reason, e.message));
      }
    });
  }

  private decodeOne(p: Payload): Payload {
    if (!isEncrypted(p)) {
      if (this.k.keys.size === 0 || this.mode === 'show') return p;
      throw new CodecError(
        `refused a payload that is not encrypted: with a payload key set, ${this.who} reads only payloads encrypted with its keys, so whoever wrote it does not hold the key (a run started or signalled without ${KEY_FILE_ENV}?)`,
        'plain',
      );
    }
    const id = text(p.metadata?.[KEY_ID_METADATA]);
    if (!id)
      throw new CodecError(
        `cannot decrypt: payload is ${ENCRYPTED_ENCODING} but names no ${KEY_ID_METADATA}`,
        'unauthenticated',
      );
    const key = this.k.keys.get(id);
    if (!key)
      throw new CodecError(
        `cannot decrypt: payload encrypted with key id ${id}, which ${this.who} does not have; set ${KEY_FILE_ENV}`,
        'unknown-key',
      );
    const data = Buffer.from(p.data ?? []);
    if (data.length < IV_BYTES + TAG_BYTES)
      throw new CodecError(`cannot decrypt: payload encrypted with key id ${id} is truncated`, 'unauthenticated');
    const decipher = createDecipheriv('aes-256-gcm', key, data.subarray(0, IV_BYTES));
    decipher.setAuthTag(data.subarray(data.length - TAG_BYTES));
    let plain: Buffer;
    try {
      plain = Buffer.concat([decipher.update(data.subarray(IV_BYTES, data.length - TAG_BYTES)), decipher.final()]);
    } catch {
      throw new CodecError(
        `cannot decrypt: payload encrypted with key id ${id} failed authentication (altered, or another key with the same id)`,
        'unauthenticated',
      );
    }
    const original = temporal.api.common.v1.Payload.decode(plain);
    return { metadata: original.metadata, data: original.data };
  }
}
