/**
 * Reads serverless.yml the way the local runner needs it: Serverless variables resolved,
 * CloudFormation intrinsics left in place (they are resolved against the emulated resources
 * in resources.ts). Only the variable sources serverless.yml is allowed to use are supported,
 * and an unknown one is an error rather than a silent empty string.
 */
import { readFileSync } from 'node:fs';
import { parse } from 'yaml';

export class ServerlessConfigError extends Error {
  override name = 'ServerlessConfigError';
}

interface HttpApiEvent {
  httpApi: { method: string; path: string } | string;
}
export interface SqsEvent {
  sqs: { arn: unknown; batchSize?: number; maximumBatchingWindow?: number; maximumConcurrency?: number; functionResponseType?: string };
}
interface StreamEvent {
  stream: {
    type: 'dynamodb';
    arn: unknown;
    batchSize?: number;
    startingPosition?: string;
    maximumRetryAttempts?: number;
    bisectBatchOnFunctionError?: boolean;
    functionResponseType?: string;
    destinations?: { onFailure?: unknown };
  };
}
interface ScheduleEvent {
  schedule: { rate: string | string[]; enabled?: boolean } | string;
}
type FunctionEvent = HttpApiEvent | SqsEvent | StreamEvent | ScheduleEvent | Record<string, unknown>;

export interface FunctionConfig {
  handler: string;
  timeout?: number;
  memorySize?: number;
  reservedConcurrency?: number;
  environment?: Record<string, unknown>;
  events?: FunctionEvent[];
}

export interface CfnResource {
  Type: string;
  Properties?: Record<string, unknown>;
}

export interface ServiceConfig {
  service: string;
  stage: string;
  region: string;
  provider: { timeout?: number; environment?: Record<string, unknown> };
  functions: Record<string, FunctionConfig>;
  resources: Record<string, CfnResource>;
}

const VARIABLE = /\$\{([^${}]+)\}/;

function lookup(root: unknown, path: string): unknown {
  let node: unknown = root;
  for (const part of path.split('.')) {
    if (typeof node !== 'object' || node === null || !(part in node)) return undefined;
    node = (node as Record<string, unknown>)[part];
  }
  return node;
}

function unquote(value: string): string {
  const v = value.trim();
  return (v.startsWith("'") && v.endsWith("'")) || (v.startsWith('"') && v.endsWith('"')) ? v.slice(1, -1) : v;
}

export function loadServiceConfig(
  file: string,
  options: { stage?: string; region?: string; env?: NodeJS.ProcessEnv } = {},
): ServiceConfig {
  const raw = parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
  const env = options.env ?? process.env;
  const stageDefault = (raw.provider as Record<string, unknown> | undefined)?.stage;

  const resolveOne = (expr: string, depth: number): unknown => {
    const [head = '', ...rest] = expr.split(',');
    const fallback = rest.length > 0 ? unquote(rest.join(',')) : undefined;
    const [source, key = ''] = head.trim().split(/:(.*)/s);
    let value: unknown;
    switch (source) {
      case 'self':
        value = resolve(lookup(raw, key), depth + 1);
        break;
      case 'sls':
        if (key !== 'stage') throw new ServerlessConfigError(`unsupported variable \${sls:${key}}`);
        value = stage;
        break;
      case 'opt':
        value = key === 'stage' ? options.stage : key === 'region' ? options.region : undefined;
        break;
      case 'env':
        value = env[key];
        break;
      case 'aws':
        value = key === 'region' ? region : key === 'accountId' ? '000000000000' : undefined;
        break;
      default:
        throw new ServerlessConfigError(`unsupported variable source in \${${expr}}`);
    }
    if (value === undefined || value === null) {
      if (fallback === undefined) throw new ServerlessConfigError(`variable \${${expr}} has no value`);
      return fallback;
    }
    return value;
  };

  const resolve = (node: unknown, depth = 0): unknown => {
    if (depth > 20) throw new ServerlessConfigError('variable nesting too deep');
    if (typeof node === 'string') {
      // CloudFormation's own ${AWS::Region} / ${Resource.Attr} (inside Fn::Sub) are not
      // Serverless variables: leave them for resources.ts, as the framework does.
      const isServerlessVariable = (expr: string) => /^\s*[a-z][a-zA-Z0-9]*:/.test(expr);
      const whole = VARIABLE.exec(node);
      if (whole && whole[0] === node && isServerlessVariable(whole[1] ?? '')) {
        const value = resolveOne(whole[1] ?? '', depth);
        // A string that is exactly one variable takes the variable's type (object, number).
        return typeof value === 'string' ? resolve(value, depth + 1) : value;
      }
      const replaced = node.replace(new RegExp(VARIABLE.source, 'g'), (match, expr: string) =>
        isServerlessVariable(expr) ? String(resolveOne(expr, depth)) : match,
      );
      return replaced === node ? node : resolve(replaced, depth + 1);
    }
    if (Array.isArray(node)) return node.map((n) => resolve(n, depth));
    if (typeof node === 'object' && node !== null) {
      return Object.fromEntries(Object.entries(node).map(([k, v]) => [k, resolve(v, depth)]));
    }
    return node;
  };

  // Stage and region first: other variables depend on them.
  const stage = String(options.stage ?? (typeof stageDefault === 'string' ? stageDefault.replace(/\$\{opt:stage,\s*'([^']+)'\}/, '$1') : 'dev'));
  const region = options.region ?? 'us-east-1';

  const provider = resolve(raw.provider) as ServiceConfig['provider'];
  const functions = resolve(raw.functions ?? {}) as Record<string, FunctionConfig>;
  const resources = (resolve(lookup(raw, 'resources.Resources') ?? {}) ?? {}) as Record<string, CfnResource>;
  return { service: String(raw.service), stage, region, provider, functions, resources };
}
