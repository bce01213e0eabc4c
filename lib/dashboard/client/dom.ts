// Building the page. Every string that comes from the server is put into it with
// textContent (or as an attribute value through setAttribute), never as HTML.

import { doc } from './config';

const SVG_NS = 'http://www.w3.org/2000/svg';

/** Attributes of h()/svg(): `class`, `text` (textContent), `dataset`, `on<event>` listeners, the rest as attributes. */
export type Attrs = Record<string, unknown> | null | undefined;

/** A child of h()/svg(): a node, text, nothing (skipped), or a list of those. */
export type Child = Node | string | number | null | undefined | false | Child[];

/** The first element matching `selector`; the page's elements are fixed, so a miss is a bug. */
export function $<E extends Element = HTMLElement>(selector: string, root?: ParentNode): E {
  return (root || doc).querySelector(selector) as E;
}

export function $$<E extends Element = HTMLElement>(selector: string, root?: ParentNode): E[] {
  return Array.from((root || doc).querySelectorAll<E>(selector));
}

/** Builds an element. Children are nodes or text (never parsed as HTML). */
export function h<K extends keyof HTMLElementTagNameMap>(tag: K, attrs?: Attrs, ...children: Child[]): HTMLElementTagNameMap[K] {
  const el = doc.createElement(tag);
  setAttrs(el, attrs);
  appendAll(el, children);
  return el;
}

/** Builds an SVG element. */
export function svg(tag: string, attrs?: Attrs, ...children: Child[]): SVGElement {
  const el = doc.createElementNS(SVG_NS, tag) as SVGElement;
  setAttrs(el, attrs);
  appendAll(el, children);
  return el;
}

function setAttrs(el: HTMLElement | SVGElement, attrs: Attrs): void {
  if (!attrs) return;
  for (const key of Object.keys(attrs)) {
    const value = attrs[key];
    if (value === null || value === undefined || value === false) continue;
    if (key === 'class') el.setAttribute('class', String(value));
    else if (key === 'text') el.textContent = String(value);
    else if (key === 'dataset') Object.assign(el.dataset, value);
    else if (key.startsWith('on') && typeof value === 'function') el.addEventListener(key.slice(2), value as EventListener);
    else el.setAttribute(key, value === true ? '' : String(value));
  }
}

/** Appends children in order, lists flattened; null, undefined and false are left out. */
function appendAll(el: Element, children: Child[]): void {
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    if (Array.isArray(child)) appendAll(el, child);
    else el.append(child instanceof Node ? child : doc.createTextNode(String(child)));
  }
}

export function clear<E extends Element>(el: E): E {
  el.replaceChildren();
  return el;
}
