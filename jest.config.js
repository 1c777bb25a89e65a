/** Unit and medium tiers: *.spec.ts beside the code (also beside the test helpers in test/utils). */
module.exports = {
  rootDir: '.',
  roots: ['<rootDir>/src', '<rootDir>/migrations', '<rootDir>/test/utils'],
  testRegex: '\\.spec\\.ts$',
  moduleFileExtensions: ['ts', 'js', 'json'],
  transform: { '^.+\\.ts$': ['ts-jest', { diagnostics: false }] },
  testEnvironment: 'node',
  testTimeout: 20000,
};
