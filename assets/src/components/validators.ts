/**
 * Element Plus form-rule validators shared by the forms that ask for a secret twice.
 */

/** The signature Element Plus calls a rule's `validator` with. */
export type Validator<T = unknown> = (
  rule: unknown,
  value: T,
  callback: (error?: Error) => void,
) => void

/** Passes when the field equals `other()`; otherwise fails with `message()`. */
export function sameAs(other: () => unknown, message: () => string): Validator {
  return (_rule, value, callback) =>
    value === other() ? callback() : callback(new Error(message()))
}
