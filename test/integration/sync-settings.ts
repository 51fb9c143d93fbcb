/**
 * How the integration stack runs the suppression sync: short windows so the suite takes
 * seconds. Scheduled functions run only when a test asks (`runScheduled`), so nothing drains
 * behind another test's back; provider simulators get generous limits that the burst test
 * tightens on purpose.
 */
export const SYNC_TEST_ENV: Record<string, string> = {
  MAILTRAP_SENDING_STREAMS: 'transactional',
  SYNC_RUN_SECONDS: '8',
  RECONCILE_RUN_SECONDS: '8',
  SYNC_MAX_ATTEMPTS: '6',
  SYNC_BACKOFF_BASE_MS: '100',
  SYNC_BACKOFF_MAX_MS: '800',
  SYNC_CONCURRENCY: '8',
  SES_PUSH_RATE: '200/1s',
  SES_RECONCILE_RATE: '50/1s',
  MAILTRAP_PUSH_RATE: '500/1s',
  MAILTRAP_RECONCILE_RATE: '50/1s',
  SES_IMPORT_THRESHOLD: '100',
  SES_IMPORT_RECHECK_SECONDS: '30',
};

export const SYNC_TEST_SIMULATORS = {
  sesRateLimit: { perSecond: 400, burst: 20 },
  mailtrapRateLimits: { suppressions: { limit: 1000, windowMs: 1000 } },
};
