/**
 * The only reader of process.env. Each function declares the variables it needs with a zod
 * shape; `readConfig` validates them once (cold start) and names every missing or invalid
 * variable in its error, so a misconfigured deploy fails loudly instead of half-working.
 */
// zod/mini: the tree-shakeable build (~25 KB in a bundle instead of ~450 KB for classic zod).
import * as z from 'zod/mini';
import { DEFAULT_POLICY, type PolicyConfig } from './domain/suppression-policy.ts';

export class ConfigError extends Error {
  override name = 'ConfigError';
}

export function readConfig<S extends z.core.$ZodLooseShape>(shape: S, env: NodeJS.ProcessEnv = process.env): z.infer<z.ZodMiniObject<S>> {
  const result = z.safeParse(z.object(shape), env);
  if (!result.success) {
    const problems = result.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ');
    throw new ConfigError(`invalid configuration: ${problems}`);
  }
  return result.data;
}

/** A positive integer read from an env var, with a default. */
export const intVar = (fallback: number) => z._default(z.coerce.number().check(z.int(), z.positive()), fallback);

/** Settings every AWS client shares; endpoints come from the SDK's own AWS_ENDPOINT_URL_* variables. */
/** A required, non-empty string variable. */
export const requiredVar = () => z.string().check(z.minLength(1));
/** An optional string variable. */
export const optionalVar = () => z.optional(z.string());

export function awsClientSettings(env: NodeJS.ProcessEnv = process.env): { region?: string; forcePathStyle: boolean } {
  const region = env.AWS_REGION ?? env.AWS_DEFAULT_REGION;
  return { ...(region ? { region } : {}), forcePathStyle: env.MAILBRIDGE_S3_FORCE_PATH_STYLE === 'true' };
}

/**
 * Policy knobs shared by the SES and Mailtrap pipelines, the sync and the API. Their defaults
 * are the policy's own (DEFAULT_POLICY), stated once; serverless.yml does not repeat them.
 */
export const policyShape = {
  SOFT_BOUNCE_THRESHOLD: intVar(DEFAULT_POLICY.softBounceThreshold),
  SOFT_BOUNCE_WINDOW_DAYS: intVar(DEFAULT_POLICY.softBounceWindowDays),
};

export function policyFromEnv(env: NodeJS.ProcessEnv = process.env): PolicyConfig {
  const c = readConfig(policyShape, env);
  return { ...DEFAULT_POLICY, softBounceThreshold: c.SOFT_BOUNCE_THRESHOLD, softBounceWindowDays: c.SOFT_BOUNCE_WINDOW_DAYS };
}
