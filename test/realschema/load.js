'use strict';
// Loads the real protocol schemas (schema/upstream-protos.js) into protobufjs Roots, one per
// schema set (a kvproto version plus an etcd version), from the module directories that
// scripts/fetch-schemas.js recorded. Imports of gogoproto, rustproto and google/api
// annotations are left out: they only carry code-generation options, which protobufjs keeps as
// plain option strings. Field names are kept as in the .proto files (keepCase).
const fs = require('fs');
const path = require('path');
const protobuf = require('protobufjs');
const { MODULES, SETS } = require('../../schema/upstream-protos');
const { manifestPath } = require('../../scripts/fetch-schemas');

/** The kvproto files whose services reach the filter (others come in through their imports). */
const KVPROTO_FILES = ['tikvpb.proto', 'pdpb.proto', 'keyspacepb.proto', 'meta_storagepb.proto',
  'resource_manager.proto', 'gcpb.proto', 'routerpb.proto'];
/** Options-only imports, skipped. */
const SKIPPED_IMPORT = /^(gogoproto\/|rustproto\.proto$|google\/api\/)/;

/** module name -> { module, version, sum, dir }; throws when the schemas were not fetched. */
function manifest() {
  const p = manifestPath();
  if (!fs.existsSync(p)) throw new Error(`no schema manifest at ${p}: run \`node scripts/fetch-schemas.js\` (npm test does)`);
  const m = JSON.parse(fs.readFileSync(p, 'utf8'));
  for (const mod of MODULES) {
    const e = m[mod.name];
    if (!e || e.version !== mod.version || e.sum !== mod.sum || !fs.existsSync(e.dir)) {
      throw new Error(`schema ${mod.name} (${mod.module}@${mod.version}) is not fetched: run \`node scripts/fetch-schemas.js\``);
    }
  }
  return m;
}

/** etcd layout: api/v3 has etcdserverpb/ at its root, the old monolithic module under etcdserver/. */
function etcdRpcProto(dir) {
  const a = path.join(dir, 'etcdserverpb', 'rpc.proto');
  return fs.existsSync(a) ? a : path.join(dir, 'etcdserver', 'etcdserverpb', 'rpc.proto');
}

/** Maps an etcd import ("etcd/api/mvccpb/kv.proto", "etcd/mvcc/mvccpb/kv.proto") into the module. */
function etcdImport(dir, target) {
  const rest = target.replace(/^etcd\/(api\/)?/, '');
  return path.join(dir, rest);
}

const cache = new Map();

/**
 * The Root of schema set `name` (schema/upstream-protos.js SETS), resolved. Also returns the
 * versions it was built from: { root, set, kvproto: {version, dir}, etcd: {version, dir} }.
 */
function loadSet(name) {
  if (cache.has(name)) return cache.get(name);
  const set = SETS.find((s) => s.name === name);
  if (!set) throw new Error(`unknown schema set ${name}`);
  const m = manifest();
  const kv = m[set.kvproto], etcd = m[set.etcd];
  const root = new protobuf.Root();
  root.resolvePath = (origin, target) => {
    if (SKIPPED_IMPORT.test(target)) return null;
    if (target.startsWith('etcd/')) return etcdImport(etcd.dir, target);
    if (path.isAbsolute(target)) return target;
    for (const d of [path.join(kv.dir, 'proto'), path.join(kv.dir, 'include'), path.dirname(origin)]) {
      const p = path.join(d, target);
      if (fs.existsSync(p)) return p;
    }
    throw new Error(`${set.name}: cannot resolve import ${target} from ${origin}`);
  };
  const files = KVPROTO_FILES.map((f) => path.join(kv.dir, 'proto', f)).filter((f) => fs.existsSync(f));
  root.loadSync([...files, etcdRpcProto(etcd.dir)], { keepCase: true, alternateCommentMode: true });
  root.resolveAll();
  const out = { root, set, kvproto: { version: kv.version, dir: kv.dir }, etcd: { version: etcd.version, dir: etcd.dir } };
  cache.set(name, out);
  return out;
}

/** Every schema set, the pinned one first. */
function loadAll() { return SETS.map((s) => loadSet(s.name)); }

/** The gRPC method "/pkg.Service/Method" in a Root, or null. */
function findMethod(root, grpcPath) {
  const m = /^\/([\w.]+)\/(\w+)$/.exec(grpcPath);
  if (!m) return null;
  const svc = root.lookup(m[1]);
  if (!svc || !(svc instanceof protobuf.Service)) return null;
  const meth = svc.methods[m[2]];
  if (!meth) return null;
  meth.resolve();
  return meth;
}

module.exports = { loadSet, loadAll, findMethod, manifest };
