/**
 * The only reader of process.env. Each function declares the variables it needs with a zod
 * shape; `readConfig` validates them once (cold start) and names every missing or invalid
 * variable in its error, so a misconfigured deploy fails loudly instead of half-working.
 */
import { z } from 'zod';

export class ConfigError extends Error {
  override name = 'ConfigError';
}

export function readConfig<S extends z.ZodRawShape>(shape: S, env: NodeJS.ProcessEnv = process.env): z.infer<z.ZodObject<S>> {
  const result = z.object(shape).safeParse(env);
  if (!result.success) {
    const problems = result.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ');
    throw new ConfigError(`invalid configuration: ${problems}`);
  }
  return result.data;
}

/** A positive integer read from an env var, with a default. */
export const intVar = (fallback: number) => z.coerce.number().int().positive().default(fallback);

/** Settings every AWS client shares; endpoints come from the SDK's own AWS_ENDPOINT_URL_* variables. */
export function awsClientSettings(env: NodeJS.ProcessEnv = process.env): { region?: string; forcePathStyle: boolean } {
  const region = env.AWS_REGION ?? env.AWS_DEFAULT_REGION;
  return { ...(region ? { region } : {}), forcePathStyle: env.MAILBRIDGE_S3_FORCE_PATH_STYLE === 'true' };
}

/** Policy knobs shared by the SES and Mailtrap pipelines. */
export const policyShape = {
  SOFT_BOUNCE_THRESHOLD: intVar(3),
  SOFT_BOUNCE_WINDOW_DAYS: intVar(7),
};
