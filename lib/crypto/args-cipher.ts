import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';
import { ArgsDecryptionError } from '../errors/args-decryption.error';
import { messages } from '../errors/messages';

const VERSION = 'v1';
const NONCE_BYTES = 12;
const TAG_BYTES = 16;

/**
 * AES-256-GCM for task arguments at rest (`encryptArgsKey`).
 *
 * Payload: `v1:<key id>:<base64(nonce | tag | ciphertext)>`. The plaintext is the
 * JSON of the argument array; the nonce is 12 random bytes per task; the registered
 * task name is the additional authenticated data, so a payload cannot be moved to
 * another function. The key id (first 8 hex digits of a SHA-256 of the key) lets the
 * error tell "encrypted with another key" from "altered payload"; it reveals
 * nothing usable about the key.
 */
export class ArgsCipher {
  readonly keyId: string;
  /** An ES private field: never shown when the object is logged or inspected. */
  readonly #key: Buffer;

  constructor(key: Buffer) {
    if (key.length !== 32) throw new RangeError('ArgsCipher: the key must be 32 bytes');
    this.#key = Buffer.from(key);
    this.keyId = keyIdOf(key);
  }

  encrypt(funcName: string, args: readonly unknown[]): string {
    const nonce = randomBytes(NONCE_BYTES);
    const cipher = createCipheriv('aes-256-gcm', this.#key, nonce);
    cipher.setAAD(aad(funcName));
    const body = Buffer.concat([cipher.update(JSON.stringify(args), 'utf8'), cipher.final()]);
    return `${VERSION}:${this.keyId}:${Buffer.concat([nonce, cipher.getAuthTag(), body]).toString('base64')}`;
  }

  /** The argument array, or an ArgsDecryptionError saying why not. */
  decrypt(funcName: string, payload: string): unknown[] {
    return ArgsCipher.decrypt(this, funcName, payload);
  }

  /**
   * Decrypts `payload` with `cipher` (null when no key is configured). Every
   * failure is an ArgsDecryptionError that says what to do; the payload is never quoted.
   */
  static decrypt(cipher: ArgsCipher | null, funcName: string, payload: string): unknown[] {
    const parts = String(payload).split(':');
    if (parts.length !== 3 || parts[0] !== VERSION) throw new ArgsDecryptionError(messages.argsUnreadable(funcName));
    const [, keyId, body] = parts;
    if (!cipher) throw new ArgsDecryptionError(messages.argsNoKey(funcName, keyId));
    if (keyId !== cipher.keyId) throw new ArgsDecryptionError(messages.argsOtherKey(funcName, keyId, cipher.keyId));
    let args: unknown;
    try {
      args = JSON.parse(cipher.open(funcName, Buffer.from(body, 'base64')).toString('utf8'));
    } catch {
      throw new ArgsDecryptionError(messages.argsTampered(funcName));
    }
    if (!Array.isArray(args)) throw new ArgsDecryptionError(messages.argsUnreadable(funcName));
    return args;
  }

  /** Authenticated decryption of one payload body; throws on a short body or a wrong tag. */
  private open(funcName: string, raw: Buffer): Buffer {
    if (raw.length < NONCE_BYTES + TAG_BYTES) throw new Error('payload too short');
    const decipher = createDecipheriv('aes-256-gcm', this.#key, raw.subarray(0, NONCE_BYTES));
    decipher.setAAD(aad(funcName));
    decipher.setAuthTag(raw.subarray(NONCE_BYTES, NONCE_BYTES + TAG_BYTES));
    return Buffer.concat([decipher.update(raw.subarray(NONCE_BYTES + TAG_BYTES)), decipher.final()]);
  }
}

function aad(funcName: string): Buffer {
  return Buffer.from(`nestjs-taskflow:${VERSION}:${funcName}`, 'utf8');
}

function keyIdOf(key: Buffer): string {
  return createHash('sha256').update('nestjs-taskflow key id\0').update(key).digest('hex').slice(0, 8);
}
