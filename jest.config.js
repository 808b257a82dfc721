// One jest run covers pure units, the compiled .wasm under the JS proxy-wasm host, the
// manifest tool, and the end-to-end runs through a real Envoy.
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts', '**/*.test.js'],
  // test/tidb is the real-TiDB suite: `npm run test:tidb` (jest.tidb.config.js), and test/kube the
  // real-API-server suite: `npm run test:kube` (jest.kube.config.js); neither is `npm test`.
  testPathIgnorePatterns: ['/node_modules/', '<rootDir>/test/tidb/', '<rootDir>/test/kube/'],
  transform: { '^.+\\.ts$': ['ts-jest', { tsconfig: '<rootDir>/test/tsconfig.json' }] },
  testTimeout: 120000,
  verbose: false,
};
