/** A function or name that is not registered with @BackgroundTask. */
export class UnknownTaskError extends Error {
  override readonly name = 'UnknownTaskError';
  constructor(
    message: string,
    readonly funcName: string,
  ) {
    super(message);
  }
}
