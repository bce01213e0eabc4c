import { FailureRow } from '../storage/insight-queries';
import { DEAD_LETTER_IDS_PER_GROUP, DEAD_LETTER_MAX_GROUPS, DeadLetterGroup } from '../task/task-insights';
import { TaskStatus } from '../task/task-status';

/**
 * The signature of an error: its first line with what varies between occurrences
 * masked (UUIDs, e-mail and IP addresses, long hex strings, standalone numbers), so
 * "bad input #41" and "bad input #42" are one group. A number right after "HTTP",
 * "status" or "code" is kept: "HTTP 502" and "HTTP 503" stay apart.
 */
export function errorSignature(error: string | null, status: TaskStatus): string {
  const firstLine = (error ?? '').split(/\r?\n/, 1)[0].trim();
  if (firstLine === '') return status === 'interrupted' ? 'Interrupted (no error recorded)' : '(no error message)';
  return firstLine
    .replace(/\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b/gi, '<uuid>')
    .replace(/[\w.+-]+@[\w-]+(?:\.[\w-]+)+/g, '<email>')
    .replace(/\b\d{1,3}(?:\.\d{1,3}){3}(?::\d+)?\b/g, '<ip>')
    .replace(/\b(?:0x)?[0-9a-f]{12,}\b/gi, '<hex>')
    .replace(/(?<!(?:\bhttp|\bstatus|\bcode)[ /:=]?)\b\d+\b/gi, '<n>')
    .slice(0, 300);
}

/** Rows newest first → groups, largest first (then most recent). */
export function groupFailures(rows: readonly FailureRow[]): DeadLetterGroup[] {
  const groups = new Map<string, DeadLetterGroup & { fnCounts: Map<string, number> }>();
  for (const row of rows) {
    const signature = errorSignature(row.error, row.status);
    let g = groups.get(signature);
    if (!g) {
      const seen = new Date(row.createdAt).toISOString();
      g = {
        signature,
        error: row.error ?? signature,
        count: 0,
        statuses: {},
        functions: [],
        first_seen: seen,
        last_seen: seen,
        sample_task_id: row.id,
        task_ids: [],
        fnCounts: new Map(),
      };
      groups.set(signature, g);
    }
    g.count++;
    g.statuses[row.status] = (g.statuses[row.status] ?? 0) + 1;
    g.fnCounts.set(row.funcName, (g.fnCounts.get(row.funcName) ?? 0) + 1);
    g.first_seen = new Date(row.createdAt).toISOString();
    if (g.task_ids.length < DEAD_LETTER_IDS_PER_GROUP) g.task_ids.push(row.id);
  }
  return [...groups.values()]
    .sort((a, b) => b.count - a.count || (a.last_seen < b.last_seen ? 1 : a.last_seen > b.last_seen ? -1 : 0))
    .slice(0, DEAD_LETTER_MAX_GROUPS)
    .map(({ fnCounts, ...group }) => ({
      ...group,
      functions: [...fnCounts.entries()].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1)).map(([name]) => name),
    }));
}
