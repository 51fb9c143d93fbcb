/**
 * Bundle budget per function: the most bytes its minified ESM bundle (the `.mjs` serverless
 * packages, before zipping) may have. Each is the size measured with `npm run bench:bundles`
 * plus about 10 % headroom, rounded up to 10 KiB: a change that grows a bundle past it is a
 * choice to make (and to write down here), not an accident. Checked on the zips `osls package`
 * builds by test/unit/serverless-template.test.ts.
 */
export const KIB = 1024;

export const BUNDLE_BUDGETS_KIB: Readonly<Record<string, number>> = {
  // DynamoDB client + Powertools: the feedback consumers and the stream handler.
  'ses-feedback': 350,
  'mailtrap-events': 340,
  'suppression-changes': 310,
  'suppressions-api': 310,
  // DynamoDB only (a Scan of the sync table and its control items).
  'migration-status': 310,
  // + the SSM client Powertools Parameters needs for the token secrets.
  unsubscribe: 410,
  'mailtrap-sync': 440,
  // + S3 (quarantine) and SSM (signing secret); no DynamoDB.
  'mailtrap-webhook': 550,
  // + SESv2 and SSM (Mailtrap token).
  'suppression-reconcile': 510,
  // + SESv2 and S3 (import-job CSVs).
  'ses-sync': 610,
  // pdf.js (unpdf, ~1.5 MiB) for Factur-X and plain PDF invoices, and mailparser's charset
  // tables (iconv-lite, encoding-japanese): what reading any inbound mail takes.
  'inbound-parse': 3760,
};
