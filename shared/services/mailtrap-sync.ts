/**
 * Mailtrap side of the push: one executor per address. Every call goes through the account's
 * pace (suppression endpoints: 10 requests / 60 s per account). Suppressing is one
 * `POST /api/suppressions` per (domain, stream) target; removing looks the address up once
 * (`GET /api/suppressions?email=`) and deletes the records the store no longer wants, by id.
 */
import type { MailtrapRecord, MailtrapSuppressionApi } from '../ports/provider-suppressions.ts';
import { originalSpelling, mailtrapTargetKey, parseMailtrapTargetKey } from '../domain/suppression-sync.ts';
import type { ExecuteContext, Executor } from './sync-drain.ts';

export function mailtrapExecutor(api: MailtrapSuppressionApi): Executor {
  return async ({ item, state, plan, applied, skipped, calls }: ExecuteContext) => {
    const spelling = originalSpelling(state, item.spellings, item.email);
    let found: MailtrapRecord[] | undefined;
    const lookup = async () => (found ??= await calls.call(() => api.findByEmail(spelling)));
    const recordKey = (r: MailtrapRecord) => mailtrapTargetKey(r.domain_name ?? '', r.sending_stream ?? 'any');

    for (const op of plan.ops) {
      if (op.kind === 'purge') {
        const keep = new Set(op.keep);
        for (const r of await lookup()) {
          if (!keep.has(recordKey(r))) await calls.call(() => api.delete(r.id));
        }
        for (const key of Object.keys(applied)) if (!keep.has(key)) delete applied[key];
      } else if (op.kind === 'delete') {
        for (const r of await lookup()) {
          if (recordKey(r) === op.target) await calls.call(() => api.delete(r.id));
        }
        delete applied[op.target];
      } else {
        const target = parseMailtrapTargetKey(op.target);
        // Domain ids come from the general API (its own, looser limit), once per cold start.
        const domainId = target ? (await api.domains()).get(target.domain) : undefined;
        if (!target || domainId === undefined) {
          skipped.push(`${op.target}: sending domain not found in the Mailtrap account`);
          continue;
        }
        await calls.call(() => api.create({ email: spelling, domainId, stream: target.stream, type: op.value }));
        applied[op.target] = op.value;
      }
    }
  };
}
