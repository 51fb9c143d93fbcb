/**
 * A small namespace-aware view of an XML document. Invoice producers choose prefixes freely
 * (`cbc:`, `ubl:`, a default namespace, or none of the usual ones), so everything downstream
 * matches on namespace URI + local name and never on the prefix as written.
 *
 * Safety: e-invoices never need a DTD, so any DOCTYPE/ENTITY declaration is refused before
 * parsing; that removes entity-expansion bombs and external entities outright instead of
 * relying on expansion limits. fast-xml-parser runs with entity processing off; we decode
 * the five predefined entities and character references ourselves.
 *
 * Bounded work: elements are counted on the raw text before any parser builds a tree (2.5 M
 * empty elements fit in 10 MB and cost ~1 GB as trees), and namespace scopes are a chain of
 * the declarations each element adds, never a copy of everything in scope per element (which
 * made an XML whose elements each declare a namespace quadratic).
 */
import { XMLParser, XMLValidator } from 'fast-xml-parser';
import { RecognitionBudget } from './budget.ts';

export const MAX_XML_BYTES = 10 * 1024 * 1024;

export interface XmlElement {
  readonly ns: string;
  readonly local: string;
  /** Unprefixed attributes by local name; prefixed ones by their name as written. */
  readonly attributes: ReadonlyMap<string, string>;
  readonly children: readonly XmlElement[];
  /** Concatenated direct text content, entities decoded, not trimmed. */
  readonly text: string;
}

export type XmlDocumentErrorCode = 'xml-invalid' | 'xml-dtd-forbidden' | 'too-large';

export class XmlDocumentError extends Error {
  override name = 'XmlDocumentError';
  constructor(
    readonly code: XmlDocumentErrorCode,
    message: string,
  ) {
    super(message);
  }
}

const XML_NS = 'http://www.w3.org/XML/1998/namespace';

/** Cheap check on the first bytes: BOM and/or whitespace followed by `<`, in UTF-8 or UTF-16. */
export function looksLikeXml(firstBytes: Uint8Array): boolean {
  let i = 0;
  if (firstBytes[0] === 0xef && firstBytes[1] === 0xbb && firstBytes[2] === 0xbf) i = 3;
  else if ((firstBytes[0] === 0xfe && firstBytes[1] === 0xff) || (firstBytes[0] === 0xff && firstBytes[1] === 0xfe)) {
    return true;
  }
  if (firstBytes[0] === 0x3c && firstBytes[1] === 0x00) return true; // UTF-16LE "<" without BOM
  if (firstBytes[0] === 0x00 && firstBytes[1] === 0x3c) return true; // UTF-16BE "<" without BOM
  while (i < firstBytes.length && [0x20, 0x09, 0x0a, 0x0d].includes(firstBytes[i]!)) i++;
  return i < firstBytes.length && firstBytes[i] === 0x3c;
}

function detectEncoding(bytes: Uint8Array): string {
  if (bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf) return 'utf-8';
  if (bytes[0] === 0xfe && bytes[1] === 0xff) return 'utf-16be';
  if (bytes[0] === 0xff && bytes[1] === 0xfe) return 'utf-16le';
  if (bytes[0] === 0x3c && bytes[1] === 0x00) return 'utf-16le';
  if (bytes[0] === 0x00 && bytes[1] === 0x3c) return 'utf-16be';
  // The declaration is ASCII in every ASCII-compatible encoding, so a byte-wise peek suffices.
  const head = String.fromCharCode(...bytes.subarray(0, 256));
  const declared = /^\s*<\?xml[^>]*?encoding\s*=\s*["']([A-Za-z0-9._-]+)["']/.exec(head);
  return declared?.[1]?.toLowerCase() ?? 'utf-8';
}

function decodeXmlBytes(bytes: Uint8Array): string {
  const encoding = detectEncoding(bytes);
  let decoder;
  try {
    // Not fatal: a stray mis-encoded byte in a street name should not cost us the invoice.
    decoder = new TextDecoder(encoding);
  } catch {
    throw new XmlDocumentError('xml-invalid', `unsupported XML encoding "${encoding}"`);
  }
  return decoder.decode(bytes);
}

const PREDEFINED_ENTITIES: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };

