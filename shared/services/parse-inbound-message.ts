/**
 * The parse + recognise core shared by the inbound-parse function and `mailbridge parse`:
 * a raw RFC 5322 message in (any Readable: an S3 body, a file), attachments out to a sink
 * port, invoices and problems back. It knows nothing about S3, DynamoDB or SNS.
 *
 * Memory stays bounded whatever the message size: mailparser's streaming `MailParser`
 * decodes one part at a time, each attachment's bytes go straight to the sink (hashed by
 * mailparser, counted by us on the way), and only candidate invoice attachments (PDF or XML
 * by their first bytes, see isCandidateAttachment) up to `maxCandidateBytes` are buffered for
 * recognition.
 * At most one buffered attachment is being recognised while the next one streams.
 *
 * Forwarded mail: a message/rfc822 attachment is stored as it is and, at the same time, fed
 * into a nested parser (up to `maxDepth`), whose attachments continue the numbering.
 * (mailparser itself already walks rfc822 parts marked `inline`; the ones marked as
 * attachments arrive here as attachments.)
 *
 * Bounded: every string it hands back is cut to RECORD_LIMITS (shared/domain/inbound-bounds.ts);
 * parts past `maxAttachments` are only counted (`omittedAttachments`); recognition of each
 * candidate runs within a RecognitionBudget (per attachment, and `messageMs` for all of them),
 * over which it ends as `recognition-budget-exceeded` and the other attachments go on.
 *
 * Errors: bad content never throws; it ends as a `problems` entry. Only failures of the
 * infrastructure throw: SourceReadError (the raw stream broke), AttachmentSinkError (storing
 * an attachment failed) and RecognitionGuardError (recording that recognition starts or ends
 * failed), so the caller can retry those; and MailparserContractError, a bug (mailparser
 * changed under us) that must not be recorded as bad content.
 */
import { PassThrough, type Readable } from 'node:stream';
import { MailParser, type AddressObject, type AttachmentStream, type Headers, type MessageText } from 'mailparser';
import { isCandidateAttachment, recogniseAttachment, type AttachmentInput } from '../domain/invoice/recognise-attachment.ts';
import { INVOICE_FIELDS, type RecognisedInvoice, type RecognitionResult } from '../domain/invoice/types.ts';
import { RECOGNITION_LIMITS, RecognitionBudget, type RecognitionLimits } from '../domain/invoice/budget.ts';
import { boundFields, boundNullable, boundProblems, boundText, RECORD_LIMITS } from '../domain/inbound-bounds.ts';
import type { AttachmentSink } from '../ports/attachment-sink.ts';
import type { InboundProblem } from '../schemas/inbound-records.ts';

export class SourceReadError extends Error {
  override name = 'SourceReadError';
}

export class AttachmentSinkError extends Error {
  override name = 'AttachmentSinkError';
}

/**
 * The guard could not record that recognition of an attachment starts or ends (its store failed).
 * @public part of the parser's contract (see the header): the caller retries it.
 */
export class RecognitionGuardError extends Error {
  override name = 'RecognitionGuardError';
}

/**
 * Brackets the recognition of each candidate attachment, so that an attempt that dies inside
 * it (timeout, out of memory) is told from one that failed for an outage elsewhere: only the
 * bracket is at risk, and only the attachment in it is given up on.
 */
export interface RecognitionGuard {
  /** Notes the start; resolves with how many earlier attempts died recognising this attachment. */
  begin(index: number): Promise<number>;
  /** Notes the end (whatever the outcome). */
  end(index: number): Promise<void>;
  /** After this many deaths the attachment is stored but not recognised again. */
  maxDeaths: number;
}

/**
 * mailparser did not behave as this module relies on (a dependency upgrade changed it).
 * @public part of the parser's contract (see the header).
 */
export class MailparserContractError extends Error {
  override name = 'MailparserContractError';
}

export interface ParseOptions {
  /** Largest candidate attachment buffered for recognition; larger ones are stored only. */
  maxCandidateBytes: number;
  /** How deep forwarded messages inside forwarded messages are searched. */
  maxDepth: number;
  /** Parts beyond this count are hashed but neither stored nor recognised. */
  maxAttachments: number;
  /** False: store and describe attachments, recognise nothing. */
  recognise: boolean;
  /** Replaceable for tests; defaults to the domain recogniser. */
  recogniser: (input: AttachmentInput) => Promise<RecognitionResult>;
  /** Per-attachment limits (RECOGNITION_LIMITS by default); `messageMs` bounds all attachments together. */
  budget: Partial<RecognitionLimits>;
  /** The clock budgets run on (injectable for tests). */
  now: () => number;
  /** Crash detection per attachment (the inbound-parse function; the CLI has none). */
  guard?: RecognitionGuard;
}

