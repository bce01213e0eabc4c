import { createHash, timingSafeEqual } from 'node:crypto';
import type { TaskRole } from './task-role';

/** What `authenticateUser` answers: refused (`false`), accepted as admin (`true`), or accepted with a role. */
export type TaskAuthResult = boolean | { role: TaskRole };

/** A configured user: `[username, password]` or `[username, password, role]`. */
export type TaskCredentialPair = readonly [string, string] | readonly [string, string, TaskRole];

/** Decides whether a username/password pair may sign in, and with which role. Extend it to plug in your own user store. */
export abstract class TaskAuthBackend {
  abstract authenticateUser(username: string, password: string): TaskAuthResult | Promise<TaskAuthResult>;

  /**
   * Optional: whether `username` is still a user. When present it is consulted on
   * every request, so a token of a removed user is refused before it expires, and a
   * failed sign-in is audited under the username only when it names a real user.
   */
  userExists?(username: string): boolean | Promise<boolean>;

  /** The backend behind `auth: [user, pass, role?]` and `auth: [[user, pass, role?], ...]`. */
  static fromCredentials(pairs: readonly TaskCredentialPair[]): TaskAuthBackend {
    return new StaticCredentialsBackend(pairs);
  }
}

/**
 * Compares SHA-256 digests with timingSafeEqual, and does the same work for an
 * unknown user as for a known one, so timing reveals neither the password nor
 * whether the user exists.
 */
class StaticCredentialsBackend extends TaskAuthBackend {
  private readonly users = new Map<string, { digest: Buffer; role: TaskRole | undefined }>();
  private readonly decoy = digest('nestjs-taskflow:no-such-user');

  constructor(pairs: readonly TaskCredentialPair[]) {
    super();
    for (const [user, pass, role] of pairs) this.users.set(user, { digest: digest(pass), role });
  }

  authenticateUser(username: string, password: string): TaskAuthResult {
    const expected = this.users.get(username);
    const match = timingSafeEqual(digest(password), expected?.digest ?? this.decoy);
    if (!match || expected === undefined) return false;
    // `true` is the default role (admin), as for any backend.
    return expected.role === undefined ? true : { role: expected.role };
  }

  override userExists(username: string): boolean {
    return this.users.has(username);
  }
}

function digest(text: string): Buffer {
  return createHash('sha256').update(text, 'utf8').digest();
}
