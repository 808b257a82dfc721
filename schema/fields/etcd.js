'use strict';
// Field classification for etcd (etcdserverpb KV, Watch, Lease, Cluster, Maintenance; mvccpb),
// as PD's embedded etcd serves them (versions in schema/upstream-protos.js; vocabulary:
// vocabulary.js). Keys follow etcd's client/v3/namespace: every key gets the tenant's
// namespace, range_end "\x00" means "to the end of the tenant's key space" (schema/etcd.ts).
const { key, filteredKey, start, end, value, opaque } = require('./vocabulary');

const ETCD_TEXT = opaque('human-readable text from etcd');
const MEMBERS = opaque('etcd membership (names, URLs): PD topology shared by every tenant, no keys');

module.exports = {
  'etcdserverpb.RangeRequest.key': start('etcd'),
  'etcdserverpb.RangeRequest.range_end': end('etcd'),
  'etcdserverpb.PutRequest.key': key(),
  'etcdserverpb.PutRequest.value': value(),
  'etcdserverpb.DeleteRangeRequest.key': start('etcd'),
  'etcdserverpb.DeleteRangeRequest.range_end': end('etcd'),
  'etcdserverpb.Compare.key': start('etcd'),
  'etcdserverpb.Compare.range_end': end('etcd'),
  'etcdserverpb.Compare.value': value('the value a Txn compares against'),
  'etcdserverpb.WatchCreateRequest.key': start('etcd'),
  'etcdserverpb.WatchCreateRequest.range_end': end('etcd'),
  'etcdserverpb.WatchResponse.cancel_reason': ETCD_TEXT,
  'etcdserverpb.LeaseGrantResponse.error': ETCD_TEXT,
  'etcdserverpb.LeaseTimeToLiveResponse.keys': filteredKey("keys attached to a lease: keys outside the tenant's namespace are dropped, as etcd's namespace wrapper does"),
  'etcdserverpb.Member.name': MEMBERS,
  'etcdserverpb.Member.peerURLs': MEMBERS,
  'etcdserverpb.Member.clientURLs': MEMBERS,
  'etcdserverpb.StatusResponse.version': opaque('etcd server version'),
  'etcdserverpb.StatusResponse.errors': ETCD_TEXT,
  'mvccpb.KeyValue.key': key(),
  'mvccpb.KeyValue.value': value(),
};
