import { createHash, randomUUID } from 'node:crypto';
import { readFileSync, readlinkSync } from 'node:fs';
import { hostname } from 'node:os';

/**
 * The pid space this process lives in: a hash of the kernel boot id and the PID
 * namespace (Linux), so that pids are compared only within one. '' where these
 * cannot be read (other systems): the hostname alone decides there, as before.
 */
function pidScope(): string {
  try {
    const boot = readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim();
    const namespace = readlinkSync('/proc/self/ns/pid');
    return createHash('sha256').update(`${boot} ${namespace}`).digest('hex').slice(0, 8);
  } catch {
    return '';
  }
}

const PID_SCOPE = pidScope();

/** `host/pid/random`, plus `/scope` where the pid space can be identified. */
export function newInstanceId(): string {
  return `${hostname()}/${process.pid}/${randomUUID().slice(0, 8)}${PID_SCOPE ? `/${PID_SCOPE}` : ''}`;
}

/**
 * True when `id` is an instance of this host whose process is gone (or is this very
 * pid, from before a restart): it is dead, no need to wait for its lease to run out.
 * "This host" means the same hostname AND the same pid space: containers with host
 * networking (or pods with hostNetwork) share a hostname while each has its own
 * PID namespace, where the app is often pid 1 too; comparing by hostname alone made
 * a starting instance take a live peer for its own dead predecessor and claim the
 * tasks that peer was running (seen: run in both at once). Instances of another
 * pid space, or of a version without the scope, are left to their lease.
 */
export function isDeadLocalInstance(id: string, ownId: string): boolean {
  const [host, pid, , scope = ''] = id.split('/');
  if (id === ownId || host !== hostname() || scope !== PID_SCOPE) return false;
  return Number(pid) === process.pid || !processAlive(Number(pid));
}

function processAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
