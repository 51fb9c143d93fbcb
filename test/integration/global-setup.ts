/**
 * Starts one local stack (fauxqs, DynamoDB Local, every function on its event source) for all
 * integration tests, on free ports, with its state file in a temp dir so a developer's running
 * `npm start` is left alone.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestProject } from 'vitest/node';
import { startLocalStack, type LocalInfo, type LocalStack } from '../../local/stack.ts';
import { SYNC_TEST_ENV, SYNC_TEST_SIMULATORS } from './sync-settings.ts';

declare module 'vitest' {
  export interface ProvidedContext {
    localInfo: LocalInfo;
    stateFile: string;
  }
}

// The secret of the Mailtrap signature test vector (../shared/reference/README.md), so the vector verifies end to end.
export const WEBHOOK_SECRET = '8d9a3c0e7f5b2d4a6c1e9f8b3a7d5c2e';

// Unsubscribe token secrets: current and previous (rotation in progress), so both verify end to end.
export const UNSUBSCRIBE_SECRET = 'it-unsubscribe-current-secret-0123456789abcdef';
export const UNSUBSCRIBE_PREVIOUS_SECRET = 'it-unsubscribe-previous-secret-0123456789abcdef';

let stack: LocalStack | undefined;

export async function setup(project: TestProject): Promise<void> {
  const stateFile = join(mkdtempSync(join(tmpdir(), 'mailbridge-it-')), 'local.json');
  stack = await startLocalStack({
    httpPort: 0,
    stateFile,
    logLevel: process.env.POWERTOOLS_LOG_LEVEL ?? 'ERROR',
    env: { MAILTRAP_WEBHOOK_SECRET: WEBHOOK_SECRET, UNSUBSCRIBE_SECRETS: `${UNSUBSCRIBE_SECRET},${UNSUBSCRIBE_PREVIOUS_SECRET}`, ...SYNC_TEST_ENV },
    // Suppression sync: drains and reconciliation run when a test asks, at test-sized limits.
    scheduleIntervalMs: 'off',
    simulators: SYNC_TEST_SIMULATORS,
    // Errors the tests provoke on purpose are asserted on, not printed.
    onFunctionError: () => undefined,
  });
  project.provide('localInfo', stack.info);
  project.provide('stateFile', stateFile);
}

export async function teardown(): Promise<void> {
  await stack?.stop();
}
