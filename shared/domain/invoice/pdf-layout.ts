/**
 * The text layer of a PDF as positioned lines and segments, which is what the plain-PDF
 * heuristics read: a label's value sits in the same segment, in the next segment to the right
 * or in the segment below it; the letterhead is at the top, the issuer's legal footer at the
 * bottom, and an address block is a column of short lines under its label.
 *
 * Built from pdf.js text runs (x/y in PDF user space, origin bottom left) or, for callers and
 * tests that only have text, from plain lines. Linear in the number of runs apart from one
 * sort per page; the caller caps the number of runs.
 */

/** One pdf.js text item, reduced to what layout needs. */
export interface PdfTextRun {
  str: string;
  /** Left edge and baseline, PDF user space (origin bottom left). */
  x: number;
  y: number;
  width: number;
  /** Font size in user space; 0 when pdf.js does not know. */
  height: number;
}

export interface PdfPageText {
  height: number;
  runs: PdfTextRun[];
}

export interface Segment {
  text: string;
  x: number;
  right: number;
}

export interface LayoutLine {
  /** 0-based page index. */
  page: number;
  /** Distance of the baseline from the top of the page, in points. */
  top: number;
  /** Font size of the line's largest run. */
  height: number;
  /** Position relative to the page: 0 top edge, 1 bottom edge. */
  relativeTop: number;
  segments: Segment[];
  /** Segments joined by two spaces. */
  text: string;
}

export interface TextLayout {
  lines: LayoutLine[];
}

/** A gap wider than this many font sizes separates two segments (table cells, columns). */
const SEGMENT_GAP_EM = 1.1;

function segmentsOf(runs: PdfTextRun[]): Segment[] {
  runs.sort((a, b) => a.x - b.x);
  const segments: Segment[] = [];
  let current: Segment | null = null;
  let currentHeight = 10;
  for (const run of runs) {
    const text = run.str.replace(/\s+/g, ' ');
    if (text.trim() === '') {
      // pdf.js emits spacer items between runs; they only widen the gap.
      continue;
    }
    const size = run.height > 0 ? run.height : currentHeight;
    if (current) {
      const gap = run.x - current.right;
      if (gap > Math.max(SEGMENT_GAP_EM * Math.max(size, currentHeight), 4)) {
        segments.push(current);
        current = null;
      } else {
        const needsSpace = gap > size * 0.1 && !current.text.endsWith(' ') && !text.startsWith(' ');
        current.text += (needsSpace ? ' ' : '') + text;
        current.right = Math.max(current.right, run.x + run.width);
        currentHeight = size;
        continue;
      }
    }
    current = { text, x: run.x, right: run.x + run.width };
    currentHeight = size;
  }
  if (current) segments.push(current);
  return segments
    .map((s) => ({ ...s, text: s.text.replace(/\s+/g, ' ').trim() }))
    .filter((s) => s.text !== '');
}

/** Runs on (nearly) the same baseline form a line; lines are ordered top to bottom. */
export function layoutFromPages(pages: readonly PdfPageText[]): TextLayout {
  const lines: LayoutLine[] = [];
  pages.forEach((page, pageIndex) => {
    const runs = page.runs.filter((r) => Number.isFinite(r.x) && Number.isFinite(r.y));
    runs.sort((a, b) => b.y - a.y || a.x - b.x);
    const groups: PdfTextRun[][] = [];
    for (const run of runs) {
      const group = groups.at(-1);
      const anchor = group?.[0];
      const size = anchor && anchor.height > 0 ? anchor.height : 10;
      if (group && anchor && Math.abs(anchor.y - run.y) <= Math.max(2, size * 0.4)) group.push(run);
      else groups.push([run]);
    }
    for (const group of groups) {
      const segments = segmentsOf(group);
      if (segments.length === 0) continue;
      const top = page.height - group[0]!.y;
      const height = Math.max(...group.map((r) => (r.height > 0 ? r.height : 10)));
      lines.push({
        page: pageIndex,
        top,
        height,
        relativeTop: page.height > 0 ? Math.min(1, Math.max(0, top / page.height)) : 0,
        segments,
        text: segments.map((s) => s.text).join('  '),
      });
    }
  });
  return { lines };
}

const LINE_PITCH = 14;

/**
 * Plain lines as a one-column page: each line is one segment, 14 pt apart. Runs of two or
 * more spaces inside a line are read as column gaps, as a text export would print them.
 */
export function layoutFromLines(lines: readonly string[]): TextLayout {
  const pageLines = Math.max(lines.length, 40);
  return {
    lines: lines
      .map((text, index): LayoutLine | null => {
        const segments: Segment[] = [];
        let x = 0;
        for (const part of text.split(/\s{2,}/)) {
          const trimmed = part.trim();
          if (trimmed !== '') segments.push({ text: trimmed, x, right: x + trimmed.length * 5.5 });
          x += (part.length + 2) * 5.5;
        }
        if (segments.length === 0) return null;
        return {
          page: 0,
          top: (index + 1) * LINE_PITCH,
          height: 10,
          relativeTop: (index + 1) / (pageLines + 1),
          segments,
          text: segments.map((s) => s.text).join('  '),
        };
      })
      .filter((line): line is LayoutLine => line !== null),
  };
}
