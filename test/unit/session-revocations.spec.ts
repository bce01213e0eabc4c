import { REVOCATION_REFRESH_MS, SessionRevocations } from '../../lib/auth/session-revocations';
import { TaskStorage } from '../../lib/engine/task-storage';
import { resolveOptions } from '../../lib/options/resolve-options';
import { MemoryTaskBackend } from '../../lib/storage/memory-task.backend';
import { MemoryTaskStore } from '../../lib/storage/memory-task.store';

const T0 = Date.UTC(2026, 11, 1, 12, 0, 0);

/** The memory backend, counting its reads of the list, and failing them on demand. */
class CountingBackend extends MemoryTaskBackend {
  reads = 0;
  failing = false;

  override async listRevokedTokens(now: number): Promise<string[]> {
    this.reads++;
    if (this.failing) throw new Error('database unreachable');
    return super.listRevokedTokens(now);
  }
}

function revocationsOn(backend: CountingBackend): SessionRevocations {
  const store = new MemoryTaskStore(100);
  return new SessionRevocations(new TaskStorage(resolveOptions({}), backend, store));
}

describe('SessionRevocations', () => {
  it('refuses its own sign-outs at once, and another instance’s once it reads the list again', async () => {
    const shared = new CountingBackend(new MemoryTaskStore(100));
    const here = revocationsOn(shared);
    const there = revocationsOn(shared);
    expect(await there.isRevoked('t1', T0)).toBe(false);
    await here.revoke('t1', T0 + 60_000);
    expect(await here.isRevoked('t1', T0)).toBe(true);
    expect(await there.isRevoked('t1', T0 + REVOCATION_REFRESH_MS - 1)).toBe(false); // the list read at T0 still holds
    expect(await there.isRevoked('t1', T0 + REVOCATION_REFRESH_MS)).toBe(true);
    expect(await there.isRevoked('t1', T0 + 60_000 + REVOCATION_REFRESH_MS)).toBe(false); // expired: the token is refused anyway
  });

  it('reads the list at most once a second, however many requests ask', async () => {
    const backend = new CountingBackend(new MemoryTaskStore(100));
    const revocations = revocationsOn(backend);
    await Promise.all(Array.from({ length: 50 }, (_, i) => revocations.isRevoked(`t${i}`, T0)));
    for (let ms = 0; ms < REVOCATION_REFRESH_MS; ms += 10) await revocations.isRevoked('t', T0 + ms);
    expect(backend.reads).toBe(1);
    await revocations.isRevoked('t', T0 + REVOCATION_REFRESH_MS);
    expect(backend.reads).toBe(2);
  });

  it('keeps the last list read while the storage fails', async () => {
    const backend = new CountingBackend(new MemoryTaskStore(100));
    const writer = revocationsOn(backend);
    const reader = revocationsOn(backend);
    await writer.revoke('t1', T0 + 60_000);
    expect(await reader.isRevoked('t1', T0)).toBe(true);
    backend.failing = true;
    expect(await reader.isRevoked('t1', T0 + 5 * REVOCATION_REFRESH_MS)).toBe(true);
  });
});
