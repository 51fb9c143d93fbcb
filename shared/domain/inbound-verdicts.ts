/**
 * What SES's receipt verdicts mean for an inbound message: process it, or quarantine it
 * (and whether its attachments may be touched at all). Pure and configurable so an operator
 * can loosen a rule without a code change, and tests can cover every combination.
 *
 * SES verdict statuses are PASS | FAIL | GRAY | PROCESSING_FAILED | DISABLED; `dmarcPolicy`
 * is the sender domain's published policy (none | quarantine | reject), present only when
 * DMARC failed. https://docs.aws.amazon.com/ses/latest/dg/receiving-email-notifications-contents.html
 */

type VerdictStatus = string;

export interface ReceiptVerdicts {
  spam?: VerdictStatus | undefined;
  virus?: VerdictStatus | undefined;
  spf?: VerdictStatus | undefined;
  dkim?: VerdictStatus | undefined;
  dmarc?: VerdictStatus | undefined;
  dmarcPolicy?: string | undefined;
}

export interface VerdictPolicyConfig {
  /** virus FAIL: quarantine, never extract an attachment. */
  quarantineOnVirus: boolean;
  /** spam FAIL: quarantine. */
  quarantineOnSpam: boolean;
  /** DMARC FAIL while the sender's domain publishes p=reject: quarantine. */
  quarantineOnDmarcReject: boolean;
}

export const DEFAULT_VERDICT_POLICY: VerdictPolicyConfig = {
  quarantineOnVirus: true,
  quarantineOnSpam: true,
  quarantineOnDmarcReject: true,
};

/** A rule that applied, in a form fit for the record: `virus:FAIL`, `dmarc:FAIL/reject`. */
type AppliedVerdict = 'virus:FAIL' | 'spam:FAIL' | 'dmarc:FAIL/reject';

export interface VerdictDecision {
  action: 'process' | 'quarantine';
  /**
   * False when the content is known to be dangerous (virus): not a byte of it is decoded.
   * A spam or DMARC quarantine still lists and stores its attachments (under the quarantine
   * prefix) for the person reviewing it, but recognises no invoice and publishes nothing.
   */
  extractAttachments: boolean;
  /** The rules that decided the quarantine (empty when processed). */
  applied: AppliedVerdict[];
  /** Failed verdicts the policy does not act on (kept for people reading the record). */
  noted: string[];
}

const isFail = (status: VerdictStatus | undefined): boolean => status?.toUpperCase() === 'FAIL';

export function decideVerdicts(verdicts: ReceiptVerdicts, config: VerdictPolicyConfig = DEFAULT_VERDICT_POLICY): VerdictDecision {
  const applied: AppliedVerdict[] = [];
  const noted: string[] = [];
  const dmarcReject = isFail(verdicts.dmarc) && verdicts.dmarcPolicy?.toLowerCase() === 'reject';

  if (isFail(verdicts.virus)) (config.quarantineOnVirus ? applied : noted).push('virus:FAIL');
  if (isFail(verdicts.spam)) (config.quarantineOnSpam ? applied : noted).push('spam:FAIL');
  if (dmarcReject) (config.quarantineOnDmarcReject ? applied : noted).push('dmarc:FAIL/reject');
  else if (isFail(verdicts.dmarc)) noted.push(`dmarc:FAIL${verdicts.dmarcPolicy ? `/${verdicts.dmarcPolicy.toLowerCase()}` : ''}`);
  if (isFail(verdicts.spf)) noted.push('spf:FAIL');
  if (isFail(verdicts.dkim)) noted.push('dkim:FAIL');

  return {
    action: applied.length > 0 ? 'quarantine' : 'process',
    extractAttachments: !applied.includes('virus:FAIL'),
    applied,
    noted,
  };
}
