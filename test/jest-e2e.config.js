/** End-to-end tier: the whole app over real sockets and a real database. */
module.exports = {
  rootDir: '..',
  roots: ['<rootDir>/test'],
  testRegex: '\\.e2e-spec\\.ts$',
  moduleFileExtensions: ['ts', 'js', 'json'],
  transform: {
    '^.+\\.ts$': ['ts-jest', { diagnostics: false }],
    // sip.js (the browser SIP library the WS tests drive) ships only ES modules: compile it to CommonJS.
    '^.+/node_modules/sip\\.js/.+\\.js$': ['ts-jest', { diagnostics: false, tsconfig: { allowJs: true } }],
  },
  transformIgnorePatterns: ['/node_modules/(?!sip\\.js/)'],
  // Installs (as root) or asks for the system tools the tests drive, such as sipp, before any test runs.
  globalSetup: '<rootDir>/test/utils/prerequisites.ts',
  testEnvironment: 'node',
  testTimeout: 60000,
};
