import { Inject, Injectable, Logger, OnModuleInit, ServiceUnavailableException } from '@nestjs/common';
import { JwtService } from '@nestjs/jwt';
import { randomBytes } from 'node:crypto';
import { LOGGER_CONTEXT, TASKFLOW_OPTIONS } from '../constants';
import type { ResolvedTaskOptions } from '../options/resolve-options';
import { TaskRole, isTaskRole } from '../options/task-role';
import { authMessages } from './auth-messages';
import { SessionRevocations } from './session-revocations';
import { TaskPrincipal } from './task-principal';

/** Longest token looked at; anything longer is refused without parsing. */
const MAX_TOKEN_LENGTH = 4096;
/** Longest token id accepted (ours are 22 characters); the database column holds 64. */
const MAX_JTI_LENGTH = 64;

/** A token whose signature, algorithm, claims and expiry check out. */
interface DecodedToken {
  principal: TaskPrincipal;
  /** The token's own id: what a sign-out revokes. */
  jti: string;
  /** Expiry, epoch seconds. */
  exp: number;
}

export interface IssuedToken {
  token: string;
  /** Lifetime in whole seconds (`expires_in`, cookie Max-Age). */
  expiresIn: number;
}

/**
 * Issues and verifies the admin tokens: HS256 JWTs with `sub`, `role`, `jti` (a
 * random id), `iat` and `exp`, signed with `secretKey`. Verification accepts HS256
 * only (no `none`, no RS/HS confusion) and requires `sub`, a known `role`, `jti`
 * and `exp`; a token signed out (revoke) is refused on every instance sharing the
 * storage, and when the auth backend can say whether a user exists, a token of a
 * user no longer configured is refused too.
 */
@Injectable()
export class TaskTokenService implements OnModuleInit {
  private readonly logger = new Logger(LOGGER_CONTEXT);
  private readonly jwt: JwtService;

  constructor(
    @Inject(TASKFLOW_OPTIONS) private readonly options: ResolvedTaskOptions,
    private readonly revocations: SessionRevocations,
  ) {
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
    const jti = randomBytes(16).toString('base64url');
    const token = await this.jwt.signAsync({ sub, role, jti, iat, exp: iat + this.lifetime });
    return { token, expiresIn: this.lifetime };
  }

  /**
   * The principal of a valid token; null when it is malformed, tampered, expired, of
   * another algorithm, without a known role or id, signed out, or of a user the
   * backend no longer has.
   */
  async verify(token: string): Promise<TaskPrincipal | null> {
    const decoded = await this.decode(token);
    if (!decoded || (await this.revocations.isRevoked(decoded.jti)) || !(await this.userExists(decoded.principal.sub))) return null;
    return decoded.principal;
  }

  /** Signs a valid token out until its expiry; anything else (already invalid) needs nothing. */
  async revoke(token: string): Promise<void> {
    const decoded = await this.decode(token);
    if (decoded) await this.revocations.revoke(decoded.jti, decoded.exp * 1000);
  }

  private async decode(token: string): Promise<DecodedToken | null> {
    if (token.length === 0 || token.length > MAX_TOKEN_LENGTH) return null;
    try {
      const payload: unknown = await this.jwt.verifyAsync(token, { algorithms: ['HS256'] });
      if (payload === null || typeof payload !== 'object') return null;
      const { sub, role, jti, exp } = payload as { sub?: unknown; role?: unknown; jti?: unknown; exp?: unknown };
      if (typeof sub !== 'string' || sub === '' || typeof exp !== 'number' || !isTaskRole(role)) return null;
      if (typeof jti !== 'string' || jti === '' || jti.length > MAX_JTI_LENGTH) return null;
      return { principal: { sub, role }, jti, exp };
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
