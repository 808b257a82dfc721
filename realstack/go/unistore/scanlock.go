package main

import (
	"bytes"
	"context"
	"math"

	"github.com/pingcap/kvproto/pkg/kvrpcpb"
)

// KvScanLock as TiKV does it: the locks with start_ts <= max_version whose keys lie in
// [start_key, end_key) of the region (tikv src/storage/mod.rs scan_lock; an empty end_key is
// the region's end). Unistore's (tikv/mvcc.go ScanLock) ignores start_key and end_key, scans
// the whole region and keeps start_ts < max_version: on a region shared by several keyspaces
// it answers one keyspace's scan with every keyspace's locks. A tenant's scan through the
// filter would then fail (a foreign key in the answer), and the platform's GC would resolve
// a lock under the wrong keyspace's context; a real TiKV never does either.
func (s *tikvService) KvScanLock(ctx context.Context, req *kvrpcpb.ScanLockRequest) (*kvrpcpb.ScanLockResponse, error) {
	maxTS := req.GetMaxVersion()
	if maxTS < math.MaxUint64 {
		maxTS++ // unistore keeps start_ts < max_version; TiKV <=
	}
	all, err := s.Server.KvScanLock(ctx, &kvrpcpb.ScanLockRequest{Context: req.GetContext(), MaxVersion: maxTS, Limit: math.MaxInt32})
	if err != nil || all.GetRegionError() != nil || all.GetError() != nil {
		return all, err
	}
	start, end, limit := req.GetStartKey(), req.GetEndKey(), int(req.GetLimit())
	out := &kvrpcpb.ScanLockResponse{}
	for _, l := range all.GetLocks() {
		if bytes.Compare(l.GetKey(), start) < 0 || (len(end) > 0 && bytes.Compare(l.GetKey(), end) >= 0) {
			continue
		}
		if limit > 0 && len(out.Locks) >= limit {
			break
		}
		out.Locks = append(out.Locks, l)
	}
	return out, nil
}
