'use strict';
// The field classification of every real kvproto / pdpb / etcd field that can reach the filter
// (vocabulary.js): TiKV (tikv.js), PD and its services (pd.js), etcd (etcd.js). Keys are
// "package.Message.field"; a name given twice is an error.
const parts = { tikv: require('./tikv'), pd: require('./pd'), etcd: require('./etcd') };

function merge() {
  const out = {};
  for (const [file, entries] of Object.entries(parts)) {
    for (const [name, entry] of Object.entries(entries)) {
      if (out[name]) throw new Error(`schema/fields: ${name} is classified twice (${file}.js)`);
      if (!entry || !entry.cls) throw new Error(`schema/fields: ${name} has no class (${file}.js)`);
      out[name] = entry;
    }
  }
  return out;
}

/** name -> entry. */
const FIELDS = merge();

module.exports = { FIELDS };
