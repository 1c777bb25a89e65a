/** Interop tier: the app against a real Kamailio (test/interop/kamailio.ts starts one per file). */
module.exports = {
  rootDir: '../..',
  roots: ['<rootDir>/test/interop'],
  testRegex: '\\.interop-spec\\.ts$',
  moduleFileExtensions: ['ts', 'js', 'json'],
  transform: {
    '^.+\\.ts$': ['ts-jest', { diagnostics: false }],
    '^.+/node_modules/sip\\.js/.+\\.js$': ['ts-jest', { diagnostics: false, tsconfig: { allowJs: true } }],
  },
  transformIgnorePatterns: ['/node_modules/(?!sip\\.js/)'],
  // Installs (as root) or asks for Kamailio and the modules the suite loads before any test runs.
  globalSetup: '<rootDir>/test/interop/interop-prerequisites.ts',
  testEnvironment: 'node',
  testTimeout: 60000,
};
