/**
 * An API Gateway HTTP API (payload format 2.0) in front of the functions that declare
 * `httpApi` events. Bodies reach the function as API Gateway passes them: text types as
 * strings, anything else base64 with `isBase64Encoded`. Request bodies over API Gateway's
 * 10 MB payload limit get 413 here as they would there.
 */
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';

const API_GATEWAY_PAYLOAD_LIMIT = 10 * 1024 * 1024;

export interface Route {
  method: string;
  path: string;
  functionName: string;
  invoke: (event: APIGatewayProxyEventV2) => Promise<unknown>;
}

/** Routes of the local runner itself (under `/__local/`), not functions. */
export interface LocalRoute {
  method: string;
  pattern: RegExp;
  handle: (match: RegExpExecArray) => Promise<{ statusCode: number; body: unknown }>;
}

interface CompiledRoute extends Route {
  pattern: RegExp;
  params: string[];
}

function compile(route: Route): CompiledRoute {
  const params: string[] = [];
  const source = route.path
    .split('/')
    .map((segment) => {
      const m = /^\{([^}+]+)(\+)?\}$/.exec(segment);
      if (!m) return segment.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
      params.push(m[1] as string);
      return m[2] ? '(.+)' : '([^/]+)';
    })
    .join('/');
  return { ...route, pattern: new RegExp(`^${source}$`), params };
}

const TEXT_TYPES = /^(text\/|application\/(json|x-ndjson|jsonl|x-www-form-urlencoded|xml|.*\+json|.*\+xml))/i;

function toEvent(req: IncomingMessage, body: Buffer, route: CompiledRoute, match: RegExpExecArray, url: URL): APIGatewayProxyEventV2 {
  const headers: Record<string, string> = {};
  for (const [k, v] of Object.entries(req.headers)) if (v !== undefined) headers[k.toLowerCase()] = Array.isArray(v) ? v.join(',') : v;
  const isText = TEXT_TYPES.test(headers['content-type'] ?? '');
  const pathParameters = Object.fromEntries(route.params.map((p, i) => [p, decodeURIComponent(match[i + 1] ?? '')]));
  const query = Object.fromEntries(url.searchParams.entries());
  const now = new Date();
  return {
    version: '2.0',
    routeKey: `${route.method} ${route.path}`,
    rawPath: url.pathname,
    rawQueryString: url.search.slice(1),
    headers,
    ...(Object.keys(query).length > 0 ? { queryStringParameters: query } : {}),
    ...(route.params.length > 0 ? { pathParameters } : {}),
    requestContext: {
      accountId: '000000000000',
      apiId: 'local',
      domainName: headers.host ?? 'localhost',
      domainPrefix: 'local',
      http: {
        method: route.method,
        path: url.pathname,
        protocol: `HTTP/${req.httpVersion}`,
        sourceIp: req.socket.remoteAddress ?? '127.0.0.1',
        userAgent: headers['user-agent'] ?? '',
      },
      requestId: randomUUID(),
      routeKey: `${route.method} ${route.path}`,
      stage: '$default',
      time: now.toISOString(),
      timeEpoch: now.getTime(),
    },
    ...(body.length > 0 ? { body: isText ? body.toString('utf8') : body.toString('base64') } : {}),
    isBase64Encoded: body.length > 0 && !isText,
  };
}

function send(res: ServerResponse, result: unknown): void {
  // Payload format 2.0: a plain value is a 200 JSON response.
  const structured: APIGatewayProxyStructuredResultV2 =
    typeof result === 'object' && result !== null && 'statusCode' in result
      ? (result as APIGatewayProxyStructuredResultV2)
      : { statusCode: 200, headers: { 'content-type': 'application/json' }, body: JSON.stringify(result ?? null) };
  const body = structured.body === undefined ? '' : structured.isBase64Encoded ? Buffer.from(structured.body, 'base64') : structured.body;
  res.writeHead(structured.statusCode ?? 200, { ...(structured.headers as Record<string, string> | undefined) });
  res.end(body);
}

export async function startHttpApi(
  port: number,
  routes: Route[],
  onError: (error: unknown) => void,
  localRoutes: LocalRoute[] = [],
): Promise<{ server: Server; url: string }> {
  const compiled = routes.map(compile);
  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    if (url.pathname === '/__local/health') {
      res.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}');
      return;
    }
    const method = (req.method ?? 'GET').toUpperCase();
    for (const local of localRoutes) {
      const m = local.method === method ? local.pattern.exec(url.pathname) : null;
      if (!m) continue;
      req.resume();
      local.handle(m).then(
        (out) => res.writeHead(out.statusCode, { 'content-type': 'application/json' }).end(JSON.stringify(out.body)),
        (error: unknown) => {
          onError(error);
          res.writeHead(500, { 'content-type': 'application/json' }).end(JSON.stringify({ message: error instanceof Error ? `${error.name}: ${error.message}` : String(error) }));
        },
      );
      return;
    }
    let match: RegExpExecArray | null = null;
    const route = compiled.find((r) => (r.method === method || r.method === '*' || r.method === 'ANY') && (match = r.pattern.exec(url.pathname)));
    if (!route || !match) {
      res.writeHead(404, { 'content-type': 'application/json' }).end('{"message":"Not Found"}');
      return;
    }
    const found = match;
    const chunks: Buffer[] = [];
    let size = 0;
    let tooLarge = false;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > API_GATEWAY_PAYLOAD_LIMIT) tooLarge = true;
      else chunks.push(chunk);
    });
    req.on('end', () => {
      if (tooLarge) {
        res.writeHead(413, { 'content-type': 'application/json' }).end('{"message":"Request Entity Too Large"}');
        return;
      }
      route
        .invoke(toEvent(req, Buffer.concat(chunks), route, found, url))
        .then((result) => send(res, result))
        .catch((error: unknown) => {
          onError(error);
          // What API Gateway answers when the integration fails.
          res.writeHead(500, { 'content-type': 'application/json' }).end('{"message":"Internal Server Error"}');
        });
    });
  });
  // Longer than any client's idle keep-alive (undici 4 s), so a client never reuses a socket the
  // server is closing at that moment ("other side closed"; frequent on a loaded machine).
  server.keepAliveTimeout = 65_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve());
  });
  const address = server.address();
  const actual = typeof address === 'object' && address ? address.port : port;
  return { server, url: `http://127.0.0.1:${actual}` };
}
