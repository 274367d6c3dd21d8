// Where integration tests find the Temporal dev server that test/global-setup.ts started for the run.

export const TEST_TEMPORAL_ADDRESS_ENV = 'TESSERA_TEST_TEMPORAL_ADDRESS';
/** The dev server always has this namespace; the Tessera search attributes are registered in it. */
export const TEST_TEMPORAL_NAMESPACE = 'default';

/** "127.0.0.1:<port>" of the shared dev server. */
export function testTemporalAddress(): string {
  const address = process.env[TEST_TEMPORAL_ADDRESS_ENV];
  if (!address) {
    throw new Error(
      `${TEST_TEMPORAL_ADDRESS_ENV} is not set: the Temporal dev server is started by test/global-setup.ts. ` +
        'Run the tests with `npm test` or `npx jest` from the repository root (jest.config.js wires the global setup).',
    );
  }
  return address;
}
