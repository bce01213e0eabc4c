import { createHash, timingSafeEqual } from 'node:crypto';

/** Decides whether a username/password pair may sign in. Extend it to plug in your own user store. */
export abstract class TaskAuthBackend {
  abstract authenticateUser(username: string, password: string): boolean | Promise<boolean>;

  /** The backend behind `auth: [user, pass]` and `auth: [[user, pass], ...]`. */
  static fromCredentials(pairs: readonly (readonly [string, string])[]): TaskAuthBackend {
    return new StaticCredentialsBackend(pairs);
  }
}

/**
 * Compares SHA-256 digests with timingSafeEqual, and does the same work for an
 * unknown user as for a known one, so timing reveals neither the password nor
 * whether the user exists.
 */
class StaticCredentialsBackend extends TaskAuthBackend {
  private readonly users = new Map<string, Buffer>();
  private readonly decoy = digest('nestjs-taskflow:no-such-user');

  constructor(pairs: readonly (readonly [string, string])[]) {
    super();
    for (const [user, pass] of pairs) this.users.set(user, digest(pass));
  }

  authenticateUser(username: string, password: string): boolean {
    const expected = this.users.get(username);
    const match = timingSafeEqual(digest(password), expected ?? this.decoy);
    return match && expected !== undefined;
  }
}

function digest(text: string): Buffer {
  return createHash('sha256').update(text, 'utf8').digest();
}
