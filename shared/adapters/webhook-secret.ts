/**
 * The Mailtrap signing secret. Deployed: an SSM SecureString parameter, fetched through
 * Powertools Parameters and cached for 5 minutes (not fetched per request). Local stack: the
 * MAILTRAP_WEBHOOK_SECRET variable. Neither configured -> undefined, and the webhook rejects
 * every request.
 */
import { getParameter } from '@aws-lambda-powertools/parameters/ssm';

export type SecretSource = () => Promise<string | undefined>;

export function webhookSecretSource(config: { secret?: string | undefined; parameterName?: string | undefined }): SecretSource {
  if (config.secret) {
    const secret = config.secret;
    return async () => secret;
  }
  const name = config.parameterName;
  if (!name) return async () => undefined;
  return async () => (await getParameter(name, { decrypt: true, maxAge: 300 })) ?? undefined;
}
