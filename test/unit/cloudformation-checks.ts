/**
 * Checks over a CloudFormation template, each returning the problems it found (empty = fine),
 * so the template test can apply them to `osls package` output and
 * cloudformation-checks.test.ts can show that each one reports what it should.
 *
 * `specProblems` validates against the CloudFormation resource specification as CDK ships it
 * (`@aws-cdk/aws-service-spec`, the database CDK generates its L1 constructs from): every
 * resource type exists, every property name exists on its type (nested property types too),
 * every value has the property's type, required properties are present, enumerated strings
 * hold an allowed value, and Ref / Fn::GetAtt / Fn::Sub name resources (and attributes) that
 * exist. Scalars are read as CloudFormation reads them: a number is accepted where a string is
 * expected, a numeric string where a number is, 'true'/'false' where a boolean is. A value
 * built by an intrinsic function is not type-checked (its value is known only at deploy time).
 */
import type { SpecDatabase } from '@aws-cdk/service-spec-types';

type PropertyType = import('@aws-cdk/service-spec-types').PropertyType;
type Props = Record<string, { type: PropertyType; previousTypes?: PropertyType[]; required?: boolean }>;
interface TemplateResource {
  Type: string;
  Properties?: Record<string, unknown>;
  [key: string]: unknown;
}
export interface Template {
  Resources: Record<string, TemplateResource>;
  Outputs?: Record<string, unknown>;
  Parameters?: Record<string, unknown>;
  Conditions?: Record<string, unknown>;
}

const refId = (value: unknown): string | undefined => {
  const v = value as { Ref?: unknown; 'Fn::GetAtt'?: unknown[] } | undefined;
  return typeof v?.Ref === 'string' ? v.Ref : typeof v?.['Fn::GetAtt']?.[0] === 'string' ? (v['Fn::GetAtt'][0] as string) : undefined;
};

// ---------- SQS event source mappings ----------

/**
 * Every SQS mapping reports batch item failures and caps its concurrency on the mapping
 * (ScalingConfig.MaximumConcurrency, at least 2, Lambda's minimum); a function that also has
 * reserved concurrency has at least the mapping's maximum, or Lambda throttles the poller and
 * the throttled receives push healthy messages toward the DLQ.
 */
export function sqsMappingProblems(template: Template): string[] {
  const problems: string[] = [];
  const queues = new Set(Object.entries(template.Resources).filter(([, r]) => r.Type === 'AWS::SQS::Queue').map(([id]) => id));
  const functionIds = (name: unknown): string | undefined => refId(name) ?? (typeof name === 'string' ? name : undefined);
  for (const [id, m] of Object.entries(template.Resources)) {
    if (m.Type !== 'AWS::Lambda::EventSourceMapping') continue;
    const p = m.Properties ?? {};
    const source = refId(p.EventSourceArn);
    if (!source || !queues.has(source)) continue;
    const types = p.FunctionResponseTypes;
    if (!Array.isArray(types) || !types.includes('ReportBatchItemFailures')) problems.push(`${id}: FunctionResponseTypes lacks ReportBatchItemFailures`);
    const max = (p.ScalingConfig as { MaximumConcurrency?: unknown } | undefined)?.MaximumConcurrency;
    if (typeof max !== 'number' || !Number.isInteger(max) || max < 2) {
      problems.push(`${id}: ScalingConfig.MaximumConcurrency must be an integer >= 2 (got ${JSON.stringify(max)})`);
      continue;
    }
    const fnId = functionIds(p.FunctionName);
    const fn = fnId ? template.Resources[fnId] : undefined;
    if (!fn || fn.Type !== 'AWS::Lambda::Function') {
      problems.push(`${id}: FunctionName does not name a function of this template`);
      continue;
    }
    const reserved = fn.Properties?.ReservedConcurrentExecutions;
    if (reserved !== undefined && !(typeof reserved === 'number' && reserved >= max)) {
      problems.push(`${id}: ${fnId} has ReservedConcurrentExecutions ${String(reserved)} below the mapping's MaximumConcurrency ${max}`);
    }
  }
  return problems;
}

// ---------- data retention ----------

/** Resource types that hold data (a deleted or replaced one loses it). */
const DATA_TYPES = new Set(['AWS::DynamoDB::Table', 'AWS::DynamoDB::GlobalTable', 'AWS::S3::Bucket']);

/**
 * Every table and bucket that holds data survives a stack deletion and a replacing update.
 * `except` names resources that hold nothing of ours (the framework's deployment bucket).
 */