function decodeEntities(raw: string): string {
  if (!raw.includes('&')) return raw;
  return raw.replace(/&(#x[0-9a-fA-F]+|#[0-9]+|[A-Za-z]+);/g, (whole, ref: string) => {
    if (ref.startsWith('#')) {
      const code = ref[1] === 'x' ? Number.parseInt(ref.slice(2), 16) : Number.parseInt(ref.slice(1), 10);
      return code > 0 && code <= 0x10ffff ? String.fromCodePoint(code) : whole;
    }
    return PREDEFINED_ENTITIES[ref] ?? whole;
  });
}

const parser = new XMLParser({
  preserveOrder: true,
  ignoreAttributes: false,
  attributeNamePrefix: '',
  parseTagValue: false,
  parseAttributeValue: false,
  trimValues: false,
  processEntities: false,
  htmlEntities: false,
  ignoreDeclaration: true,
  ignorePiTags: true,
  cdataPropName: '#cdata',
  // Real invoices nest < 20 deep; the cap keeps hostile nesting from exhausting the stack.
  maxNestedTags: 100,
});

type OrderedNode = Record<string, unknown>;

/**
 * Namespace of a prefix nobody declared. An unprefixed name without a default namespace is
 * simply in no namespace (Namespaces in XML 1.0, section 6.2), which producers write for
 * elements they consider unimportant (a UBL credit note with bare `<TaxCategory>`). A
 * prefixed name whose prefix is undeclared is not namespace-well-formed, but rejecting a whole
 * invoice for a typo in an extension element helps nobody: it gets a namespace of its own
 * that no extractor asks for, so it can never pass for an EN 16931 element.
 */
function undeclaredNamespace(prefix: string): string {
  return prefix === '' ? '' : `urn:mailbridge:undeclared-prefix:${prefix}`;
}

function splitName(qname: string): [prefix: string, local: string] {
  const colon = qname.indexOf(':');
  return colon < 0 ? ['', qname] : [qname.slice(0, colon), qname.slice(colon + 1)];
}

/** The namespace declarations in scope: each element that declares some adds one link. */
interface Scope {
  readonly parent: Scope | null;
  readonly bindings: ReadonlyMap<string, string>;
}

function lookupNamespace(scope: Scope | null, prefix: string): string | undefined {
  // The chain is at most maxNestedTags long, so a lookup is bounded whatever the document.
  for (let s = scope; s !== null; s = s.parent) {
    const ns = s.bindings.get(prefix);
    if (ns !== undefined) return ns;
  }
  return undefined;
}

class TreeBuilder {
  private elements = 0;
  constructor(private readonly budget: RecognitionBudget) {}

  toElement(node: OrderedNode, inherited: Scope | null): XmlElement | null {
    const qname = Object.keys(node).find((k) => k !== ':@');
    if (qname === undefined || qname === '#text' || qname === '#cdata') return null;
    if (++this.elements % 4096 === 0) this.budget.checkTime('building the XML tree');
    const rawAttributes = (node[':@'] ?? {}) as Record<string, string>;

    let declared: Map<string, string> | null = null;
    const attributes = new Map<string, string>();
    for (const [name, value] of Object.entries(rawAttributes)) {
      if (name === 'xmlns' || name.startsWith('xmlns:')) (declared ??= new Map()).set(name === 'xmlns' ? '' : name.slice(6), decodeEntities(value));
      else attributes.set(name, decodeEntities(value));
    }
    const scope: Scope | null = declared ? { parent: inherited, bindings: declared } : inherited;

    const [prefix, local] = splitName(qname);
    const ns = prefix === 'xml' ? XML_NS : (lookupNamespace(scope, prefix) ?? undeclaredNamespace(prefix));

    const children: XmlElement[] = [];
    let text = '';
    for (const childNode of (node[qname] ?? []) as OrderedNode[]) {
      if ('#text' in childNode) {
        text += decodeEntities(String(childNode['#text']));
      } else if ('#cdata' in childNode) {
        // CDATA is literal: no entity decoding.
        for (const part of childNode['#cdata'] as OrderedNode[]) text += String(part['#text'] ?? '');
      } else {
        const child = this.toElement(childNode, scope);
        if (child) children.push(child);
      }
    }
    return { ns, local, attributes, children, text };
  }
}

