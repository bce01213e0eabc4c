export type AuditAction = 'retry' | 'cancel' | 'bulk_retry' | 'delete_history' | 'login' | 'login_failed' | 'pause' | 'resume';

/** One admin action, as `GET {path}/audit` lists it. `task_id` is "bulk" for bulk actions, null for delete_history, sign-ins, pause and resume. */
export interface AuditEntry {
  entry_id: string;
  action: AuditAction;
  task_id: string | null;
  actor: string;
  timestamp: string;
  detail: Record<string, unknown>;
}
