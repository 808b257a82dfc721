'use strict';
// The real protocol schemas the key-field tables are checked against (test/realschema). They
// are a dependency, not a copy: scripts/fetch-schemas.js downloads these Go modules at these
// exact versions from the Go module proxy into the Go module cache (outside the repository),
// verifies the go.sum hashes below, and records where they are. Nothing fetched is committed.
//
// Which versions and why:
//   kvproto b6a98c6bf02d (2025-02)  PINNED: what the tidb-server we test against is built with
//                                   (github.com/pingcap/tidb v1.1.0-beta.0.20250415053443-ea52376d91c8,
//                                   go.mod). It defines what TiDB sends and understands.
//   kvproto 881fcbf5bc41 (2024-02)  the pd-server we test against (github.com/tikv/pd
//                                   v1.1.0-beta.0.20240407022249-7179657d129b): what PD answers.
//   kvproto 1907922fbd18 (2025-11)  the unistore store server we test against, and the newest:
//                                   fields a newer TiKV/PD may already send (routerpb, GC states,
//                                   keyspace identities), which the filter must not pass raw.
//   etcd api v3.5.12                 TiDB's etcd client (tidb go.mod: go.etcd.io/etcd/api/v3).
//   etcd 950cd5fbe6ca (3.4 fork)     the etcd server embedded in that pd-server (pd go.mod:
//                                   go.etcd.io/etcd v0.5.0-alpha.5.0.20240320135013-950cd5fbe6ca).
// The completeness check runs against every one of them: a field of any version that reaches
// the filter must be classified (schema/fields/).

/** Go modules: name (used by the loader), module path, version, go.sum hash, and where the .proto files are. */
const MODULES = [
  {
    name: 'kvproto', pinned: true, module: 'github.com/pingcap/kvproto',
    version: 'v0.0.0-20250224053625-b6a98c6bf02d', sum: 'h1:52qhTQG8G8V/pHo/w7F4d2Tw98KMk2C+gAe3U8SWRAg=',
    use: 'tidb-server (TiDB 8.5-era)',
  },
  {
    name: 'kvproto-pd', module: 'github.com/pingcap/kvproto',
    version: 'v0.0.0-20240222024302-881fcbf5bc41', sum: 'h1:7tDr4J6gGQ3OqBq+lZQkI9wlJIIXFitHjNK8ymU/SEo=',
    use: 'pd-server',
  },
  {
    name: 'kvproto-next', module: 'github.com/pingcap/kvproto',
    version: 'v0.0.0-20251109100001-1907922fbd18', sum: 'h1:ZgebBNwgma8INCfexAX8dfqZo7TWQrvMXHGABEmAY2Y=',
    use: 'unistore store server; the newest kvproto',
  },
  {
    name: 'etcd', pinned: true, module: 'go.etcd.io/etcd/api/v3',
    version: 'v3.5.12', sum: 'h1:W4sw5ZoU2Juc9gBWuLk5U6fHfNVyY1WC5g9uiXZio/c=',
    use: "TiDB's etcd client",
  },
  {
    name: 'etcd-pd', module: 'go.etcd.io/etcd',
    version: 'v0.5.0-alpha.5.0.20240320135013-950cd5fbe6ca', sum: 'h1:LCc0GAhfJ+qDqnUbE7ybQ0mTz1dNRn2iiM6e183p/5E=',
    use: "pd-server's embedded etcd (3.4 fork)",
  },
];

/**
 * Schema sets the check runs over: a kvproto module and an etcd module, loaded into one
 * protobufjs Root. The pinned set comes first.
 */
const SETS = [
  { name: 'tidb', kvproto: 'kvproto', etcd: 'etcd' },
  { name: 'pd', kvproto: 'kvproto-pd', etcd: 'etcd-pd' },
  { name: 'next', kvproto: 'kvproto-next', etcd: 'etcd' },
];

module.exports = { MODULES, SETS };
