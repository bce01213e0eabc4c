// The tab strip: which panel shows, with arrow-key navigation between tabs.

import { CONFIG } from './config';
import { loadDeadLetters } from './dead-letters';
import { $$ } from './dom';
import { loadAudit, loadRegistered, loadSchedules } from './info-tabs';
import { loadInstances } from './instances';
import { Tab, isTab, view, writeView } from './view';

export function switchTab(requested: string, keepUrl?: boolean): void {
  const tab: Tab = !isTab(requested) || (requested === 'audit' && !CONFIG.auth) ? 'tasks' : requested;
  view.tab = tab;
  for (const button of $$('.tabs [role="tab"]')) {
    const on = button.dataset.tab === tab;
    button.setAttribute('aria-selected', String(on));
    button.tabIndex = on ? 0 : -1;
  }
  for (const panel of $$('.tab-panel')) panel.hidden = panel.id !== `panel-${tab}`;
  if (!keepUrl) writeView(false);
  if (tab === 'dead') void loadDeadLetters();
  else if (tab === 'schedules') void loadSchedules();
  else if (tab === 'registered') void loadRegistered();
  else if (tab === 'instances') void loadInstances();
  else if (tab === 'audit') void loadAudit();
}

export function bindTabs(): void {
  const tabs = $$('.tabs [role="tab"]');
  for (const button of tabs) {
    button.addEventListener('click', () => switchTab(button.dataset.tab!));
    button.addEventListener('keydown', (event) => {
      if (event.key !== 'ArrowRight' && event.key !== 'ArrowLeft' && event.key !== 'Home' && event.key !== 'End') return;
      const visible = tabs.filter((t) => !t.hidden);
      let i = visible.indexOf(button);
      if (event.key === 'ArrowRight') i = (i + 1) % visible.length;
      else if (event.key === 'ArrowLeft') i = (i - 1 + visible.length) % visible.length;
      else if (event.key === 'Home') i = 0;
      else i = visible.length - 1;
      event.preventDefault();
      visible[i].focus();
      switchTab(visible[i].dataset.tab!);
    });
  }
}
