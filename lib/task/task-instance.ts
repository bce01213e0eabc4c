/** One instance on a shared database, as `GET {path}/instances` shows it. */
export interface TaskInstance {
  /** `host/pid/random[/scope]`: what records carry as `instance`. */
  instance_id: string;
  host: string;
  pid: number | null;
  /** When its first heartbeat was written (ISO), null when unknown. */
  started_at: string | null;
  last_heartbeat: string | null;
  /** Its lease has not expired. */
  alive: boolean;
  /** Tasks it owns in these states. */
  running: number;
  pending: number;
}
