/**
 * A task's encrypted arguments cannot be decrypted (wrong or rotated key, no key,
 * or an altered payload). The task fails with this error and none of its attempts run.
 */
export class ArgsDecryptionError extends Error {
  override readonly name = 'ArgsDecryptionError';
}
