// One error class for the core's refusals: `code` is the core's error name.
export class CoreError extends Error {
  readonly code: string;
  constructor(code: string, message: string) {
    super(message);
    this.name = "CoreError";
    this.code = code;
  }
}

/** A failed host operation as native/core.c words it: what the core was
 * doing, the op's own reason if it gave one, strerror(3) of its errno. */
export function hostFailure(what: string, reason: string, strerror: string): string {
  return reason ? `${what}: ${reason} (${strerror})` : `${what}: ${strerror}`;
}
