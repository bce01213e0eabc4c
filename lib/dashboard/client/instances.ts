// The instances sharing the database (GET /instances): the Instances tab, and the
// instance picker of the task filters. Without a database the list is empty: the
// picker and the tab stay hidden (the tab, opened by its address, says why).

import type { TaskInstance } from '../../task/task-instance';
import { api, errorMessage } from './api';
import { $, $$, clear, h } from './dom';
import { fmtNumber, relative, parseTime, timeEl } from './format';
import { page } from './page-actions';
import { view } from './view';

export const instances = { list: [] as TaskInstance[] };

/** `host · pid` of an instance id (`host/pid/random[/scope]`). */
export function instanceLabel(id: string): string {
  const [host, pid] = id.split('/');
  return pid ? `${host} · ${pid}` : id;
}

/** Reads the list again; the picker follows, and the tab when it is open. */
export async function loadInstances(): Promise<void> {
  try {
    const { data } = await api<TaskInstance[]>('/instances');
    instances.list = data;
    renderInstanceOptions();
    if (view.tab === 'instances') renderInstances();
  } catch (error) {
    if (view.tab === 'instances') showMessage(`Could not load instances: ${errorMessage(error)}`);
  }
}

/** The picker of the task filters: hidden while there is nothing to pick (and nothing picked). */
export function renderInstanceOptions(): void {
  const select = $<HTMLSelectElement>('#f-instance');
  const ids = instances.list.map((i) => i.instance_id);
  const wanted = view.instance && !ids.includes(view.instance) ? [...ids, view.instance] : ids;
  const existing = $$<HTMLOptionElement>('option', select)
    .slice(1)
    .map((o) => o.value);
  if (existing.join('\u0000') !== wanted.join('\u0000')) {
    select.replaceChildren(select.options[0], ...wanted.map((id) => h('option', { value: id, title: id }, instanceLabel(id))));
  }
  select.value = view.instance;
  $('#f-instance-field').hidden = wanted.length === 0;
  $('#tab-instances').hidden = instances.list.length === 0 && view.tab !== 'instances';
  $('#count-instances').textContent = instances.list.length ? fmtNumber(instances.list.filter((i) => i.alive).length) : '';
}

function showMessage(text: string): void {
  clear($('#inst-body')).append(h('tr', { class: 'placeholder' }, h('td', { colspan: 7 }, text)));
}

function renderInstances(): void {
  const body = $('#inst-body');
  if (!instances.list.length) {
    showMessage('No instances to list: instances are listed when several share a database (PostgreSQL, MySQL/MariaDB or SQLite).');
    return;
  }
  clear(body);
  for (const instance of instances.list) {
    const beat = parseTime(instance.last_heartbeat);
    body.append(
      h(
        'tr',
        { 'data-instance': instance.instance_id },
        h('td', null, h('span', { class: 'mono', title: instance.instance_id }, instanceLabel(instance.instance_id))),
        h('td', null, h('span', { class: `badge ${instance.alive ? 'st-success' : 'st-interrupted'}` }, instance.alive ? 'alive' : 'lease ended')),
        h('td', null, timeEl(instance.started_at)),
        h('td', null, Number.isFinite(beat) ? h('span', { title: new Date(beat).toISOString() }, relative(beat)) : h('span', { class: 'none' }, '–')),
        h('td', { class: 'num' }, fmtNumber(instance.running)),
        h('td', { class: 'num' }, fmtNumber(instance.pending)),
        h(
          'td',
          null,
          h(
            'button',
            { type: 'button', class: 'link', onclick: () => page.setFilters({ instance: instance.instance_id, status: '' }) },
            'show tasks',
          ),
        ),
      ),
    );
  }
}
