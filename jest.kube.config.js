// `npm run test:kube`: the manifest tool against a real kube-apiserver (test/kube), the Istio
// tooling over every generated variant, and the OCI registry round trip. The binaries come from
// kubestack/build.sh (the script builds them first); a missing one fails loudly.
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test/kube'],
  testMatch: ['**/*.test.ts'],
  transform: { '^.+\\.ts$': ['ts-jest', { tsconfig: '<rootDir>/test/tsconfig.json' }] },
  globalSetup: '<rootDir>/test/kube/global-setup.js',
  globalTeardown: '<rootDir>/test/kube/global-teardown.js',
  testTimeout: 180000,
  verbose: true,
};
