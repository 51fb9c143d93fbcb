/**
 * Configuration and adapters of the suppression sync (push drains, reconciliation, stream
 * handler, API), built once per cold start from the environment.
 *
 * Rates are `<requests>/<window>` (`9/60s`). The push and the reconcile share of one provider
 * account must add up to at most its limit: Mailtrap 10 / 60 s per account on the
 * suppression endpoints (9 push + 1 reconcile by default), SES 1 request/s for non-sending
 * API actions (4/5 s push + 1/5 s reconcile).
 */
import * as z from 'zod/mini';
import { intVar, optionalVar, readConfig, requiredVar } from '../config.ts';
import { parseRate, type RateSpec } from '../domain/rate-limit.ts';
import { domainKey } from '../domain/email-address.ts';
import { parseGrace } from '../domain/mailtrap-import.ts';
import { MAILTRAP_STREAMS, type MailtrapStream, type SyncConfig } from '../domain/suppression-sync.ts';
import type { DrainLimits } from '../services/sync-drain.ts';
import { documentClient } from './clients/dynamodb.ts';
import { DynamoSuppressionStore } from './dynamo-suppression-store.ts';
import { DynamoSyncState } from './dynamo-sync-state.ts';
import { MailtrapSuppressions } from './mailtrap-suppressions.ts';
import { webhookSecretSource } from './webhook-secret.ts';

class SyncConfigError extends Error {
  override name = 'SyncConfigError';
}

const rateVar = (fallback: string) => z._default(z.string().check(z.regex(/^\s*\d+(\.\d+)?\s*\/\s*\d+(\.\d+)?\s*(ms|s|m|h)?\s*$/)), fallback);

function list(value: string | undefined): string[] {
  return (value ?? '')
    .split(',')
    .map((v) => v.trim())
    .filter((v) => v !== '');
}

export function syncConfigFromEnv(env: NodeJS.ProcessEnv = process.env): SyncConfig {
  const c = readConfig({ MAILTRAP_SENDING_DOMAINS: optionalVar(), MAILTRAP_SENDING_STREAMS: optionalVar(), SES_CONTACT_LIST: optionalVar() }, env);
  const streams = c.MAILTRAP_SENDING_STREAMS ? list(c.MAILTRAP_SENDING_STREAMS) : [...MAILTRAP_STREAMS];
  const bad = streams.filter((s) => !MAILTRAP_STREAMS.includes(s as MailtrapStream));
  if (bad.length > 0) throw new SyncConfigError(`MAILTRAP_SENDING_STREAMS: unknown stream(s) ${bad.join(', ')}`);
  return {
    mailtrapDomains: list(c.MAILTRAP_SENDING_DOMAINS).map(domainKey),
    mailtrapStreams: streams as MailtrapStream[],
    sesContactList: c.SES_CONTACT_LIST || undefined,
  };
}

export function storesFromEnv(env: NodeJS.ProcessEnv = process.env) {
  const c = readConfig({ SUPPRESSION_TABLE: requiredVar(), SUPPRESSION_SYNC_TABLE: requiredVar() }, env);
  return {
    store: new DynamoSuppressionStore(documentClient, c.SUPPRESSION_TABLE),
    sync: new DynamoSyncState(documentClient, c.SUPPRESSION_SYNC_TABLE),
  };
}

export interface RunSettings {
  /** Longest a scheduled run works before it returns (the rest waits for the next run). */
  runMs: number;
  /** Same for a reconciliation run (longer: its pace share is small). */
  reconcileRunMs: number;
  limits: DrainLimits;
  rates: { sesPush: RateSpec; sesReconcile: RateSpec; mailtrapPush: RateSpec; mailtrapReconcile: RateSpec };
  sesImport: { threshold: number; maxPerJob: number; maxDeletePerJob: number; recheckMs: number };
}

export function runSettingsFromEnv(env: NodeJS.ProcessEnv = process.env): RunSettings {
  const c = readConfig(
    {
      SYNC_RUN_SECONDS: intVar(50),
      RECONCILE_RUN_SECONDS: intVar(280),
      SYNC_MAX_ATTEMPTS: intVar(8),
      SYNC_BACKOFF_BASE_MS: intVar(30_000),
      SYNC_BACKOFF_MAX_MS: intVar(3_600_000),
      SYNC_CONCURRENCY: intVar(4),
      SES_PUSH_RATE: rateVar('4/5s'),
      SES_RECONCILE_RATE: rateVar('1/5s'),
      MAILTRAP_PUSH_RATE: rateVar('9/60s'),
      MAILTRAP_RECONCILE_RATE: rateVar('1/60s'),
      SES_IMPORT_THRESHOLD: intVar(1000),
      // SES's own limits per import file: 100,000 addresses to add, 10,000 to remove.
      SES_IMPORT_MAX: intVar(100_000),
      SES_IMPORT_DELETE_MAX: intVar(10_000),
      // A job SES still runs is asked again every run; this is only the safety net for a job whose record was lost.
      SES_IMPORT_RECHECK_SECONDS: intVar(21_600),
    },
    env,
  );
  return {
    runMs: c.SYNC_RUN_SECONDS * 1000,
    reconcileRunMs: c.RECONCILE_RUN_SECONDS * 1000,
    limits: {
      maxAttempts: c.SYNC_MAX_ATTEMPTS,
      backoffBaseMs: c.SYNC_BACKOFF_BASE_MS,
      backoffMaxMs: c.SYNC_BACKOFF_MAX_MS,
      concurrency: c.SYNC_CONCURRENCY,
      pageSize: 100,
    },
    rates: {
      sesPush: parseRate(c.SES_PUSH_RATE),
      sesReconcile: parseRate(c.SES_RECONCILE_RATE),
      mailtrapPush: parseRate(c.MAILTRAP_PUSH_RATE),
      mailtrapReconcile: parseRate(c.MAILTRAP_RECONCILE_RATE),
    },
    sesImport: { threshold: c.SES_IMPORT_THRESHOLD, maxPerJob: c.SES_IMPORT_MAX, maxDeletePerJob: Math.min(10_000, c.SES_IMPORT_DELETE_MAX), recheckMs: c.SES_IMPORT_RECHECK_SECONDS * 1000 },
  };
}

/** MAILTRAP_IMPORT_GRACE (`7d`, `12h`, ...): how long addresses wait for a dashboard upload before going back to the API path. */
export function mailtrapImportGraceMs(env: NodeJS.ProcessEnv = process.env): number {
  const c = readConfig({ MAILTRAP_IMPORT_GRACE: z._default(z.string().check(z.regex(/^\s*\d+(\.\d+)?\s*(s|m|h|d)?\s*$/)), '7d') }, env);
  return parseGrace(c.MAILTRAP_IMPORT_GRACE);
}

/** Deployed: the token is an SSM SecureString (MAILTRAP_API_TOKEN_PARAM); local: MAILTRAP_API_TOKEN. */
export function mailtrapApiFromEnv(env: NodeJS.ProcessEnv = process.env): MailtrapSuppressions {
  const c = readConfig({ MAILTRAP_API_URL: z._default(z.string(), 'https://mailtrap.io'), MAILTRAP_API_TOKEN: optionalVar(), MAILTRAP_API_TOKEN_PARAM: optionalVar() }, env);
  return new MailtrapSuppressions({
    baseUrl: c.MAILTRAP_API_URL,
    token: webhookSecretSource({ secret: c.MAILTRAP_API_TOKEN, parameterName: c.MAILTRAP_API_TOKEN_PARAM }),
  });
}
