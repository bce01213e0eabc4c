// Light and dark: the viewer's choice (stored; applied before the first paint by
// theme.js), else the system's.

import { renderChart } from './chart';
import { doc } from './config';
import { $ } from './dom';
import { store } from './util';

function currentTheme(): 'light' | 'dark' {
  const chosen = doc.documentElement.dataset.theme;
  if (chosen === 'light' || chosen === 'dark') return chosen;
  return window.matchMedia && window.matchMedia('(prefers-color-scheme: dark)').matches ? 'dark' : 'light';
}

export function renderThemeButton(): void {
  const next = currentTheme() === 'dark' ? 'light' : 'dark';
  const button = $('#theme-toggle');
  button.setAttribute('aria-label', `Switch to ${next} theme`);
  button.title = `Switch to ${next} theme`;
}

export function toggleTheme(): void {
  const next = currentTheme() === 'dark' ? 'light' : 'dark';
  doc.documentElement.dataset.theme = next;
  store.set('taskflow-theme', next);
  renderThemeButton();
  renderChart();
}

/** Follows the system's setting while the viewer has made no choice. */
export function watchSystemTheme(): void {
  if (!window.matchMedia) return;
  const media = window.matchMedia('(prefers-color-scheme: dark)');
  if (media.addEventListener)
    media.addEventListener('change', () => {
      renderThemeButton();
      renderChart();
    });
}
