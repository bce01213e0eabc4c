import { randomBytes } from 'node:crypto';
import { inspect } from 'node:util';
import { ArgsDecryptionError } from '../../lib';
import { ArgsCipher } from '../../lib/crypto/args-cipher';
import { toTaskRecord } from '../../lib/task/task-record';

describe('ArgsCipher (AES-256-GCM)', () => {
  const key = randomBytes(32);
  const cipher = new ArgsCipher(key);
  const args = ['user@example.com', { card: '4111 1111 1111 1111', amount: 12.5, tags: ['a', null] }, true];

  it('round-trips JSON arguments; the payload is v1:<key id>:<base64(nonce|tag|ciphertext)> and shows nothing of them', () => {
    const payload = cipher.encrypt('Billing.charge', args);
    expect(payload).toMatch(/^v1:[0-9a-f]{8}:[A-Za-z0-9+/]+=*$/);
    expect(payload).not.toContain('4111');
    expect(Buffer.from(payload.split(':')[2], 'base64').toString('latin1')).not.toContain('example.com');
    expect(cipher.decrypt('Billing.charge', payload)).toEqual(args);
  });

  it('uses a fresh 12-byte nonce per payload', () => {
    const a = cipher.encrypt('Billing.charge', args);
    const b = cipher.encrypt('Billing.charge', args);
    expect(a).not.toBe(b);
    const nonce = (p: string) => Buffer.from(p.split(':')[2], 'base64').subarray(0, 12).toString('hex');
    expect(nonce(a)).not.toBe(nonce(b));
  });

  it('refuses a payload encrypted with another key, naming both key ids', () => {
    const other = new ArgsCipher(randomBytes(32));
    const payload = other.encrypt('Billing.charge', args);
    expect(() => cipher.decrypt('Billing.charge', payload)).toThrow(ArgsDecryptionError);
    expect(() => cipher.decrypt('Billing.charge', payload)).toThrow(
      `the arguments of Billing.charge were encrypted with another key (key id ${other.keyId}; the configured encryptArgsKey has id ${cipher.keyId}). Was the key rotated?`,
    );
  });

  it('refuses an altered payload, a payload moved to another task, garbage, and a payload without a key', () => {
    const payload = cipher.encrypt('Billing.charge', args);
    const raw = Buffer.from(payload.split(':')[2], 'base64');
    raw[raw.length - 1] ^= 1;
    const altered = `v1:${cipher.keyId}:${raw.toString('base64')}`;
    expect(() => cipher.decrypt('Billing.charge', altered)).toThrow(/failed authentication/);
    expect(() => cipher.decrypt('Billing.refund', payload)).toThrow(/failed authentication/);
    expect(() => cipher.decrypt('Billing.charge', `v1:${cipher.keyId}:AAAA`)).toThrow(/failed authentication/);
    expect(() => cipher.decrypt('Billing.charge', 'gAAAAABfernet-token')).toThrow(/not a payload this version can read/);
    expect(() => ArgsCipher.decrypt(null, 'Billing.charge', payload)).toThrow(
      `the arguments of Billing.charge are encrypted (key id ${cipher.keyId}) but no encryptArgsKey is configured`,
    );
  });

  it('does not show the key when inspected', () => {
    expect(inspect(cipher, { showHidden: true, depth: 5 })).not.toContain(key.toString('hex').slice(0, 16));
    expect(JSON.stringify(cipher)).not.toContain(key.toString('base64').slice(0, 16));
  });

  it('the API shows encrypted arguments as <encrypted>', () => {
    const record = toTaskRecord(
      {
        id: 'x',
        funcName: 'Billing.charge',
        status: 'pending',
        createdAt: 0,
        startTime: null,
        endTime: null,
        retriesUsed: 0,
        error: null,
        stacktrace: null,
        logs: [],
        tags: {},
        source: 'manual',
        priority: null,
        progress: null,
        args: [],
        argsCipher: cipher.encrypt('Billing.charge', args),
        idempotencyKey: null,
        durable: false,
        owner: null,
        version: 1,
      },
      true,
    );
    expect(record.args).toEqual(['<encrypted>']);
  });
});
