/**
 * The work one attachment may cost recognition: wall clock, decoded bytes, text items, XML
 * elements. A small hostile attachment (a zip bomb in a PDF, one content stream drawn by every
 * page, an XML with millions of empty elements) must end as a problem, not take the function
 * down, so every unbounded step of recognition checks one of these before it runs.
 *
 * The limits sit far above what real invoices need (measured on the KoSIT corpus and the
 * generated invoices: < 2,000 XML elements, < 3,000 text items, < 1 MB decoded per PDF) and far
 * below what exhausts a 512 MB Lambda. Time is checked cooperatively: between pdf.js text
 * chunks and pages, between XML phases, before each heuristic pass; every step between checks
 * is linear in a capped input, so no single step can run long.
 */

export const RECOGNITION_LIMITS = {
  /** Wall clock for one attachment. */
  attachmentMs: 10_000,
  /** Wall clock for all attachments of one message (the function's timeout is 120 s). */
  messageMs: 40_000,
  /** Bytes all streams of one PDF may decode to (each stream counted once per use we cannot rule out). */
  pdfDecodedBytes: 64 * 1024 * 1024,
  /** Streams one PDF may have. */
  pdfStreams: 20_000,
  /** Text runs read from one PDF, over all its pages. */
  pdfTextItems: 100_000,
  /** Lines handed to the text heuristics, and characters per line. */
  textLines: 2_000,
  lineChars: 500,
  /** Elements one XML document may have (fast-xml-parser and our tree cost ~450 bytes each). */
  xmlElements: 100_000,
} as const;

export type RecognitionLimits = { -readonly [K in keyof typeof RECOGNITION_LIMITS]: number };

export class RecognitionBudgetError extends Error {
  override name = 'RecognitionBudgetError';
}

/** One attachment's budget: its deadline and limits. `now` is injectable so tests need no real waiting. */
export class RecognitionBudget {
  readonly limits: RecognitionLimits;
  private readonly deadline: number;

  constructor(
    options: { limits?: Partial<RecognitionLimits>; deadline?: number; now?: () => number } = {},
    private readonly now: () => number = options.now ?? (() => performance.now()),
  ) {
    this.limits = { ...RECOGNITION_LIMITS, ...options.limits };
    this.deadline = options.deadline ?? this.now() + this.limits.attachmentMs;
  }

  /** Throws RecognitionBudgetError once the deadline has passed; `stage` says where. */
  checkTime(stage: string): void {
    if (this.now() > this.deadline) throw new RecognitionBudgetError(`${stage}: over the ${this.limits.attachmentMs} ms recognition time budget`);
  }

  /** Throws RecognitionBudgetError when `count` exceeds `limit`. */
  checkCount(count: number, limit: number, what: string): void {
    if (count > limit) throw new RecognitionBudgetError(`${what}: more than ${limit}`);
  }
}