export function retentionProblems(template: Template, except: ReadonlySet<string> = new Set()): string[] {
  const problems: string[] = [];
  for (const [id, r] of Object.entries(template.Resources)) {
    if (!DATA_TYPES.has(r.Type) || except.has(id)) continue;
    if (r.DeletionPolicy !== 'Retain') problems.push(`${id}: DeletionPolicy is ${String(r.DeletionPolicy ?? 'Delete (default)')}, not Retain`);
    if (r.UpdateReplacePolicy !== 'Retain') problems.push(`${id}: UpdateReplacePolicy is ${String(r.UpdateReplacePolicy ?? 'Delete (default)')}, not Retain`);
  }
  return problems;
}

// ---------- the CloudFormation resource specification ----------

const RESOURCE_KEYS = new Set(['Type', 'Properties', 'DependsOn', 'DeletionPolicy', 'UpdateReplacePolicy', 'Condition', 'Metadata', 'CreationPolicy', 'UpdatePolicy']);
const POLICIES = new Set(['Delete', 'Retain', 'RetainExceptOnCreate', 'Snapshot']);
const PSEUDO = new Set(['AWS::AccountId', 'AWS::NotificationARNs', 'AWS::NoValue', 'AWS::Partition', 'AWS::Region', 'AWS::StackId', 'AWS::StackName', 'AWS::URLSuffix']);

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
/** `{ Ref }`, `{ Fn::X }` or `{ Condition }`: a value CloudFormation computes. */
const isIntrinsic = (v: unknown): boolean => {
  if (!isObject(v)) return false;
  const keys = Object.keys(v);
  return keys.length === 1 && (keys[0] === 'Ref' || keys[0] === 'Condition' || String(keys[0]).startsWith('Fn::'));
};

function describe(type: PropertyType, db: SpecDatabase): string {
  switch (type.type) {
    case 'ref':
      return db.get('typeDefinition', type.reference).name;
    case 'array':
      return `list of ${describe(type.element, db)}`;
    case 'map':
      return `map of ${describe(type.element, db)}`;
    case 'union':
      return type.types.map((t) => describe(t, db)).join(' | ');
    default:
      return type.type;
  }
}

/** Problems of `value` against `type` at `path` (empty when it conforms). */
function valueProblems(value: unknown, type: PropertyType, path: string, db: SpecDatabase): string[] {
  if (isIntrinsic(value)) return [];
  const wrong = [`${path}: expected ${describe(type, db)}, got ${Array.isArray(value) ? 'a list' : isObject(value) ? 'an object' : JSON.stringify(value)}`];
  switch (type.type) {
    case 'string': {
      if (!['string', 'number', 'boolean'].includes(typeof value)) return wrong;
      const allowed = type.allowedValues;
      return allowed && allowed.length > 0 && !allowed.includes(String(value)) ? [`${path}: ${JSON.stringify(value)} is not one of ${allowed.join(', ')}`] : [];
    }
    case 'date-time':
      return typeof value === 'string' ? [] : wrong;
    case 'integer':
      return (typeof value === 'number' && Number.isInteger(value)) || (typeof value === 'string' && /^-?\d+$/.test(value)) ? [] : wrong;
    case 'number':
      return typeof value === 'number' || (typeof value === 'string' && value.trim() !== '' && Number.isFinite(Number(value))) ? [] : wrong;
    case 'boolean':
      return typeof value === 'boolean' || value === 'true' || value === 'false' ? [] : wrong;
    case 'json':
      return isObject(value) || Array.isArray(value) || typeof value === 'string' ? [] : wrong;
    case 'null':
      return value === null ? [] : wrong;
    case 'tag':
      return isObject(value) ? propertiesProblems(value, { Key: { type: { type: 'string' }, required: true }, Value: { type: { type: 'string' }, required: true } }, path, db) : wrong;
    case 'array':
      return Array.isArray(value) ? value.flatMap((v, i) => valueProblems(v, type.element, `${path}[${i}]`, db)) : wrong;
    case 'map':
      return isObject(value) ? Object.entries(value).flatMap(([k, v]) => valueProblems(v, type.element, `${path}.${k}`, db)) : wrong;
    case 'ref': {
      if (!isObject(value)) return wrong;
      const def = db.get('typeDefinition', type.reference);
      return propertiesProblems(value, def.properties as Props, path, db);
    }
    case 'union': {
      // Conforming to any member is enough; otherwise report the member that came closest.
      const results = type.types.map((t) => valueProblems(value, t, path, db));
      if (results.some((r) => r.length === 0)) return [];
      return results.reduce((best, r) => (r.length < best.length ? r : best));
    }
    default:
      return [`${path}: unknown specification type ${JSON.stringify(type)}`];
  }
}