const DEFAULT_PARSE_OPTIONS: ParseOptions = {
  maxCandidateBytes: 10 * 1024 * 1024,
  maxDepth: 3,
  maxAttachments: 100,
  recognise: true,
  recogniser: recogniseAttachment,
  budget: {},
  now: () => performance.now(),
};

interface ParsedAttachment {
  index: number;
  filename: string;
  contentType: string;
  size: number;
  sha256: string;
  key: string | null;
  depth: number;
}

interface ExtractedInvoice extends RecognisedInvoice {
  /** Index of the attachment it came from (ParsedAttachment.index). */
  attachmentIndex: number;
}

export interface ParsedMessage {
  /** The Message-ID header (angle brackets kept, as written). */
  messageId: string | null;
  subject: string | null;
  /** First From address. */
  from: string | null;
  /**
   * Every From address (all From headers), at most MAX_FROM_ADDRESSES of them: more than one
   * makes the sender ambiguous (shared/domain/sender-authentication.ts).
   */
  fromAddresses: string[];
  /** The topmost Authentication-Results header (SES prepends its own), unfolded and bounded. */
  authenticationResults: string | null;
  attachments: ParsedAttachment[];
  /** Parts past `maxAttachments`: counted only (neither listed, stored nor recognised). */
  omittedAttachments: number;
  invoices: ExtractedInvoice[];
  problems: InboundProblem[];
  /** Raw bytes read from the source. */
  bytes: number;
}

// Everything that only builds the message body is switched off: we never look at it, and
// html-to-text on a huge HTML part is the one place mailparser spends CPU and memory unasked.
const PARSER_OPTIONS = {
  skipHtmlToText: true,
  skipTextToHtml: true,
  skipTextLinks: true,
  skipImageLinks: true,
  // mailparser hashes every attachment's decoded bytes anyway (default md5); make that hash the
  // sha256 we record instead of hashing twice. With SHA extensions sha256 is also the faster
  // one (about 2.5x md5 here), so this removes a whole pass over the bytes.
  checksumAlgo: 'sha256',
};

const SNIFF_BYTES = 1024;

const EXTENSIONS: Record<string, string> = {
  'message/rfc822': 'eml',
  'application/pdf': 'pdf',
  'application/xml': 'xml',
  'text/xml': 'xml',
  'text/calendar': 'ics',
  'message/delivery-status': 'txt',
};

function defaultFilename(contentType: string, index: number): string {
  return `attachment-${index}.${EXTENSIONS[contentType] ?? 'bin'}`;
}

function firstAddress(headers: Headers): string | null {
  const from = headers.get('from') as AddressObject | AddressObject[] | undefined;
  const objects = from === undefined ? [] : Array.isArray(from) ? from : [from];
  for (const o of objects) {
    for (const a of o.value ?? []) {
      if (a.address) return a.address;
      for (const member of a.group ?? []) if (member.address) return member.address;
    }
  }
  return null;
}

const MAX_FROM_ADDRESSES = 5;

function allAddresses(headers: Headers, fromHeaderCount: number): string[] {
  const from = headers.get('from') as AddressObject | AddressObject[] | undefined;
  const objects = from === undefined ? [] : Array.isArray(from) ? from : [from];
  const addresses: string[] = [];
  for (const o of objects) {
    for (const a of o.value ?? []) {
      if (a.address) addresses.push(a.address);
      for (const member of a.group ?? []) if (member.address) addresses.push(member.address);
    }
  }
  // mailparser keeps only the last of several From headers; each extra header is one more sender.
  for (let i = 1; i < fromHeaderCount; i++) addresses.push('(another From header)');
  return addresses.slice(0, MAX_FROM_ADDRESSES).map((a) => boundText(a, RECORD_LIMITS.headerChars));
}

interface HeaderLine {
  key: string;
  line: string;
}

function headerString(headers: Headers, name: string): string | null {
  const value = headers.get(name);
  return typeof value === 'string' && value.length > 0 ? value : null;
}

/** `Name: value\r\n folded` -> `value folded`. */
function unfoldHeaderValue(line: string): string {
  return line
    .slice(line.indexOf(':') + 1)
    .replace(/\r?\n[ \t]+/g, ' ')
    .trim();
}

/** Writes with backpressure; resolves false when `stop` settled first (the reader is gone). */
async function writeTo(target: PassThrough, chunk: Buffer, stop: Promise<unknown>): Promise<boolean> {
  if (target.write(chunk)) return true;
  return Promise.race([
    new Promise<boolean>((resolve) => target.once('drain', () => resolve(true))),
    stop.then(
      () => false,
      () => false,
    ),
  ]);
}

