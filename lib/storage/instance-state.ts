/** One instance as the backend knows it (times are epoch ms, the database's clock). */
export interface InstanceState {
  /** `host/pid/random[/scope]` (see instance-identity.ts). */
  id: string;
  leaseUntil: number;
  /** When its first heartbeat was written; null for a row written by a version without it. */
  startedAt: number | null;
  lastHeartbeat: number | null;
  /** Its lease has not expired. */
  alive: boolean;
  /** Tasks it owns in these states. */
  pending: number;
  running: number;
}
