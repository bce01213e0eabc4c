import { describeValue, messages } from './messages';

/** A module option is wrong; thrown at startup. */
export class InvalidOptionError extends Error {
  override readonly name = 'InvalidOptionError';
  constructor(
    readonly option: string,
    allowed: string,
    got: unknown,
  ) {
    super(messages.invalidOption(option, allowed, describeValue(got)));
  }
}
