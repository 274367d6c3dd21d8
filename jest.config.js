// Jest runs unit tests (core/, pure modules) and integration tests (test/, real services) in one suite.
// Integration suites share one Temporal dev server started in globalSetup; one test file runs at a time (scripts/test.mjs).
/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/core', '<rootDir>/db', '<rootDir>/server', '<rootDir>/activities', '<rootDir>/workflows', '<rootDir>/worker', '<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  transform: { '^.+\\.ts$': ['ts-jest', { tsconfig: 'tsconfig.json', isolatedModules: true, diagnostics: false }] },
  moduleFileExtensions: ['ts', 'js', 'json'],
  collectCoverageFrom: ['core/**/*.ts', 'db/**/*.ts', 'server/**/*.ts', 'activities/**/*.ts', 'workflows/**/*.ts', 'worker/**/*.ts', '!**/*.test.ts', '!**/main.ts'],
  coverageDirectory: 'coverage',
  testTimeout: 60_000,
  globalSetup: '<rootDir>/test/global-setup.ts',
  globalTeardown: '<rootDir>/test/global-teardown.ts',
};
