/**
 * One measurement of bench/inbound-parse.ts, in a process of its own so its peak RSS
 * (process.resourceUsage().maxRSS) belongs to that one case. The parent bundles this file
 * with esbuild as serverless-esbuild bundles the Lambda and runs the bundle with plain node.
 *
 *   node child.mjs <parser> <file.eml> <runs>
 *   parser: mailbridge         parseInboundMessage, recognition on: what inbound-parse runs
 *                              (attachments streamed to a sink that reads and drops them)
 *           mailbridge-parse   the same without recognition: MIME walk, hashing, sink only
 *           simpleParser       mailparser's simpleParser (the usual buffered way), the baseline
 *
 * Prints one JSON line: elapsed ms per run, peak RSS after the first run (a fresh process,
 * one message: the figure that matters for a Lambda) and after all runs, RSS before parsing.
 */
import { createReadStream, statSync } from 'node:fs';
import type { Readable } from 'node:stream';

export class BenchUsageError extends Error {
  override name = 'BenchUsageError';
}

const [parser, file, runsArg] = process.argv.slice(2);
if (!parser || !file) throw new BenchUsageError('usage: child <parser> <file.eml> [runs]');
const runs = Number(runsArg ?? 1);

interface Outcome {
  attachments: number;
  invoices: number;
  problems: string[];
}

/**
 * Each parser loads only its own code (the bundle is split at these imports), so the
 * baseline does not carry pdf.js and the RSS figures compare like with like.
 */
async function loadParser(name: string): Promise<(source: Readable) => Promise<Outcome>> {
  switch (name) {
    case 'mailbridge':
    case 'mailbridge-parse': {
      const [{ parseInboundMessage }, { DiscardingAttachmentSink }] = await Promise.all([
        import('../shared/services/parse-inbound-message.ts'),
        import('../shared/adapters/discarding-attachment-sink.ts'),
      ]);
      return async (source) => {
        const parsed = await parseInboundMessage(source, new DiscardingAttachmentSink(), { recognise: name === 'mailbridge' });
        return { attachments: parsed.attachments.length, invoices: parsed.invoices.length, problems: parsed.problems.map((p) => p.code) };
      };
    }
    case 'simpleParser': {
      // A CommonJS module: through a bundle's dynamic import its exports sit on `default`.
      const mailparser = await import('mailparser');
      const simpleParser = (mailparser as unknown as { default?: typeof mailparser }).default?.simpleParser ?? mailparser.simpleParser;
      return async (source) => {
        const parsed = await simpleParser(source);
        return { attachments: parsed.attachments.length, invoices: 0, problems: [] };
      };
    }
    default:
      throw new BenchUsageError(`unknown parser ${name}`);
  }
}

const parse = await loadParser(parser);
const parseOnce = () => parse(createReadStream(file, { highWaterMark: 64 * 1024 }));

const kib = (bytes: number) => Math.round(bytes / 1024);
const rssBeforeKiB = kib(process.memoryUsage().rss);
const elapsedMs: number[] = [];
let firstRunMaxRssKiB = 0;
let outcome: Outcome | undefined;
for (let i = 0; i < runs; i++) {
  const started = performance.now();
  outcome = await parseOnce();
  elapsedMs.push(performance.now() - started);
  if (i === 0) firstRunMaxRssKiB = process.resourceUsage().maxRSS;
}
process.stdout.write(
  `${JSON.stringify({ parser, bytes: statSync(file).size, elapsedMs, rssBeforeKiB, firstRunMaxRssKiB, maxRssKiB: process.resourceUsage().maxRSS, ...outcome })}\n`,
);
