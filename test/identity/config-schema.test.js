// One table of configurations, fed to both validators that must agree:
//   - ajv with schema/plugin-config.schema.json (what the manifest tool checks), and
//   - the filter's own parser, assembly/config/config.ts, through dist/tidb-mesh-core.wasm configure().
// A case marked parserOnly is a rule JSON Schema cannot express (uniqueness across array items,
// prefix overlap, duplicate JSON members): the schema documents it, ajv accepts, the filter refuses.
'use strict';

const fs = require('fs');
const path = require('path');
const Ajv = require('ajv');
const { loadCore } = require('./core');

const ROOT = path.join(__dirname, '..', '..');
const schema = JSON.parse(fs.readFileSync(path.join(ROOT, 'schema', 'plugin-config.schema.json'), 'utf8'));
const validate = new Ajv({ allErrors: true, strict: false }).compile(schema);
const core = loadCore();

const P = (sa) => `spiffe://cluster.local/ns/tidb/sa/${sa}`;
const out = (tenants, extra = {}) => ({ version: 1, direction: 'outbound', mode: 'api-v2', tenants, unknownCaller: 'deny', ...extra });
const inb = (tenants, passthrough, extra = {}) => ({ version: 1, direction: 'inbound', mode: 'api-v2', tenants, passthrough, unknownCaller: 'deny', ...extra });
const T = (name, keyspaceId, match) => ({ name, keyspaceId, match });
const LBL = (instance) => ({ namespace: 'tidb', labels: { 'app.kubernetes.io/instance': instance } });
const PR = (...sas) => ({ principals: sas.map(P) });
const okOut = [T('cluster1', 1, LBL('cluster1')), T('cluster2', 2, LBL('cluster2'))];
const okIn = [T('cluster1', 1, PR('tidb-cluster1')), T('cluster2', 2, PR('tidb-cluster2'))];
const storage = [{ name: 'basic-storage', match: PR('pd', 'tikv') }];

