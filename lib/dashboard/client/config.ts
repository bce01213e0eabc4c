/** The page's settings, rendered by the server as data attributes of <body> (no inline script). */
export interface DashboardConfig {
  /** Path of the API, e.g. `/tasks`. */
  base: string;
  /** Seconds between polls while the stream is unavailable. */
  poll: number;
  /** Auth is on: sign-out link, audit tab, a 401 means the session ended. */
  auth: boolean;
  /** Arguments are shown and searched (displayFuncArgs). */
  args: boolean;
}

export const doc = document;

const data = doc.body.dataset;

export const CONFIG: DashboardConfig = {
  base: data.base || '/tasks',
  poll: Math.max(1, Number(data.poll) || 30),
  auth: data.auth === '1',
  args: data.args === '1',
};
