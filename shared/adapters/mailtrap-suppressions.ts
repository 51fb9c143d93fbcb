/**
 * Mailtrap's suppressions API over fetch (https://api-docs.mailtrap.io, OpenAPI
 * specs/email-sending.openapi.yml). Not the official SDK: it has no cursor (`last_id`), no
 * Retry-After and no timeout handling, all of which the sync needs.
 *
 * Errors become `ProviderCallError`s: 429 (with Retry-After when sent) is throttling; 5xx,
 * timeouts and network errors are retryable; 401/403 stop the run (a wrong token is not the
 * address's fault); 422 and other 4xx are not retryable.
 */
import { ProviderCallError, type MailtrapRecord, type MailtrapSuppressionApi } from '../ports/provider-suppressions.ts';
import { parseJson } from '../schemas/json.ts';
import { domainKey } from '../domain/email-address.ts';

export interface MailtrapApiConfig {
  baseUrl: string;
  token: () => Promise<string | undefined>;
  timeoutMs?: number;
  fetch?: typeof fetch;
}

function retryAfterMs(value: string | null): number | undefined {
  if (!value) return undefined;
  const seconds = Number(value);
  if (Number.isFinite(seconds)) return Math.max(0, seconds * 1000);
  const at = Date.parse(value);
  return Number.isNaN(at) ? undefined : Math.max(0, at - Date.now());
}

export class MailtrapSuppressions implements MailtrapSuppressionApi {
  private domainIds?: Promise<Map<string, number>> | undefined;
  private readonly fetch: typeof fetch;

  constructor(private readonly config: MailtrapApiConfig) {
    this.fetch = config.fetch ?? fetch;
  }

  private async request(method: string, path: string, body?: unknown): Promise<{ status: number; json: unknown }> {
    const token = await this.config.token();
    if (!token) throw new ProviderCallError('Mailtrap API token is not configured', { retryable: true, stopRun: true });
    let response: Response;
    try {
      response = await this.fetch(`${this.config.baseUrl.replace(/\/+$/, '')}${path}`, {
        method,
        headers: { authorization: `Bearer ${token}`, accept: 'application/json', ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
        ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
        signal: AbortSignal.timeout(this.config.timeoutMs ?? 10_000),
      });
    } catch (error) {
      throw new ProviderCallError(`Mailtrap ${method} ${path.split('?')[0]}: ${error instanceof Error ? `${error.name}: ${error.message}` : String(error)}`, { retryable: true });
    }
    const text = await response.text();
    let json: unknown;
    try {
      json = text ? parseJson(text, 'response') : undefined;
    } catch {
      json = undefined;
    }
    const status = response.status;
    if (status < 400 || (status === 404 && method === 'DELETE')) return { status, json };
    const message = `Mailtrap ${method} ${path.split('?')[0]} answered ${status}`;
    if (status === 429) throw new ProviderCallError(message, { throttled: true, retryable: true, status, retryAfterMs: retryAfterMs(response.headers.get('retry-after')) });
    if (status === 401 || status === 403) throw new ProviderCallError(message, { retryable: true, stopRun: true, status });
    if (status >= 500 || status === 408) throw new ProviderCallError(message, { retryable: true, status });
    throw new ProviderCallError(`${message}: ${text.slice(0, 200)}`, { retryable: false, status });
  }

  async domains(): Promise<Map<string, number>> {
    // The look-up in flight is shared: concurrent addresses of a cold start make one request, not one each.
    this.domainIds ??= this.fetchDomains().catch((error: unknown) => {
      this.domainIds = undefined;
      throw error;
    });
    return this.domainIds;
  }

  private async fetchDomains(): Promise<Map<string, number>> {
    const { json } = await this.request('GET', '/api/domains');
    const list = (Array.isArray(json) ? json : ((json as { data?: unknown[] } | undefined)?.data ?? [])) as Array<{ id?: unknown; domain_name?: unknown }>;
    return new Map(list.filter((d) => typeof d.id === 'number' && typeof d.domain_name === 'string').map((d) => [domainKey(String(d.domain_name)), d.id as number]));
  }

  async create(input: { email: string; domainId: number; stream: string; type: string }): Promise<void> {
    await this.request('POST', '/api/suppressions', { email: input.email, domain_id: input.domainId, sending_stream: input.stream, type: input.type });
  }

  async findByEmail(email: string): Promise<MailtrapRecord[]> {
    const { json } = await this.request('GET', `/api/suppressions?email=${encodeURIComponent(email)}`);
    return toRecords(json);
  }

  async delete(id: string): Promise<void> {
    await this.request('DELETE', `/api/suppressions/${encodeURIComponent(id)}`);
  }

  async page(lastId: string | undefined): Promise<MailtrapRecord[]> {
    const { json } = await this.request('GET', `/api/suppressions${lastId ? `?last_id=${encodeURIComponent(lastId)}` : ''}`);
    return toRecords(json);
  }
}

function toRecords(json: unknown): MailtrapRecord[] {
  const list = Array.isArray(json) ? json : ((json as { data?: unknown[] } | undefined)?.data ?? []);
  return (list as Array<Record<string, unknown>>)
    .filter((r) => typeof r.id === 'string' && typeof r.email === 'string')
    .map((r) => ({
      id: r.id as string,
      email: r.email as string,
      type: String(r.type ?? ''),
      sending_stream: typeof r.sending_stream === 'string' ? r.sending_stream : null,
      domain_name: typeof r.domain_name === 'string' ? r.domain_name : null,
      created_at: typeof r.created_at === 'string' ? r.created_at : null,
    }));
}