/** Start tags in `text` (`<` then a name character), counted without building anything; stops past `limit`. */
function countElements(text: string, limit: number): number {
  let count = 0;
  for (let i = text.indexOf('<'); i >= 0 && count <= limit; i = text.indexOf('<', i + 1)) {
    const next = text.charCodeAt(i + 1);
    // Letters, '_', ':' and anything non-ASCII start a name; '/', '!', '?' do not.
    if ((next >= 0x41 && next <= 0x5a) || (next >= 0x61 && next <= 0x7a) || next === 0x5f || next === 0x3a || next > 0x7f) count++;
  }
  return count;
}

/**
 * Parses bytes into the root element. Throws XmlDocumentError (never anything else for
 * malformed input) so callers can turn it into a recognition problem.
 */
export function parseXmlDocument(bytes: Uint8Array, budget: RecognitionBudget = new RecognitionBudget()): XmlElement {
  if (bytes.length > MAX_XML_BYTES) {
    throw new XmlDocumentError('too-large', `XML is ${bytes.length} bytes, the limit is ${MAX_XML_BYTES}`);
  }
  const text = decodeXmlBytes(bytes);
  // Anywhere, not just in the prolog: no invoice has a reason to contain these strings, and
  // a check that cannot be confused by comments or CDATA placement is easier to trust.
  if (text.includes('<!DOCTYPE') || text.includes('<!ENTITY')) {
    throw new XmlDocumentError('xml-dtd-forbidden', 'XML contains a DOCTYPE/ENTITY declaration, which e-invoices never need');
  }
  const elements = countElements(text, budget.limits.xmlElements);
  budget.checkCount(elements, budget.limits.xmlElements, 'XML elements');
  const validation = XMLValidator.validate(text);
  budget.checkTime('validating the XML');
  if (validation !== true) {
    const { msg, line, col } = validation.err;
    throw new XmlDocumentError('xml-invalid', `XML is not well-formed: ${msg} (line ${line}, column ${col})`);
  }
  let nodes: OrderedNode[];
  try {
    nodes = parser.parse(text) as OrderedNode[];
  } catch (error) {
    throw new XmlDocumentError('xml-invalid', `XML could not be parsed: ${(error as Error).message}`);
  }
  budget.checkTime('parsing the XML');
  const builder = new TreeBuilder(budget);
  const roots = nodes
    .map((node) => builder.toElement(node, null))
    .filter((el): el is XmlElement => el !== null);
  if (roots.length !== 1 || !roots[0]) {
    throw new XmlDocumentError('xml-invalid', `XML must have exactly one root element, found ${roots.length}`);
  }
  return roots[0];
}

export interface XmlName {
  readonly ns: string;
  readonly local: string;
}

/**
 * Children with this name. Elements in no namespace stand in for the namespaced name when the
 * parent has no child in the right namespace: producers that drop the namespace on some
 * elements (`<TaxCategory>` inside `cac:TaxSubtotal`) still mean the UBL/CII element, and the
 * exact match always wins where both are present.
 */
function childrenNamed(parent: XmlElement | undefined, name: XmlName): XmlElement[] {
  if (!parent) return [];
  const exact = parent.children.filter((c) => c.local === name.local && c.ns === name.ns);
  if (exact.length > 0 || name.ns === '') return exact;
  return parent.children.filter((c) => c.local === name.local && c.ns === '');
}

/** Follows a path of child steps, taking the first match at each step. */
export function descend(start: XmlElement | undefined, ...path: XmlName[]): XmlElement | undefined {
  let current = start;
  for (const step of path) {
    if (!current) return undefined;
    current = childrenNamed(current, step)[0];
  }
  return current;
}

/** All elements reachable by the path, branching on repeated elements at every step. */
export function descendAll(start: XmlElement | undefined, ...path: XmlName[]): XmlElement[] {
  let level: XmlElement[] = start ? [start] : [];
  for (const step of path) level = level.flatMap((el) => childrenNamed(el, step));
  return level;
}

export function textOf(el: XmlElement | undefined): string | null {
  if (!el) return null;
  const collapsed = el.text.replace(/\s+/g, ' ').trim();
  return collapsed === '' ? null : collapsed;
}

export function namespaced(ns: string): (local: string) => XmlName {
  return (local) => ({ ns, local });
}
