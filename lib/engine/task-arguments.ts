import { ArgsCipher } from '../crypto/args-cipher';
import { TaskData } from '../task/task-record';

/**
 * Task arguments at rest: encrypted at creation with `encryptArgsKey`, decrypted
 * only just before a run.
 */
export class TaskArguments {
  private readonly cipher: ArgsCipher | null;

  constructor(key: Buffer | null) {
    this.cipher = key ? new ArgsCipher(key) : null;
  }

  get encrypts(): boolean {
    return this.cipher !== null;
  }

  encrypt(funcName: string, args: unknown[]): string {
    if (!this.cipher) throw new Error('encrypt() needs encryptArgsKey');
    return this.cipher.encrypt(funcName, args);
  }

  /** The arguments to run with; throws ArgsDecryptionError when the payload cannot be decrypted. */
  forRun(task: TaskData): unknown[] {
    return task.argsCipher === null ? task.args : ArgsCipher.decrypt(this.cipher, task.funcName, task.argsCipher);
  }
}