// [description, config, valid, {parserOnly, error}] — error: a substring the filter's message must contain.
const CASES = [
  // ---- valid
  ['example-config.json', JSON.parse(fs.readFileSync(path.join(ROOT, 'schema', 'example-config.json'), 'utf8')), true],
  ['minimal: tenants only (outbound, api-v2 defaults)', { tenants: [T('a', 1, { namespace: 'x' })] }, true],
  ['empty tenant table (every caller denied)', { tenants: [] }, true],
  ['outbound by labels, namespace and serviceAccount', out([T('c1', 1, { namespace: 'tidb', labels: { a: 'b', 'app.kubernetes.io/instance': 'c1' }, serviceAccount: 'tidb-c1' })]), true],
  ['outbound by serviceAccount only', out([T('c1', 1, { serviceAccount: 'tidb-c1' })]), true],
  ['outbound with an empty passthrough array', out(okOut, { passthrough: [] }), true],
  ['inbound tenants and passthrough', inb(okIn, storage), true],
  ['inbound, two passthrough entries (storage + admin tool)', inb(okIn, [...storage, { name: 'br', match: PR('br') }]), true],
  ['inbound without passthrough', inb(okIn, undefined), true],
  ['prefix mode', out([{ name: 'a', prefix: '0a01', match: LBL('a') }, { name: 'b', prefix: '0a02', match: LBL('b') }], { mode: 'prefix' }), true],
  ['prefix mode with an optional keyspaceId', out([{ name: 'a', prefix: '0a01', keyspaceId: 7, match: LBL('a') }], { mode: 'prefix' }), true],
  ['keyspace id bounds 1 and 16777214', out([T('a', 1, LBL('a')), T('b', 16777214, LBL('b'))]), true],
  ['maxMessageBytes bounds', out(okOut, { maxMessageBytes: 1024 }), true],
  ['maxMessageBytes upper bound', out(okOut, { maxMessageBytes: 1073741824 }), true],
  ['etcdNamespace template', out(okOut, { etcdNamespace: '/tenants/{name}/{id}/' }), true],
  ['etcdNamespace without trailing slash (separator mode, the default form)', out(okOut, { etcdNamespace: '/k/{id}' }), true],
  ['etcdNamespace default spelled out', out(okOut, { etcdNamespace: '/keyspaces/tidb/{id}' }), true],
  ['etcdNamespace of two characters', out(okOut, { etcdNamespace: '/k' }), true],
  ['tenant name with dots and dashes', out([T('prod.cluster-1', 1, LBL('a'))]), true],
  ['label value may be empty', out([T('a', 1, { labels: { x: '' } })]), true],

  // ---- invalid, both refuse
  ['not an object', [], false, { error: 'JSON object' }],
  ['tenants missing', { direction: 'outbound' }, false, { error: 'tenants' }],
  ['tenants not an array', { tenants: {} }, false, { error: 'tenants' }],
  ['unknown top-level property', out(okOut, { allow: true }), false, { error: 'unknown property "allow"' }],
  ['version 2', out(okOut, { version: 2 }), false, { error: 'version' }],
  ['direction sideways', out(okOut, { direction: 'sideways' }), false, { error: 'direction' }],
  ['mode v1', out(okOut, { mode: 'v1' }), false, { error: 'mode' }],
  ['unknownCaller allow', out(okOut, { unknownCaller: 'allow' }), false, { error: 'unknownCaller' }],
  ['maxMessageBytes too small', out(okOut, { maxMessageBytes: 1023 }), false, { error: 'maxMessageBytes' }],
  ['maxMessageBytes too large', out(okOut, { maxMessageBytes: 1073741825 }), false, { error: 'maxMessageBytes' }],
  ['maxMessageBytes fractional', out(okOut, { maxMessageBytes: 2048.5 }), false, { error: 'maxMessageBytes' }],
  ['maxMessageBytes string', out(okOut, { maxMessageBytes: '2048' }), false, { error: 'maxMessageBytes' }],
  ['etcdNamespace just "/"', out(okOut, { etcdNamespace: '/' }), false, { error: 'etcdNamespace' }],
  ['etcdNamespace empty', out(okOut, { etcdNamespace: '' }), false, { error: 'etcdNamespace' }],
  ['etcdNamespace without leading slash', out(okOut, { etcdNamespace: 'keyspaces/tidb/{id}/' }), false, { error: 'etcdNamespace' }],
  ['etcdNamespace not a string', out(okOut, { etcdNamespace: 1 }), false, { error: 'etcdNamespace' }],
  ['tenant not an object', out(['cluster1']), false, { error: 'tenants[0]' }],
  ['tenant unknown property', out([{ ...T('a', 1, LBL('a')), color: 'red' }]), false, { error: 'unknown property "color"' }],
  ['tenant without name', out([{ keyspaceId: 1, match: LBL('a') }]), false, { error: 'tenants[0].name' }],
  ['tenant name uppercase', out([T('Cluster1', 1, LBL('a'))]), false, { error: 'tenants[0].name' }],
  ['tenant name with underscore', out([T('cluster_1', 1, LBL('a'))]), false, { error: 'tenants[0].name' }],
  ['tenant name ending in a dash', out([T('cluster-', 1, LBL('a'))]), false, { error: 'tenants[0].name' }],
  ['tenant name empty', out([T('', 1, LBL('a'))]), false, { error: 'tenants[0].name' }],
  ['tenant name too long', out([T('a'.repeat(254), 1, LBL('a'))]), false, { error: 'tenants[0].name' }],
  ['tenant without match', out([{ name: 'a', keyspaceId: 1 }]), false, { error: 'tenants[0].match' }],
  ['empty match', out([T('a', 1, {})]), false, { error: 'at least one criterion' }],
  ['match unknown criterion', out([T('a', 1, { pod: 'x' })]), false, { error: 'unknown property "pod"' }],
  ['match namespace empty', out([T('a', 1, { namespace: '' })]), false, { error: 'namespace' }],
  ['match serviceAccount empty', out([T('a', 1, { serviceAccount: '' })]), false, { error: 'serviceAccount' }],
  ['match labels empty object', out([T('a', 1, { labels: {} })]), false, { error: 'labels' }],
  ['match label value not a string', out([T('a', 1, { labels: { x: 1 } })]), false, { error: 'labels.x' }],
  ['api-v2 tenant without keyspaceId', out([{ name: 'a', match: LBL('a') }]), false, { error: 'keyspaceId' }],
  ['keyspaceId 0 (default keyspace)', out([T('a', 0, LBL('a'))]), false, { error: 'keyspaceId' }],
  ['keyspaceId 0xFFFFFF', out([T('a', 16777215, LBL('a'))]), false, { error: 'keyspaceId' }],
  ['keyspaceId fractional', out([T('a', 1.5, LBL('a'))]), false, { error: 'keyspaceId' }],
  ['keyspaceId string', out([T('a', '1', LBL('a'))]), false, { error: 'keyspaceId' }],
  ['api-v2 tenant with a prefix', out([{ ...T('a', 1, LBL('a')), prefix: '0a' }]), false, { error: 'prefix' }],
  ['prefix mode tenant without prefix', out([T('a', 1, LBL('a'))], { mode: 'prefix' }), false, { error: 'prefix' }],
  ['prefix uppercase hex', out([{ name: 'a', prefix: '0A', match: LBL('a') }], { mode: 'prefix' }), false, { error: 'prefix' }],
  ['prefix odd length', out([{ name: 'a', prefix: '0a0', match: LBL('a') }], { mode: 'prefix' }), false, { error: 'prefix' }],
  ['prefix empty', out([{ name: 'a', prefix: '', match: LBL('a') }], { mode: 'prefix' }), false, { error: 'prefix' }],
  ['prefix of only ff bytes', out([{ name: 'a', prefix: 'ffff', match: LBL('a') }], { mode: 'prefix' }), false, { error: 'no end' }],
  ['prefix mode keyspaceId out of range', out([{ name: 'a', prefix: '0a', keyspaceId: 0, match: LBL('a') }], { mode: 'prefix' }), false, { error: 'keyspaceId' }],
  ['prefix mode keyspaceId string', out([{ name: 'a', prefix: '0a', keyspaceId: 'x', match: LBL('a') }], { mode: 'prefix' }), false, { error: 'keyspaceId' }],
  ['outbound tenant matching by principal', out([T('a', 1, PR('a'))]), false, { error: 'principals apply to inbound only' }],
  ['outbound with passthrough entries', out(okOut, { passthrough: storage }), false, { error: 'passthrough' }],
  ['inbound tenant by labels', inb([T('a', 1, LBL('a'))], storage), false, { error: 'principals' }],
  ['inbound tenant by principal and namespace', inb([T('a', 1, { ...PR('a'), namespace: 'tidb' })], storage), false, { error: 'principals only' }],
  ['inbound passthrough by serviceAccount', inb(okIn, [{ name: 'x', match: { serviceAccount: 'tikv' } }]), false, { error: 'passthrough[0].match' }],
  ['principal not spiffe', inb([T('a', 1, { principals: ['cluster.local/ns/tidb/sa/a'] })]), false, { error: 'spiffe://' }],
  ['principals empty', inb([T('a', 1, { principals: [] })]), false, { error: 'principals' }],
  ['principal not a string', inb([T('a', 1, { principals: [7] })]), false, { error: 'principals[0]' }],
  ['passthrough not an array', inb(okIn, {}), false, { error: 'passthrough' }],
  ['passthrough without name', inb(okIn, [{ match: PR('pd') }]), false, { error: 'passthrough[0].name' }],
  ['passthrough name with spaces', inb(okIn, [{ name: 'pd peers', match: PR('pd') }]), false, { error: 'passthrough[0].name' }],
  ['passthrough unknown property', inb(okIn, [{ name: 'pd', match: PR('pd'), bytes: 'raw' }]), false, { error: 'unknown property "bytes"' }],
  ['passthrough without match', inb(okIn, [{ name: 'pd' }]), false, { error: 'passthrough[0].match' }],

  // ---- rules only the filter can check (ajv accepts)
  ['duplicate keyspaceId', out([T('a', 1, LBL('a')), T('b', 1, LBL('b'))]), false, { parserOnly: true, error: 'also used by tenant a' }],
  ['duplicate tenant name', out([T('a', 1, LBL('a')), T('a', 2, LBL('b'))]), false, { parserOnly: true, error: 'duplicate tenant' }],
  ['overlapping prefixes', out([{ name: 'a', prefix: '0a', match: LBL('a') }, { name: 'b', prefix: '0a01', match: LBL('b') }], { mode: 'prefix' }), false, { parserOnly: true, error: 'overlaps' }],
  ['duplicate passthrough name', inb(okIn, [{ name: 'p', match: PR('pd') }, { name: 'p', match: PR('tikv') }]), false, { parserOnly: true, error: 'duplicate passthrough' }],
  ['one principal in two tenants', inb([T('a', 1, PR('x')), T('b', 2, PR('x'))]), false, { parserOnly: true, error: 'also the principal of tenant a' }],
  ['a tenant principal also passthrough', inb(okIn, [{ name: 'p', match: PR('tidb-cluster1') }]), false, { parserOnly: true, error: 'also the principal of tenant cluster1' }],
  ['a principal twice in one entry', inb([T('a', 1, PR('x', 'x'))]), false, { parserOnly: true, error: 'listed twice' }],
];

