/**
 * Applies recipient-level feedback events to the store through the shared policy.
 * Used by both the SES and the Mailtrap pipelines so one place decides what suppresses.
 */
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import type { FeedbackEvent } from '../domain/feedback-event.ts';
import type { Decision, PolicyConfig } from '../domain/suppression-policy.ts';
import { decideFeedback } from '../domain/subscription-policy.ts';
import type { SuppressionStore } from '../ports/suppression-store.ts';
import { addressRef, logger, metrics } from '../observability.ts';

const OUTCOME_METRIC: Record<Decision['outcome'], string> = {
  duplicate: 'DuplicateEvents',
  'no-change': 'EventsWithoutEffect',
  recorded: 'EventsRecorded',
  suppressed: 'AddressesSuppressed',
  cleared: 'SoftBouncesCleared',
};

/**
 * Events of one notification are applied one after another; if one fails the error
 * propagates (the record is retried) and the ones already applied are skipped as duplicates
 * on the retry.
 */
export async function applyFeedbackEvents(events: FeedbackEvent[], store: SuppressionStore, policy: PolicyConfig): Promise<Decision[]> {
  const decisions: Decision[] = [];
  for (const event of events) {
    const decision = await store.update(event.email, (current) => decideFeedback(current, event, policy));
    metrics.addMetric(OUTCOME_METRIC[decision.outcome], MetricUnit.Count, 1);
    logger.info('feedback applied', {
      source: event.source,
      kind: event.kind,
      type: event.providerType,
      outcome: decision.outcome,
      why: decision.why,
      address: addressRef(event.email),
    });
    decisions.push(decision);
  }
  return decisions;
}
