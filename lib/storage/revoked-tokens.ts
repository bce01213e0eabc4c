/**
 * Token ids (`jti`) signed out before their token expired, each kept until that
 * expiry and no longer: after it the token is refused anyway. The process-memory
 * list behind TaskBackend's default revocation methods.
 */
export class RevokedTokens {
  private readonly untilByJti = new Map<string, number>();

  revoke(jti: string, untilEpochMs: number): void {
    this.untilByJti.set(jti, Math.max(untilEpochMs, this.untilByJti.get(jti) ?? 0));
  }

  /** The ids still revoked at `now`; the expired ones are forgotten on the way. */
  active(now: number): string[] {
    this.deleteExpired(now);
    return [...this.untilByJti.keys()];
  }

  deleteExpired(before: number): number {
    let removed = 0;
    for (const [jti, until] of this.untilByJti) if (until <= before && this.untilByJti.delete(jti)) removed++;
    return removed;
  }
}
