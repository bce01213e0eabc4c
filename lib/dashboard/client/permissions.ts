// What the signed-in role may do (GET /auth/me), so the page offers only the actions the API
// would accept: viewers read, operators also retry and cancel, admins also delete history.

import { api } from './api';
import { CONFIG, doc } from './config';
import { $ } from './dom';

/** The roles of the server's `auth` option, least privileged first. */
type TaskRole = 'viewer' | 'operator' | 'admin';

/** Without auth everyone is admin; with auth nothing is offered until the role is known. */
export const permissions = { operate: !CONFIG.auth, administer: !CONFIG.auth };

/** Retry, cancel and replay, one by one or in bulk. */
const OPERATOR_CONTROLS = ['#bulk-retry', '#bulk-cancel', '#dl-replay-selected', '#dl-replay-window'];
const ADMIN_CONTROLS = ['#clear-history'];

function applyPermissions(): void {
  for (const selector of OPERATOR_CONTROLS) $(selector).hidden = !permissions.operate;
  for (const selector of ADMIN_CONTROLS) $(selector).hidden = !permissions.administer;
}

/**
 * Hides what the role may not do, then asks who is signed in. Should that fail,
 * the actions stay hidden: the API decides anyway, and a reload asks again.
 */
export async function loadPermissions(): Promise<void> {
  applyPermissions();
  if (!CONFIG.auth) return;
  try {
    const { data } = await api<{ sub: string; role: TaskRole }>('/auth/me');
    permissions.operate = data.role === 'operator' || data.role === 'admin';
    permissions.administer = data.role === 'admin';
    doc.body.dataset.role = data.role;
  } catch {
    return;
  }
  applyPermissions();
}
