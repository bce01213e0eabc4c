import { Connection } from './connection';
import { TableNames } from './schema';

/**
 * Signed-out token ids, one row each until the token's own expiry, so every instance
 * on the database refuses them. Revoking twice keeps the later expiry.
 */
export async function revokeToken(connection: Connection, t: TableNames, jti: string, untilEpochMs: number): Promise<void> {
  await connection.session(async (sql) => {
    const table = sql.dialect.id(t.revokedTokens);
    const insert = `INSERT INTO ${table} (jti, expires_at) VALUES (?, ?)`;
    const keepLater: Record<typeof sql.dialect.family, string> = {
      mysql: `${insert} ON DUPLICATE KEY UPDATE expires_at = GREATEST(expires_at, VALUES(expires_at))`,
      postgres: `${insert} ON CONFLICT (jti) DO UPDATE SET expires_at = GREATEST(${table}.expires_at, EXCLUDED.expires_at)`,
      sqlite: `${insert} ON CONFLICT (jti) DO UPDATE SET expires_at = MAX(expires_at, excluded.expires_at)`,
    };
    await sql.run(keepLater[sql.dialect.family], [sql.dialect.text(String(jti)), Math.round(untilEpochMs)]);
  });
}

/** Ids of the revoked tokens that have not expired at `now` (epoch ms). */
export async function listRevokedTokens(connection: Connection, t: TableNames, now: number): Promise<string[]> {
  return connection.session(async (sql) => {
    const result = await sql.run(`SELECT jti FROM ${sql.dialect.id(t.revokedTokens)} WHERE expires_at > ?`, [now]);
    return result.rows.map((row) => String(row.jti));
  });
}

/** Deletes revocations of tokens that expired before `before` (epoch ms); returns how many went. */
export async function deleteExpiredRevocations(connection: Connection, t: TableNames, before: number): Promise<number> {
  return connection.session(async (sql) => {
    const result = await sql.run(`DELETE FROM ${sql.dialect.id(t.revokedTokens)} WHERE expires_at < ?`, [before]);
    return result.affected;
  });
}