/** How long an attachment may give no data, once the parser failed, before it is taken as cut off. */
const PARSER_STALL_MS = 2_000;
const STALL_TICK_MS = 250;

/** The attachment `walk` is reading: how far, and whether it is waiting for data (not for the sink). */
interface WatchedContent {
  content: Readable;
  progress: number;
  seen: number;
  idleTicks: number;
  waiting: boolean;
}
interface AttachmentWatch {
  current?: WatchedContent | undefined;
}

const describeError = (error: unknown): string => (error instanceof Error ? error.message : String(error));

class MessageWalk {
  private counter = 0;
  readonly attachments: ParsedAttachment[] = [];
  readonly invoices: ExtractedInvoice[] = [];
  readonly problems: InboundProblem[] = [];
  omitted = 0;
  /** The recognition still running for the previous candidate, if any. */
  private recognising: Promise<void> = Promise.resolve();
  private readonly limits: RecognitionLimits;
  private readonly messageDeadline: number;

  constructor(
    private readonly sink: AttachmentSink,
    private readonly options: ParseOptions,
  ) {
    this.limits = { ...RECOGNITION_LIMITS, ...options.budget };
    this.messageDeadline = options.now() + this.limits.messageMs;
  }

  /** Parses one message level; resolves with its headers (undefined if none were read). */
  /** Header lines of the top-level message (From count, Authentication-Results). */
  topHeaderLines: HeaderLine[] = [];

  async walk(input: Readable, depth: number, parentIndex?: number): Promise<Headers | undefined> {
    const parser = new MailParser(PARSER_OPTIONS);
    let headers: Headers | undefined;
    let sourceError: unknown;
    parser.on('headers', (h: Headers) => {
      headers = h;
    });
    // mailparser reports mailsplit's refusals (too many parts, header block too large) on the
    // parser and stops; the attachment being read then either still ends (its data was split
    // before the refusal) or never does. Reading the latter would wait until the function's
    // timeout, so once the parser failed, an attachment that gives no data for
    // PARSER_STALL_MS while we wait for it is ended with the parser's error.
    const watch: AttachmentWatch = {};
    let watchdog: NodeJS.Timeout | undefined;
    parser.on('error', (error: unknown) => {
      if (watchdog) return;
      const reason = error instanceof Error ? error : new Error(String(error));
      watchdog = setInterval(() => {
        const current = watch.current;
        if (!current || current.content.destroyed || current.content.readableEnded) return;
        if (!current.waiting || current.progress !== current.seen) {
          current.seen = current.progress;
          current.idleTicks = 0;
          return;
        }
        current.idleTicks += 1;
        if (current.idleTicks * STALL_TICK_MS >= PARSER_STALL_MS) current.content.destroy(reason);
      }, STALL_TICK_MS);
    });
    if (depth === 0) {
      parser.on('headerLines', (lines: HeaderLine[]) => {
        this.topHeaderLines = lines.filter((l) => l.key === 'from' || l.key === 'authentication-results').slice(0, 20);
      });
    }
    input.on('error', (error) => {
      sourceError = error;
      parser.destroy(new SourceReadError(`reading the message failed: ${describeError(error)}`));
    });
    input.pipe(parser);
    try {
      for await (const data of parser as AsyncIterable<AttachmentStream | MessageText>) {
        if (data.type !== 'attachment') continue;
        watch.current = { content: data.content as unknown as Readable, progress: 0, seen: 0, idleTicks: 0, waiting: true };
        try {
          await this.attachment(data, depth, watch.current);
        } finally {
          watch.current = undefined;
          data.release();
        }
      }
    } catch (error) {
      input.unpipe(parser);
      if (sourceError !== undefined || error instanceof SourceReadError) {
        throw error instanceof SourceReadError ? error : new SourceReadError(`reading the message failed: ${describeError(sourceError)}`);
      }
      if (error instanceof AttachmentSinkError || error instanceof MailparserContractError || error instanceof RecognitionGuardError) throw error;
      // Anything else is mailparser/mailsplit refusing the content (header block too large,
      // too many parts, undecodable structure). Keep what was parsed so far.
      this.problems.push({
        code: 'mime-malformed',
        message: `${depth > 0 ? 'forwarded message' : 'message'}: MIME parsing stopped: ${describeError(error)}`,
        ...(parentIndex === undefined ? {} : { attachment: parentIndex }),
      });
    } finally {
      if (watchdog) clearInterval(watchdog);
    }
    return headers;
  }

