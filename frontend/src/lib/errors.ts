// The one error type the client raises for a refused or failed request, over HTTP or the socket.
import { ERROR_CODES, type ErrorCode } from "@proto/messages";

export class RequestError extends Error {
  override readonly name = "RequestError";

  constructor(
    readonly code: ErrorCode,
    message: string,
    /** HTTP status; 0 when the request never got an HTTP answer (socket, network) */
    readonly status = 0,
    readonly details: Record<string, unknown> = {},
  ) {
    super(message);
  }
}

export function isErrorCode(value: unknown): value is ErrorCode {
  return typeof value === "string" && (ERROR_CODES as readonly string[]).includes(value);
}

/** A sentence a person can read, for any failure. */
export function describeError(error: unknown): string {
  if (error instanceof RequestError) return error.message;
  if (error instanceof Error) return error.message;
  return String(error);
}
