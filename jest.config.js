// Nest 12 and jose 6 are ESM-only, so Jest runs in its native ESM mode
// (node --experimental-vm-modules) and ts-jest emits ESM.
const aliases = ['domain', 'contracts', 'application', 'event-store', 'messaging', 'read-models', 'runtime', 'tokens', 'token-validator'];
const common = {
  testEnvironment: 'node',
  extensionsToTreatAsEsm: ['.ts'],
  moduleNameMapper: {
    ...Object.fromEntries(aliases.map((a) => [`^@authz/${a}$`, `<rootDir>/libs/${a}/src`])),
    // libs/token-validator is a package of its own, built by plain tsc: its relative imports end in .js
    '^(\\.{1,2}/.*)\\.js$': '$1',
  },
  transform: { '^.+\\.ts$': ['ts-jest', { useESM: true, tsconfig: '<rootDir>/tsconfig.json' }] },
};
export default {
  // Integration and e2e tests wait for real servers; unit tests finish in milliseconds anyway.
  testTimeout: 300_000,
  projects: [
    { ...common, displayName: 'unit', testMatch: ['<rootDir>/libs/**/*.spec.ts', '<rootDir>/apps/**/*.spec.ts'] },
    { ...common, displayName: 'integration', testMatch: ['<rootDir>/test/integration/**/*.spec.ts'] },
    { ...common, displayName: 'e2e', testMatch: ['<rootDir>/test/e2e/**/*.spec.ts'] },
  ],
};