  async finish(): Promise<void> {
    await this.recognising;
  }

  private async attachment(data: AttachmentStream, depth: number, watched: WatchedContent): Promise<void> {
    const index = ++this.counter;
    const contentType = boundText((data.contentType || 'application/octet-stream').toLowerCase(), RECORD_LIMITS.contentTypeChars);
    const filename = boundText(data.filename?.trim() || defaultFilename(contentType, index), RECORD_LIMITS.filenameChars);
    let size = 0;

    // The sink reads from `toSink`; a failed store must not leave us waiting on 'drain'.
    const overLimit = index > this.options.maxAttachments;
    if (overLimit) this.omitted++;
    let toSink: PassThrough | null = null;
    let stored: Promise<{ key: string | null }> | null = null;
    if (!overLimit) {
      toSink = new PassThrough({ highWaterMark: 64 * 1024 });
      stored = this.sink.store({ index, filename, contentType, depth }, toSink);
      stored.catch(() => undefined);
    }

    // Forwarded message: parse it while it streams by.
    let nestedInput: PassThrough | null = null;
    let nested: Promise<unknown> | null = null;
    if (contentType === 'message/rfc822' && !overLimit) {
      if (depth + 1 > this.options.maxDepth) {
        this.problems.push({ code: 'nesting-too-deep', message: `"${filename}": forwarded message nested deeper than ${this.options.maxDepth} levels is not searched`, attachment: index });
      } else {
        nestedInput = new PassThrough({ highWaterMark: 64 * 1024 });
        nested = this.walk(nestedInput, depth + 1, index);
        nested.catch(() => undefined);
      }
    }

    // Candidate detection needs the first bytes; buffering continues only for candidates.
    const wantsRecognition = this.options.recognise && !overLimit;
    let head: Buffer[] = [];
    let headLength = 0;
    let candidate: boolean | null = wantsRecognition ? null : false;
    let buffered: Buffer[] = [];
    let bufferedLength = 0;
    let tooLarge = false;
    const keep = (chunk: Buffer) => {
      if (tooLarge) return;
      buffered.push(chunk);
      bufferedLength += chunk.length;
      if (bufferedLength > this.options.maxCandidateBytes) {
        // Over the cap: drop what we hold at once, the rest only streams to the sink.
        tooLarge = true;
        buffered = [];
      }
    };
    const decide = () => {
      candidate = isCandidateAttachment(filename, contentType, Buffer.concat(head, headLength));
      if (candidate) for (const c of head) keep(c);
      head = [];
    };

    for await (const raw of data.content as unknown as AsyncIterable<Buffer | string>) {
      watched.waiting = false;
      watched.progress += 1;
      const chunk = typeof raw === 'string' ? Buffer.from(raw) : raw;
      size += chunk.length;
      if (toSink && stored && !(await writeTo(toSink, chunk, stored))) {
        throw new AttachmentSinkError(`storing attachment ${index} failed: ${await stored.then(() => 'the store stopped reading', describeError)}`);
      }
      if (nestedInput && nested && !(await writeTo(nestedInput, chunk, nested))) {
        // The nested parser stopped (it recorded why); keep streaming the outer message.
        nestedInput = null;
      }
      if (candidate === null) {
        head.push(chunk);
        headLength += chunk.length;
        if (headLength >= SNIFF_BYTES) decide();
      } else if (candidate) {
        keep(chunk);
      }
      watched.waiting = true;
    }
    watched.waiting = false;
    if (candidate === null) decide();
    nestedInput?.end();

    let key: string | null = null;
    if (toSink && stored) {
      toSink.end();
      try {
        key = (await stored).key;
      } catch (error) {
        throw new AttachmentSinkError(`storing attachment ${index} failed: ${describeError(error)}`);
      }
    }
    if (nested) await nested;

    // Set by mailparser's hashing stream (data.content) when it flushed, before its end.
    const sha256 = data.checksum;
    if (!/^[0-9a-f]{64}$/.test(sha256)) throw new MailparserContractError(`attachment ${index}: mailparser gave no sha256 checksum (${String(sha256)})`);
    if (overLimit) return;
    this.attachments.push({ index, filename, contentType, size, sha256, key, depth });

    if (!candidate) return;
    if (tooLarge) {
      this.problems.push({
        code: 'attachment-too-large',
        message: `"${filename}" (${contentType}) has ${size} bytes, above the ${this.options.maxCandidateBytes}-byte recognition limit: stored, not recognised`,
        attachment: index,
      });
      return;
    }
    const bytes = Buffer.concat(buffered, bufferedLength);
    buffered = [];
    // One recognition at a time, in attachment order (deterministic records), overlapping
    // with the streaming of the next part.
    const previous = this.recognising;
    await previous;
    this.recognising = this.recognise(bytes, filename, contentType, index);
  }

