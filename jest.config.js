/** Unit and medium tiers: *.spec.ts beside the code. */
module.exports = {
  rootDir: '.',
  roots: ['<rootDir>/src', '<rootDir>/migrations'],
  testRegex: '\\.spec\\.ts$',
  moduleFileExtensions: ['ts', 'js', 'json'],
  transform: { '^.+\\.ts$': ['ts-jest', { diagnostics: false }] },
  testEnvironment: 'node',
  testTimeout: 20000,
};
