/** The longest wait one setTimeout takes (2^31 - 1 ms, about 24.8 days): Node runs a longer one after 1 ms. */
export const MAX_TIMER_MS = 2 ** 31 - 1;

export interface LongTimeout {
  clear(): void;
}

/**
 * setTimeout for waits of any length: a retry back-off or an attempt timeout past ~24.8 days
 * would otherwise fire at once. A longer wait re-arms in steps; one that is not finite never fires.
 */
export function setLongTimeout(callback: () => void, ms: number): LongTimeout {
  let timer: NodeJS.Timeout | null = null;
  const at = Date.now() + ms;
  const arm = (): void => {
    const left = at - Date.now();
    if (left > MAX_TIMER_MS) {
      timer = setTimeout(arm, MAX_TIMER_MS);
    } else {
      timer = setTimeout(callback, Math.max(0, left));
    }
  };
  if (Number.isFinite(at)) arm();
  return {
    clear: () => {
      if (timer) clearTimeout(timer);
      timer = null;
    },
  };
}
