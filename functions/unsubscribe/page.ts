/**
 * The small HTML pages of the unsubscribe endpoint: the form a GET shows (mail scanners follow
 * links, so a GET never acts), the confirmation after the POST, and the error pages.
 * No script, no third-party assets, one inline style block; plain semantic HTML (a heading, a
 * paragraph, a labelled button), so it works with a screen reader and without CSS.
 */
import type { APIGatewayProxyStructuredResultV2 } from 'aws-lambda';

const STYLE =
  'body{font:1.05rem/1.5 system-ui,sans-serif;max-width:34rem;margin:3rem auto;padding:0 1rem;color:#1a1a1a;background:#fff}' +
  'h1{font-size:1.5rem}button{font:inherit;padding:.6rem 1.2rem;border:2px solid #1a1a1a;border-radius:.3rem;background:#1a1a1a;color:#fff;cursor:pointer}' +
  'button:focus-visible{outline:3px solid #0a58ca;outline-offset:2px}';

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] as string);
}

/** Token in the URL: no caching, no referrer, nothing framed or loaded from elsewhere. */
const PAGE_HEADERS: Record<string, string> = {
  'content-type': 'text/html; charset=utf-8',
  'cache-control': 'no-store',
  'referrer-policy': 'no-referrer',
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
  'content-security-policy': "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
};

function page(statusCode: number, title: string, body: string, extraHeaders: Record<string, string> = {}): APIGatewayProxyStructuredResultV2 {
  const html =
    `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">` +
    `<meta name="robots" content="noindex"><title>${escapeHtml(title)}</title><style>${STYLE}</style></head>` +
    `<body><main>${body}</main></body></html>`;
  return { statusCode, headers: { ...PAGE_HEADERS, ...extraHeaders }, body: html };
}

/** Where the unsubscribe applies, in words. */
export function scopeLabel(domain: string | undefined, stream: string | undefined): string {
  if (!domain) return 'all mail from us';
  return stream ? `${stream} mail from ${domain}` : `mail from ${domain}`;
}

export function formPage(email: string, scope: string): APIGatewayProxyStructuredResultV2 {
  // No action attribute: the form posts to the URL the page was served from, whatever stage path prefix it has.
  return page(
    200,
    'Unsubscribe',
    `<h1>Unsubscribe</h1><p>Stop sending ${escapeHtml(scope)} to <strong>${escapeHtml(email)}</strong>?</p>` +
      `<form method="post"><input type="hidden" name="List-Unsubscribe" value="One-Click">` +
      `<button type="submit">Unsubscribe</button></form>`,
  );
}

export function confirmationPage(email: string, scope: string): APIGatewayProxyStructuredResultV2 {
  return page(
    200,
    'You are unsubscribed',
    `<h1>You are unsubscribed</h1><p role="status"><strong>${escapeHtml(email)}</strong> will no longer receive ${escapeHtml(scope)}.</p>`,
  );
}

export function errorPage(statusCode: number, title: string, message: string, extraHeaders?: Record<string, string>): APIGatewayProxyStructuredResultV2 {
  return page(statusCode, title, `<h1>${escapeHtml(title)}</h1><p>${escapeHtml(message)}</p>`, extraHeaders);
}
