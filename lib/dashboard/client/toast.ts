// Toasts (text only) and copying to the clipboard.

import { doc } from './config';
import { $, h, svg } from './dom';

export type ToastKind = 'info' | 'error';

/** A button in a toast: its label, and what it does (the toast closes). */
export interface ToastAction {
  label: string;
  run: () => void;
}

/** A toast built with text only. */
export function toast(message: string, kind?: ToastKind, action?: ToastAction | null): void {
  const box = $('#toasts');
  const el = h('div', { class: `toast${kind === 'error' ? ' toast-error' : ''}`, role: kind === 'error' ? 'alert' : null });
  el.append(h('span', null, message));
  if (action) {
    el.append(
      h(
        'button',
        {
          type: 'button',
          class: 'link',
          onclick: () => {
            action.run();
            el.remove();
          },
        },
        action.label,
      ),
    );
  }
  el.append(h('button', { type: 'button', class: 'close', 'aria-label': 'Dismiss', onclick: () => el.remove() }, '×'));
  box.append(el);
  while (box.children.length > 4) box.firstElementChild!.remove();
  setTimeout(() => el.remove(), kind === 'error' ? 9000 : 4500);
}

async function copyText(text: string, what: string): Promise<void> {
  let ok = false;
  try {
    if (navigator.clipboard && window.isSecureContext) {
      await navigator.clipboard.writeText(text);
      ok = true;
    }
  } catch {
    ok = false;
  }
  if (!ok) {
    const area = h('textarea', { readonly: true, 'aria-hidden': 'true', class: 'sr-only' });
    area.value = text;
    doc.body.append(area);
    area.select();
    try {
      // The fallback where the async clipboard is unavailable (plain HTTP).
      ok = doc.execCommand('copy');
    } catch {
      ok = false;
    }
    area.remove();
  }
  toast(ok ? `${what || 'Text'} copied` : 'Could not copy to the clipboard', ok ? 'info' : 'error');
}

export function copyButton(text: string, label: string): HTMLButtonElement {
  return h(
    'button',
    {
      type: 'button',
      class: 'copy',
      title: `Copy ${label}`,
      'aria-label': `Copy ${label}`,
      onclick: (event: Event) => {
        event.stopPropagation();
        void copyText(text, label.charAt(0).toUpperCase() + label.slice(1));
      },
    },
    svg(
      'svg',
      { class: 'icon icon-copy', viewBox: '0 0 24 24', 'aria-hidden': 'true' },
      svg('rect', { x: 9, y: 9, width: 11, height: 11, rx: 2 }),
      svg('path', { d: 'M5 15V5a2 2 0 0 1 2-2h8' }),
    ),
  );
}
