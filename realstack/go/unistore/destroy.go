package main

import (
	"bytes"
	"context"

	"github.com/pingcap/kvproto/pkg/kvrpcpb"
)

// UnsafeDestroyRange as TiKV does it, not as unistore does it. TiKV deletes every column
// family of the range on every store, bypassing Raft: first the SST files wholly inside it,
// then every remaining key (tikv components/engine_rocks unsafe_destroy_range:
// delete_files_in_range + delete_all_in_range), locks included. Unistore only drops the badger
// tables wholly inside the range (tikv.Server.UnsafeDestroyRange -> DeleteFilesInRange), so
// keys still in the memtable or in a table shared with the next range survive, and it never
// touches locks; a DROP TABLE (TiDB's GC worker) or a retired tenant's range would then look
// destroyed to nobody. Here: unistore's file drop, then a delete of every key left in
// [start, end) and of their rollback/lock records (mvcc.EncodeExtraTxnStatusKey: first byte
// + 1), and of every lock in [start, end). The filter (or the platform tool) has already
// bounded the range to one keyspace; the store's strict check has seen the request
// (checker.unary).
func (s *tikvService) UnsafeDestroyRange(ctx context.Context, req *kvrpcpb.UnsafeDestroyRangeRequest) (*kvrpcpb.UnsafeDestroyRangeResponse, error) {
	start, end := append([]byte{}, req.GetStartKey()...), append([]byte{}, req.GetEndKey()...)
	if len(start) == 0 || len(end) == 0 || bytes.Compare(start, end) >= 0 {
		return &kvrpcpb.UnsafeDestroyRangeResponse{Error: "invalid range"}, nil
	}
	if _, err := s.Server.UnsafeDestroyRange(ctx, &kvrpcpb.UnsafeDestroyRangeRequest{StartKey: append([]byte{}, start...), EndKey: append([]byte{}, end...)}); err != nil {
		return nil, err
	}
	if err := s.st.destroyRange(start, end); err != nil {
		return &kvrpcpb.UnsafeDestroyRangeResponse{Error: err.Error()}, nil
	}
	return &kvrpcpb.UnsafeDestroyRangeResponse{}, nil
}

// noLatches: the destroyed range is no longer used by anyone (a dropped table, a retired
// keyspace), as TiKV's unsafe_destroy_range assumes; nothing to serialise with.
type noLatches struct{}

func (noLatches) AcquireLatches([]uint64) {}
func (noLatches) ReleaseLatches([]uint64) {}

func (s *store) destroyRange(start, end []byte) error {
	if err := s.writer.DeleteRange(start, end, noLatches{}); err != nil {
		return err
	}
	if start[0] < 0xff && end[0] < 0xff {
		xs, xe := append([]byte{}, start...), append([]byte{}, end...)
		xs[0]++
		xe[0]++
		if err := s.writer.DeleteRange(xs, xe, noLatches{}); err != nil {
			return err
		}
	}
	batch := s.writer.NewWriteBatch(0, 0, nil)
	n := 0
	it := s.bundle.LockStore.NewIterator()
	for it.Seek(start); it.Valid() && bytes.Compare(it.Key(), end) < 0; it.Next() {
		batch.PessimisticRollback(append([]byte{}, it.Key()...))
		n++
	}
	if n == 0 {
		return nil
	}
	return s.writer.Write(batch)
}