  private async recognise(bytes: Buffer, filename: string, contentType: string, index: number): Promise<void> {
    const now = this.options.now();
    if (now > this.messageDeadline) {
      this.problems.push({
        code: 'recognition-budget-exceeded',
        message: `"${filename}" (${contentType}): the message's ${this.limits.messageMs} ms recognition budget is used up by earlier attachments: stored, not recognised`,
        attachment: index,
      });
      return;
    }
    const guard = this.options.guard;
    if (guard) {
      const deaths = await guard.begin(index).catch((error: unknown) => {
        throw new RecognitionGuardError(`recording that recognition of attachment ${index} starts failed: ${describeError(error)}`);
      });
      if (deaths >= guard.maxDeaths) {
        await this.endGuard(guard, index);
        this.problems.push({
          code: 'recognition-skipped',
          message: `"${filename}": ${deaths} earlier attempts died recognising it (timeout or out of memory?): stored, not recognised`,
          attachment: index,
        });
        return;
      }
    }
    let result: RecognitionResult;
    try {
      const budget = new RecognitionBudget({ limits: this.limits, deadline: Math.min(now + this.limits.attachmentMs, this.messageDeadline), now: this.options.now });
      result = await this.options.recogniser({ bytes, filename, contentType, budget });
    } catch (error) {
      // recogniseAttachment never throws by contract; a replacement might.
      result = { invoices: [], problems: [{ code: 'recognition-failed', message: `"${filename}": ${describeError(error)}` }] };
    }
    if (guard) await this.endGuard(guard, index);
    for (const invoice of result.invoices) this.invoices.push({ ...boundFields(invoice, INVOICE_FIELDS, RECORD_LIMITS.fieldChars), attachmentIndex: index });
    for (const p of result.problems) this.problems.push({ code: p.code, message: p.message, attachment: index });
  }

  private async endGuard(guard: RecognitionGuard, index: number): Promise<void> {
    await guard.end(index).catch((error: unknown) => {
      throw new RecognitionGuardError(`recording that recognition of attachment ${index} ended failed: ${describeError(error)}`);
    });
  }
}

/**
 * Parse `source` to its end. `options.recognise: false` keeps the attachment walk (store,
 * hash, list) without recognition, for quarantined mail and for a message whose previous
 * attempts never finished.
 */
export async function parseInboundMessage(source: Readable, sink: AttachmentSink, options: Partial<ParseOptions> = {}): Promise<ParsedMessage> {
  const opts: ParseOptions = { ...DEFAULT_PARSE_OPTIONS, ...options };
  const run = new MessageWalk(sink, opts);
  let bytes = 0;
  source.on('data', (chunk: Buffer | string) => {
    bytes += chunk.length;
  });
  let headers: Headers | undefined;
  try {
    headers = await run.walk(source, 0);
    await run.finish();
  } catch (error) {
    source.destroy();
    throw error;
  }
  const problems = [...run.problems];
  if (bytes === 0) problems.unshift({ code: 'message-empty', message: 'the message has no bytes' });
  if (run.omitted > 0) {
    problems.push({
      code: 'too-many-attachments',
      message: `${run.omitted} attachments past the first ${opts.maxAttachments} are only counted: not listed, stored or recognised`,
    });
  }
  const fromHeaderCount = run.topHeaderLines.filter((l) => l.key === 'from').length;
  const topAuthResults = run.topHeaderLines.find((l) => l.key === 'authentication-results');
  return {
    messageId: headers ? boundNullable(headerString(headers, 'message-id'), RECORD_LIMITS.headerChars) : null,
    subject: headers ? boundNullable(headerString(headers, 'subject'), RECORD_LIMITS.subjectChars) : null,
    from: headers ? boundNullable(firstAddress(headers), RECORD_LIMITS.headerChars) : null,
    fromAddresses: headers ? allAddresses(headers, fromHeaderCount) : [],
    authenticationResults: topAuthResults ? boundText(unfoldHeaderValue(topAuthResults.line), RECORD_LIMITS.authenticationResultsChars) : null,
    // Attachments finish out of order when a forwarded message's parts complete inside it.
    attachments: [...run.attachments].sort((a, b) => a.index - b.index),
    omittedAttachments: run.omitted,
    invoices: run.invoices,
    problems: boundProblems(problems),
    bytes,
  };
}
