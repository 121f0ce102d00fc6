/**
 * An answer other than 200, as the API gives it: `{"error": {"code", "message"}}`
 * with its HTTP status. Handlers throw these; the server turns them (and any
 * other error, as a 500 without its stack) into the response.
 */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
    this.name = 'HttpError';
  }
}

export const badRequest = (code: string, message: string) => new HttpError(400, code, message);
export const notFound = (what: string) => new HttpError(404, 'not_found', `${what}: not found`);