describe('schema/plugin-config.schema.json and the filter parser agree', () => {
  test.each(CASES.map((c) => [c[0], c]))('%s', (_name, [, config, valid, opts = {}]) => {
    const json = JSON.stringify(config);
    const ajvOk = validate(config);
    const parserError = core.configure(json);
    if (opts.parserOnly) {
      expect({ ajv: ajvOk }).toEqual({ ajv: true });
    } else {
      expect({ ajv: ajvOk, errors: ajvOk === valid ? null : validate.errors }).toEqual({ ajv: valid, errors: null });
    }
    if (valid) expect(parserError).toBe('');
    else {
      expect(parserError).not.toBe('');
      if (opts.error) expect(parserError).toContain(opts.error);
    }
  });

  test('text the schema cannot see: invalid JSON, duplicate members, empty configuration', () => {
    expect(core.configure('')).toMatch(/empty configuration/);
    expect(core.configure('{"tenants": [')).toMatch(/invalid JSON/);
    expect(core.configure('{"tenants": [], "tenants": []}')).toMatch(/duplicate member "tenants"/);
    expect(core.configure('{"tenants": []} x')).toMatch(/trailing characters/);
  });

  test('every rule in the table is exercised both ways (valid and invalid cases exist for each top-level property)', () => {
    const props = Object.keys(schema.properties);
    for (const p of props) {
      const invalid = CASES.filter((c) => !c[2] && c[3] && !c[3].parserOnly && JSON.stringify(c[1]).includes(`"${p}"`));
      expect({ p, invalid: invalid.length > 0 }).toEqual({ p, invalid: true });
    }
  });
});
