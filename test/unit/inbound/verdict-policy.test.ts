/**
 * The verdict policy on SES receipt verdicts (events/ses/receiving_s3_alert.json as the base).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DEFAULT_VERDICT_POLICY, decideVerdicts } from '../../../shared/domain/inbound-verdicts.ts';
import { parseSesReceivedBody, receiptVerdicts } from '../../../shared/schemas/ses-receipt.ts';

const ROOT = join(import.meta.dirname, '..', '..', '..');
const alert = JSON.parse(readFileSync(join(ROOT, 'events', 'ses', 'receiving_s3_alert.json'), 'utf8'));

function verdictsWith(receipt: Record<string, unknown>) {
  const n = structuredClone(alert);
  Object.assign(n.receipt, receipt);
  return receiptVerdicts(parseSesReceivedBody(JSON.stringify(n)));
}

describe('verdict policy', () => {
  it('processes a message whose verdicts all passed', () => {
    const decision = decideVerdicts(verdictsWith({}));

    expect(decision).toEqual({ action: 'process', extractAttachments: true, applied: [], noted: [] });
  });

  it('quarantines a virus without extracting any attachment', () => {
    const decision = decideVerdicts(verdictsWith({ virusVerdict: { status: 'FAIL' } }));

    expect(decision).toEqual({ action: 'quarantine', extractAttachments: false, applied: ['virus:FAIL'], noted: [] });
  });

  it('quarantines spam but still lists its attachments', () => {
    const decision = decideVerdicts(verdictsWith({ spamVerdict: { status: 'FAIL' } }));

    expect(decision).toEqual({ action: 'quarantine', extractAttachments: true, applied: ['spam:FAIL'], noted: [] });
  });

  it('quarantines a DMARC failure only when the sender publishes p=reject', () => {
    const reject = decideVerdicts(verdictsWith({ dmarcVerdict: { status: 'FAIL' }, dmarcPolicy: 'REJECT' }));
    const quarantine = decideVerdicts(verdictsWith({ dmarcVerdict: { status: 'FAIL' }, dmarcPolicy: 'quarantine' }));
    const none = decideVerdicts(verdictsWith({ dmarcVerdict: { status: 'FAIL' } }));

    expect(reject).toMatchObject({ action: 'quarantine', applied: ['dmarc:FAIL/reject'] });
    expect(quarantine).toMatchObject({ action: 'process', applied: [], noted: ['dmarc:FAIL/quarantine'] });
    expect(none).toMatchObject({ action: 'process', applied: [], noted: ['dmarc:FAIL'] });
  });

  it('lists every rule that applied, and notes SPF/DKIM failures without acting on them', () => {
    const decision = decideVerdicts(
      verdictsWith({
        virusVerdict: { status: 'FAIL' },
        spamVerdict: { status: 'FAIL' },
        dmarcVerdict: { status: 'FAIL' },
        dmarcPolicy: 'reject',
        spfVerdict: { status: 'FAIL' },
        dkimVerdict: { status: 'FAIL' },
      }),
    );

    expect(decision.applied).toEqual(['virus:FAIL', 'spam:FAIL', 'dmarc:FAIL/reject']);
    expect(decision.noted).toEqual(['spf:FAIL', 'dkim:FAIL']);
    expect(decision.extractAttachments).toBe(false);
  });

  it('does not act on GRAY or PROCESSING_FAILED verdicts', () => {
    const decision = decideVerdicts(verdictsWith({ spamVerdict: { status: 'GRAY' }, virusVerdict: { status: 'PROCESSING_FAILED' } }));

    expect(decision.action).toBe('process');
  });

  it('follows its configuration: a rule switched off is noted, not applied', () => {
    const policy = { ...DEFAULT_VERDICT_POLICY, quarantineOnSpam: false, quarantineOnDmarcReject: false };

    const decision = decideVerdicts(verdictsWith({ spamVerdict: { status: 'FAIL' }, dmarcVerdict: { status: 'FAIL' }, dmarcPolicy: 'reject' }), policy);

    expect(decision).toEqual({ action: 'process', extractAttachments: true, applied: [], noted: ['spam:FAIL', 'dmarc:FAIL/reject'] });
  });
});

describe('Received notification schema', () => {
  it('reads bucket, key and message id from the SNS envelope SQS delivers', () => {
    const envelope = { Type: 'Notification', MessageId: 'sns-1', Message: JSON.stringify(structuredClone(alert)) };

    const n = parseSesReceivedBody(JSON.stringify(envelope));

    expect(n.receipt.action).toMatchObject({ type: 'S3', bucketName: 'my-S3-bucket', objectKey: 'd6iitobk75ur44p8kdnnp7g2n800' });
    expect(n.mail.messageId).toBe('d6iitobk75ur44p8kdnnp7g2n800');
  });

  it('rejects notifications without an S3 action, and message ids that could escape a key', () => {
    const sns = structuredClone(alert);
    sns.receipt.action = { type: 'SNS', topicArn: 'arn:aws:sns:us-east-1:012345678912:t', encoding: 'UTF8' };
    const sneaky = structuredClone(alert);
    sneaky.mail.messageId = '../../etc';

    expect(() => parseSesReceivedBody(JSON.stringify(sns))).toThrow(/receipt\.action/);
    expect(() => parseSesReceivedBody(JSON.stringify(sneaky))).toThrow(/mail\.messageId/);
    expect(() => parseSesReceivedBody('not json')).toThrow(/not JSON/);
  });
});
