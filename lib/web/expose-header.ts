import type { ResponseAdapter } from './http-types';

/** Lets browsers read `name` on cross-origin responses, keeping what a CORS middleware set. */
export function exposeHeader(response: Pick<ResponseAdapter, 'getHeader' | 'setHeader'>, name: string): void {
  const current = response.getHeader('Access-Control-Expose-Headers');
  const list =
    current === undefined
      ? []
      : String(current)
          .split(',')
          .map((h) => h.trim())
          .filter(Boolean);
  if (!list.some((h) => h.toLowerCase() === name.toLowerCase())) list.push(name);
  response.setHeader('Access-Control-Expose-Headers', list.join(', '));
}
