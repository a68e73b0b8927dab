// One error class for the core's refusals: `code` is the core's error name.
export class CoreError extends Error {
  readonly code: string;
  constructor(code: string, message: string) {
    super(message);
    this.name = "CoreError";
    this.code = code;
  }
}