function propertiesProblems(value: Record<string, unknown>, props: Props, path: string, db: SpecDatabase): string[] {
  const problems: string[] = [];
  for (const [name, v] of Object.entries(value)) {
    const prop = props[name];
    if (!prop) {
      problems.push(`${path}.${name}: no such property (known: ${Object.keys(props).sort().join(', ')})`);
      continue;
    }
    // A value of a type the property had before is still accepted by CloudFormation.
    const candidates = [prop.type, ...(prop.previousTypes ?? [])];
    const results = candidates.map((t) => valueProblems(v, t, `${path}.${name}`, db));
    if (!results.some((r) => r.length === 0)) problems.push(...(results[0] ?? []));
  }
  for (const [name, prop] of Object.entries(props)) {
    if (prop.required && !(name in value)) problems.push(`${path}.${name}: required property missing`);
  }
  return problems;
}

/** Ref / Fn::GetAtt / Fn::Sub targets anywhere in `node`. */
function referenceProblems(node: unknown, path: string, template: Template, db: SpecDatabase): string[] {
  const resources = template.Resources;
  const known = (id: string) => id in resources || id in (template.Parameters ?? {}) || PSEUDO.has(id);
  const attributeProblem = (id: string, attr: string, where: string): string[] => {
    const target = resources[id];
    if (!target) return [`${where}: Fn::GetAtt names ${id}, which is not a resource`];
    const spec = db.lookup('resource', 'cloudFormationType', 'equals', target.Type);
    if (spec.length !== 1) return [];
    const attributes = Object.keys(spec.only().attributes);
    return attributes.includes(attr) ? [] : [`${where}: ${id} (${target.Type}) has no attribute ${attr} (known: ${attributes.sort().join(', ')})`];
  };
  if (Array.isArray(node)) return node.flatMap((n, i) => referenceProblems(n, `${path}[${i}]`, template, db));
  if (!isObject(node)) return [];
  const problems: string[] = [];
  for (const [key, v] of Object.entries(node)) {
    const where = `${path}.${key}`;
    if (key === 'Ref' && typeof v === 'string') {
      if (!known(v)) problems.push(`${path}: Ref names ${v}, which is neither a resource, a parameter nor a pseudo parameter`);
    } else if (key === 'Fn::GetAtt') {
      const [id, ...attr] = Array.isArray(v) ? v : typeof v === 'string' ? v.split('.') : [];
      if (typeof id === 'string' && attr.every((a) => typeof a === 'string')) problems.push(...attributeProblem(id, attr.join('.'), path));
      else problems.push(...referenceProblems(v, where, template, db));
    } else if (key === 'Fn::Sub') {
      const [text, vars] = Array.isArray(v) ? v : [v, {}];
      const local = new Set(Object.keys(isObject(vars) ? vars : {}));
      if (typeof text === 'string') {
        for (const [, expr] of text.matchAll(/\$\{([^!}][^}]*)\}/g)) {
          const [id = '', ...attr] = String(expr).split('.');
          if (local.has(String(expr)) || local.has(id)) continue;
          if (attr.length > 0) problems.push(...attributeProblem(id, attr.join('.'), path));
          else if (!known(id)) problems.push(`${path}: Fn::Sub names \${${id}}, which is neither a resource, a parameter nor a pseudo parameter`);
        }
      }
      if (isObject(vars)) problems.push(...referenceProblems(vars, where, template, db));
    } else {
      problems.push(...referenceProblems(v, where, template, db));
    }
  }
  return problems;
}

export function specProblems(template: Template, db: SpecDatabase): string[] {
  const problems: string[] = [];
  for (const [id, r] of Object.entries(template.Resources)) {
    for (const key of Object.keys(r)) if (!RESOURCE_KEYS.has(key)) problems.push(`${id}: unknown resource attribute ${key}`);
    for (const key of ['DeletionPolicy', 'UpdateReplacePolicy'] as const) {
      if (r[key] !== undefined && !POLICIES.has(String(r[key]))) problems.push(`${id}.${key}: ${String(r[key])} is not one of ${[...POLICIES].join(', ')}`);
    }
    for (const dep of [r.DependsOn ?? []].flat()) if (typeof dep !== 'string' || !(dep in template.Resources)) problems.push(`${id}.DependsOn: ${String(dep)} is not a resource`);
    if (r.Type.startsWith('Custom::') || r.Type === 'AWS::CloudFormation::CustomResource') continue;
    const spec = db.lookup('resource', 'cloudFormationType', 'equals', r.Type);
    if (spec.length !== 1) {
      problems.push(`${id}: resource type ${r.Type} is not in the CloudFormation resource specification`);
      continue;
    }
    problems.push(...propertiesProblems(r.Properties ?? {}, spec.only().properties as Props, `${id}.Properties`, db));
    problems.push(...referenceProblems(r.Properties ?? {}, `${id}.Properties`, template, db));
  }
  problems.push(...referenceProblems(template.Outputs ?? {}, 'Outputs', template, db));
  return problems;
}
