/**
 * Bundling alias for `@aws-sdk/credential-provider-node` (see custom.esbuild.alias in
 * serverless.yml). In Lambda the execution role's credentials are always in the environment
 * (AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY / AWS_SESSION_TOKEN), so the full default chain
 * (SSO, INI files, IMDS, web identity, and the STS/SSO clients they carry, ~95 KB minified) is
 * dead weight in every bundle and cold start. Local runs and the CLI are not bundled and keep
 * the real chain.
 */
import { fromEnv } from '@aws-sdk/credential-provider-env';

export const defaultProvider = (_init?: unknown) => fromEnv();
