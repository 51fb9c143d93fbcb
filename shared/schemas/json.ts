/**
 * The one JSON.parse at the boundary: every body, envelope and line we read from outside goes
 * through `parseJson`, which names what was not JSON in a typed error (never a bare
 * SyntaxError, never the text itself: it may hold addresses). Callers that have their own
 * error class (a malformed SQS message, a 400) pass a factory for it.
 */
export class InvalidJsonError extends Error {
  override name = 'InvalidJsonError';
}

export function parseJson(text: string, what = 'body', fail: (reason: string) => Error = (reason) => new InvalidJsonError(reason)): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw fail(`${what} is not JSON`);
  }
}

export function isJsonObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
