import { Inject, Injectable, Logger, OnModuleInit, ServiceUnavailableException } from '@nestjs/common';
import { JwtService } from '@nestjs/jwt';
import { LOGGER_CONTEXT, TASKFLOW_OPTIONS } from '../constants';
import type { ResolvedTaskOptions } from '../options/resolve-options';
import { TaskRole, isTaskRole } from '../options/task-role';
import { authMessages } from './auth-messages';
import { TaskPrincipal } from './task-principal';

/** Longest token looked at; anything longer is refused without parsing. */
const MAX_TOKEN_LENGTH = 4096;

export interface IssuedToken {
  token: string;
  /** Lifetime in whole seconds (`expires_in`, cookie Max-Age). */
  expiresIn: number;
}

/**
 * Issues and verifies the admin tokens: HS256 JWTs with `sub`, `role`, `iat` and
 * `exp`, signed with `secretKey`. Verification accepts HS256 only (no `none`, no
 * RS/HS confusion) and requires `sub`, a known `role` and `exp`; when the auth
 * backend can say whether a user exists, a token of a user no longer configured is
 * refused too.
 */
@Injectable()
export class TaskTokenService implements OnModuleInit {
  private readonly logger = new Logger(LOGGER_CONTEXT);
  private readonly jwt: JwtService;

  constructor(@Inject(TASKFLOW_OPTIONS) private readonly options: ResolvedTaskOptions) {
    this.jwt = new JwtService({
      secret: options.secretKey,
      signOptions: { algorithm: 'HS256' },
      verifyOptions: { algorithms: ['HS256'] },
    });
  }

  onModuleInit(): void {
    if (this.options.auth !== null && this.options.secretKeyGenerated) {
      this.logger.warn(
        'No secretKey given: admin tokens are signed with a random key generated at startup, so sessions end when the ' +
          'application restarts and are not valid on other instances. Set secretKey to keep them.',
      );
    }
  }

  /** Whole seconds a token and its cookie live (tokenExpiry, at least 1). */
  get lifetime(): number {
    return Math.max(1, Math.floor(this.options.tokenExpiry));
  }

  async issue(sub: string, role: TaskRole): Promise<IssuedToken> {
    const iat = Math.floor(Date.now() / 1000);
    const token = await this.jwt.signAsync({ sub, role, iat, exp: iat + this.lifetime });
    return { token, expiresIn: this.lifetime };
  }

  /**
   * The principal of a valid token; null when it is malformed, tampered, expired, of
   * another algorithm, without a known role, or of a user the backend no longer has.
   */
  async verify(token: string): Promise<TaskPrincipal | null> {
    const principal = await this.decode(token);
    if (!principal || !(await this.userExists(principal.sub))) return null;
    return principal;
  }

  private async decode(token: string): Promise<TaskPrincipal | null> {
    if (token.length === 0 || token.length > MAX_TOKEN_LENGTH) return null;
    try {
      const payload: unknown = await this.jwt.verifyAsync(token, { algorithms: ['HS256'] });
      if (payload === null || typeof payload !== 'object') return null;
      const { sub, role, exp } = payload as { sub?: unknown; role?: unknown; exp?: unknown };
      if (typeof sub !== 'string' || sub === '' || typeof exp !== 'number' || !isTaskRole(role)) return null;
      return { sub, role };
    } catch {
      return null;
    }
  }

  /** Asks the backend when it can tell; a backend that throws answers 503 rather than signing everyone out. */
  private async userExists(sub: string): Promise<boolean> {
    const backend = this.options.auth;
    if (!backend?.userExists) return true;
    try {
      return (await backend.userExists(sub)) === true;
    } catch (error) {
      this.logger.error(`The TaskAuthBackend threw in userExists: ${error instanceof Error ? error.message : String(error)}`);
      throw new ServiceUnavailableException(authMessages.authBackendFailed());
    }
  }
}
