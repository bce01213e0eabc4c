/** `"Name: message"` (just the name when the message is empty) and the stack of anything thrown. */
export function formatError(error: unknown): { text: string; stack: string | null } {
  if (error instanceof Error) {
    const name = error.name || error.constructor?.name || 'Error';
    return { text: error.message ? `${name}: ${error.message}` : name, stack: error.stack ?? null };
  }
  let detail: string;
  try {
    detail = typeof error === 'string' ? error : (JSON.stringify(error) ?? String(error));
  } catch {
    detail = String(error);
  }
  return { text: `Error: ${detail}`, stack: null };
}
