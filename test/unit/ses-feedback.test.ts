import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { mapSesNotification } from '../../shared/domain/ses-feedback.ts';
import { MalformedEventError, parseSesFeedbackBody } from '../../shared/schemas/ses-notification.ts';

const EVENTS = join(import.meta.dirname, '..', '..', 'events');
const load = (name: string): Record<string, unknown> => JSON.parse(readFileSync(join(EVENTS, 'ses', name), 'utf8')) as Record<string, unknown>;
const envelope = JSON.parse(readFileSync(join(EVENTS, 'sns', 'sns-to-sqs-envelope.json'), 'utf8')) as Record<string, unknown>;

/** The body SQS holds when SNS delivers without raw message delivery. */
function asEnvelope(notification: unknown): string {
  return JSON.stringify({ ...structuredClone(envelope), Message: JSON.stringify(notification) });
}

describe('SES bodies', () => {
  const sesFiles = readdirSync(join(EVENTS, 'ses')).filter((f) => f.startsWith('classic_') || f.startsWith('event_'));

  it.each(sesFiles)('%s parses the same raw and inside an SNS envelope', (file) => {
    // Prepare
    const notification = load(file);
    // Act
    const raw = parseSesFeedbackBody(JSON.stringify(notification));
    const wrapped = parseSesFeedbackBody(asEnvelope(notification));
    // Assess
    expect(wrapped.notification).toEqual(raw.notification);
    expect(wrapped.snsMessageId).toBe(envelope.MessageId);
    expect(raw.snsMessageId).toBeUndefined();
  });

  it.each([
    ['classic_bounce_with_dsn.json', 'hard-bounce', 'Bounce/Permanent/General'],
    ['event_Bounce.json', 'hard-bounce', 'Bounce/Permanent/General'],
    ['classic_complaint_with_feedback.json', 'complaint', 'Complaint/abuse'],
    ['event_Complaint.json', 'complaint', 'Complaint/abuse'],
    ['classic_delivery.json', 'delivery', 'Delivery'],
    ['event_Delivery.json', 'delivery', 'Delivery'],
  ])('%s maps to %s events', (file, kind, providerType) => {
    const parsed = mapSesNotification(parseSesFeedbackBody(JSON.stringify(load(file))).notification);
    expect(parsed.events.length).toBeGreaterThan(0);
    for (const e of parsed.events) {
      expect(e.kind).toBe(kind);
      expect(e.providerType).toBe(providerType);
      expect(e.eventKey.startsWith('ses:')).toBe(true);
    }
  });

  it.each(['event_Send.json', 'event_Open.json', 'event_Click.json', 'event_Reject.json', 'event_RenderingFailure.json', 'event_DeliveryDelay.json'])(
    '%s is accepted without recipient effects',
    (file) => {
      const parsed = mapSesNotification(parseSesFeedbackBody(JSON.stringify(load(file))).notification);
      expect(parsed.events).toEqual([]);
      expect(parsed.unknownType).toBe(false);
    },
  );

  it('handles every bounced recipient, keyed by feedbackId and recipient', () => {
    const bounce = load('classic_bounce_with_dsn.json') as { bounce: { bouncedRecipients: unknown[] } };
    bounce.bounce.bouncedRecipients = [
      { emailAddress: 'one@example.com', status: '5.1.1' },
      { emailAddress: 'Two@Example.com', status: '5.1.1' },
      { emailAddress: 'three@example.com' },
    ];
    const parsed = mapSesNotification(parseSesFeedbackBody(asEnvelope(bounce)).notification);
    expect(parsed.events.map((e) => e.email)).toEqual(['one@example.com', 'Two@Example.com', 'three@example.com']);
    expect(new Set(parsed.events.map((e) => e.eventKey)).size).toBe(3);
    expect(parsed.events[1]?.eventKey).toBe('ses:00000138111222aa-33322211-cccc-cccc-cccc-ddddaaaa068a-000000:two@example.com');
  });

  it('maps transient and undetermined bounces to soft bounces and not-spam complaints to not-spam', () => {
    const transient = load('event_Bounce.json') as { bounce: Record<string, unknown> };
    transient.bounce.bounceType = 'Transient';
    transient.bounce.bounceSubType = 'MailboxFull';
    expect(mapSesNotification(parseSesFeedbackBody(JSON.stringify(transient)).notification).events[0]?.kind).toBe('soft-bounce');
    transient.bounce.bounceType = 'Undetermined';
    expect(mapSesNotification(parseSesFeedbackBody(JSON.stringify(transient)).notification).events[0]?.kind).toBe('soft-bounce');
    const notSpam = load('event_Complaint.json') as { complaint: Record<string, unknown> };
    notSpam.complaint.complaintFeedbackType = 'not-spam';
    expect(mapSesNotification(parseSesFeedbackBody(JSON.stringify(notSpam)).notification).events[0]?.kind).toBe('not-spam');
  });

  it('accepts unknown future event types and fields', () => {
    const future = { ...load('event_Send.json'), eventType: 'Teleport', teleport: { where: 'mars' } };
    const parsed = mapSesNotification(parseSesFeedbackBody(asEnvelope(future)).notification);
    expect(parsed.unknownType).toBe(true);
    expect(parsed.providerType).toBe('Teleport');
    expect(parsed.events).toEqual([]);
  });
});

describe('malformed bodies', () => {
  it.each([
    ['not JSON', 'this is not json', /body is not JSON/],
    ['a JSON array', '[1,2]', /not a JSON object/],
    ['an SNS envelope around text', JSON.stringify(envelope), /SNS Message is not JSON/],
    ['a subscription confirmation', JSON.stringify({ ...envelope, Type: 'SubscriptionConfirmation' }), /SubscriptionConfirmation/],
    ['JSON that is not SES', JSON.stringify({ hello: 'world' }), /not an SES notification/],
    ['a Bounce without its bounce object', JSON.stringify({ notificationType: 'Bounce', mail: { messageId: 'm' } }), /without its bounce/],
    ['a Bounce without recipients', JSON.stringify({ notificationType: 'Bounce', mail: { messageId: 'm' }, bounce: { bounceType: 'Permanent', bouncedRecipients: [] } }), /bouncedRecipients/],
  ])('%s is rejected with a reason', (_, body, reason) => {
    expect(() => parseSesFeedbackBody(body)).toThrow(MalformedEventError);
    expect(() => parseSesFeedbackBody(body)).toThrow(reason);
  });
});
