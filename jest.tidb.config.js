// `npm run test:tidb`: the real-TiDB suite only (test/tidb), run by .ci/run as its own step.
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test/tidb'],
  testMatch: ['**/*.test.js'],
  testTimeout: 15 * 60 * 1000,
  verbose: true,
};
