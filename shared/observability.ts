/**
 * Logger and metrics shared by every function. Service name, log level and namespace come
 * from the standard POWERTOOLS_* variables set per function in serverless.yml.
 * Info-level logs never carry addresses or subjects: use `addressRef` to correlate.
 */
import { createHmac } from 'node:crypto';
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { addressRefKeyFromEnv } from './config.ts';

export const logger = new Logger();
export const metrics = new Metrics({ defaultDimensions: {} });

let stageKey: string | undefined;

/**
 * Reads and checks the stage's addressRef key (ADDRESS_REF_KEY, via shared/config.ts). Every
 * deps factory of a function that logs address references calls it, so such a function refuses
 * to start without a key instead of logging references a dictionary could reverse.
 */
export function requireAddressRefKey(env: NodeJS.ProcessEnv = process.env): string {
  stageKey = addressRefKeyFromEnv(env);
  return stageKey;
}

/**
 * A stable reference to an address for logs: 16 hex chars of HMAC-SHA256 under the stage's
 * secret key, so logs of one stage correlate while nobody without the key can test a guessed
 * address against a reference (a bare hash of an address is reversed by hashing a list).
 */
export function addressRef(email: string, key: string = stageKey ?? requireAddressRefKey()): string {
  return createHmac('sha256', key).update(email.trim().normalize('NFC').toLowerCase()).digest('hex').slice(0, 16);
}

export function errorMessage(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}
