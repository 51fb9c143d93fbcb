import { defineConfig } from 'vitest/config';

// Two projects: `unit` needs nothing running; `integration` shares one local stack
// (fauxqs + DynamoDB Local + the function runner) started once by test/integration/global-setup.ts.
// ADDRESS_REF_KEY: the addressRef key for code the tests call directly (functions refuse to
// start without one); the local stack generates its own for the functions it runs.
const env = { ADDRESS_REF_KEY: 'vitest-address-ref-key-not-a-secret-0123456789' };

export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: 'unit',
          include: ['test/unit/**/*.test.ts'],
          testTimeout: 30_000,
          env,
        },
      },
      {
        test: {
          name: 'integration',
          include: ['test/integration/**/*.test.ts'],
          globalSetup: ['test/integration/global-setup.ts'],
          testTimeout: 60_000,
          env,
          hookTimeout: 120_000,
          fileParallelism: false,
        },
      },
    ],
  },
});
