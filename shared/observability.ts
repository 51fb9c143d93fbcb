/**
 * Logger and metrics shared by every function. Service name, log level and namespace come
 * from the standard POWERTOOLS_* variables set per function in serverless.yml.
 * Info-level logs never carry addresses or subjects: use `addressRef` to correlate.
 */
import { createHash } from 'node:crypto';
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';

export const logger = new Logger();
export const metrics = new Metrics({ defaultDimensions: {} });

/** A stable, non-reversible reference to an address for logs (12 hex chars of sha256). */
export function addressRef(email: string): string {
  return createHash('sha256').update(email.trim().toLowerCase()).digest('hex').slice(0, 12);
}

export function errorMessage(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}
