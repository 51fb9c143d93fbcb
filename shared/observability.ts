/**
 * Logger and metrics shared by every function. Service name, log level and namespace come
 * from the standard POWERTOOLS_* variables set per function in serverless.yml.
 * Info-level logs never carry addresses or subjects: use `addressRef` to correlate.
 */
import { createHmac } from 'node:crypto';
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { addressRefKeyFromEnv } from './config.ts';
import { checkEmailAddress } from './domain/email-address.ts';

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
 * What is keyed is the store's key of the address (one address rule: NFC, IDN as A-labels, no
 * trailing dot), so every spelling of one address has one reference; a value the rule refuses
 * (a provider entry the store cannot hold) is keyed trimmed, NFC and lower-cased.
 */
export function addressRef(email: string, key: string = stageKey ?? requireAddressRefKey()): string {
  const check = checkEmailAddress(email);
  const subject = check.ok ? check.key : email.trim().normalize('NFC').toLowerCase();
  return createHmac('sha256', key).update(subject).digest('hex').slice(0, 16);
}

export function errorMessage(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}
