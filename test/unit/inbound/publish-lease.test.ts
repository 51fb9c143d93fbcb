/**
 * The publish lease is an agreement between two numbers in two files: a delivery that failed
 * while holding it (its claim's answer lost in a store outage, or the publish failing) is
 * retried by SQS after the queue's visibility timeout, and that retry must find the lease
 * expired, or every retry meets PublishInProgressError until the redrive policy dead-letters
 * the notification with its invoice.received unpublished. A live worker must never lose it.
 */
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadServiceConfig } from '../../../local/serverless-config.ts';
import { PUBLISH_LEASE_MS } from '../../../shared/adapters/inbound-deps.ts';

describe('inbound publish lease', () => {
  const config = loadServiceConfig(join(import.meta.dirname, '..', '..', '..', 'serverless.yml'), { stage: 'test', region: 'eu-west-1' });

  it('outlasts the inbound-parse timeout and expires before SQS retries a failed delivery', () => {
    const timeoutS = Number(config.functions['inbound-parse']?.timeout ?? config.provider.timeout);
    const visibilityS = Number(config.resources.InboundMailQueue?.Properties?.VisibilityTimeout);
    expect(timeoutS).toBeGreaterThan(0);
    expect(PUBLISH_LEASE_MS).toBeGreaterThan(timeoutS * 1000);
    expect(visibilityS * 1000).toBeGreaterThan(PUBLISH_LEASE_MS);
  });
});
