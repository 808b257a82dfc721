package main

import (
	"context"
	"fmt"
	"log"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pingcap/badger"
	"github.com/pingcap/badger/options"
	"github.com/pingcap/badger/table/sstable"
	"github.com/pingcap/badger/y"
	"github.com/pingcap/tidb/pkg/store/mockstore/unistore/tikv/mvcc"
)

// GC the way a TiKV node does it: follow PD's one global GC safe point (TiKV's gc_worker
// reads only GetGCSafePoint, tikv src/server/gc_worker/gc_worker.rs) and drop, in
// compaction, every MVCC version a reader at or above that point can no longer see.
//
// Unistore has the same two parts, but (a) its compaction filter (tikv.GCCompactionFilter)
// only knows API-v1 keys ('m'/'t' data, 'n'/'u' rollback records): under API v2 every txn key
// starts with 'x' and its rollback record with 'y', so deleted rows would keep a tombstone
// version forever; and (b) it polls PD once a minute and badger compacts only when its
// levels fill, so a test could wait hours to see a version go. gcState fixes both: the
// filter below knows both layouts, and applying a new safe point (followSafePoint) forces a
// compaction of every table (compactAll). What the raw view counts afterwards is what is
// physically left in the LSM tree.
type gcState struct {
	safePoint atomic.Uint64 // the compaction filter's safe point
	mu        sync.Mutex
	applied   uint64 // last safe point applied and compacted
	rounds    int
	lastMs    int64
	lastErr   string
}

func newGCState() *gcState { return &gcState{} }

// createCompactionFilter is badger's CompactionFilterFactory.
func (g *gcState) createCompactionFilter(targetLevel int, startKey, endKey []byte) badger.CompactionFilter {
	return &gcFilter{safePoint: g.safePoint.Load()}
}

type gcFilter struct{ safePoint uint64 }

// Filter is called by a compaction for the newest version of a key at or below badger's safe
// ts; the older versions are dropped by badger itself (levels.go CompactTables). Same rules
// as unistore's GCCompactionFilter (tikv/mvcc.go): a delete (an MVCC value of length 0) that
// is older than the safe point becomes a tombstone, and a rollback or lock record older than
// it is dropped. Entries without unistore's 16-byte user meta (its own metadata, our
// compaction trigger keys) and raw keys are kept.
func (f *gcFilter) Filter(key, value, userMeta []byte) badger.Decision {
	if len(userMeta) < 16 || len(key) == 0 {
		return badger.DecisionKeep
	}
	m := mvcc.DBUserMeta(userMeta)
	switch mvccClass(key) {
	case classData:
		if m.CommitTS() < f.safePoint && len(value) == 0 {
			return badger.DecisionMarkTombstone
		}
	case classRecord:
		if m.StartTS() < f.safePoint {
			return badger.DecisionDrop
		}
	}
	return badger.DecisionKeep
}

// Guards: none (unistore's split tables by TiDB table id at deep levels; with tables below
// 512 KiB there is nothing to gain).
func (f *gcFilter) Guards() []badger.Guard { return nil }

const (
	classOther  = 0
	classData   = 1 // an MVCC data version: value, or length 0 = delete
	classRecord = 2 // a rollback or Op_Lock record (unistore: the key's first byte + 1)
)

// mvccClass: 'm'/'t' API-v1 data and 'n'/'u' their records; under API v2 'x' + 3-byte
// keyspace id data and 'y' + id records (mvcc.EncodeExtraTxnStatusKey adds one to the first
// byte). 'r' (raw KV) and 0xff (unistore metadata) are not MVCC.
func mvccClass(key []byte) int {
	switch key[0] {
	case 'm', 't':
		return classData
	case 'n', 'u':
		return classRecord
	case 'x':
		if len(key) > 4 {
			return classData
		}
	case 'y':
		if len(key) > 4 {
			return classRecord
		}
	}
	return classOther
}

// followSafePoint polls PD's global GC safe point every `every` and applies each new value.
func (s *store) followSafePoint(every time.Duration) {
	for {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		sp, err := s.pdc.GetGCSafePoint(ctx)
		cancel()
		if err != nil {
			log.Printf("unistore-server: GetGCSafePoint: %v", err)
		} else if sp > s.gc.appliedSafePoint() {
			s.applySafePoint(sp)
		}
		time.Sleep(every)
	}
}

func (g *gcState) appliedSafePoint() uint64 {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.applied
}

// applySafePoint raises badger's compaction safe ts and the filter's safe point (through
// unistore's own UpdateSafePoint, which does the first), then rewrites every table.
func (s *store) applySafePoint(sp uint64) {
	start := time.Now()
	s.mvcc.UpdateSafePoint(sp)
	s.gc.safePoint.Store(sp)
	err := s.compactAll()
	s.gc.mu.Lock()
	defer s.gc.mu.Unlock()
	s.gc.lastMs = time.Since(start).Milliseconds()
	if err != nil {
		s.gc.lastErr = err.Error()
		log.Printf("unistore-server: applying GC safe point %d: %v", sp, err)
		return
	}
	s.gc.applied = sp
	s.gc.rounds++
	log.Printf("unistore-server: GC safe point %d applied in %d ms", sp, s.gc.lastMs)
}

// The two keys of the table compactAll ingests: below and above every key the store holds
// ('!' keys are hidden from badger's iterators; 0xff is unistore's metadata, which the raw
// view does not show).
var (
	compactLow  = []byte("!tidb-mesh/gc-compact")
	compactHigh = []byte("\xff\xfftidb-mesh/gc-compact")
)

// compactAll makes badger rewrite every table with the current safe ts and filter, using
// only its public API: ingesting a table whose range covers every key makes badger's write
// worker flush the memtable (writer_ingest.go prepareIngestTask, safely, between writes);
// with NumLevelZeroTables = 1 the compactor then merges level 0 with the level-1 table
// (store.go openDB: one). Returns when level 0 is empty again, or an error after 60 s.
func (s *store) compactAll() error {
	dir, err := os.MkdirTemp(filepath.Dir(s.dir), "gc-ingest-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	name := filepath.Join(dir, "compact.sst")
	f, err := y.OpenSyncedFile(name, true)
	if err != nil {
		return err
	}
	b := sstable.NewExternalTableBuilder(f, nil, badger.DefaultOptions.TableBuilderOptions, options.None)
	for _, k := range [][]byte{compactLow, compactHigh} {
		if err := b.Add(y.KeyWithTs(k, 0), y.ValueStruct{Value: []byte{1}, UserMeta: []byte{0}}); err != nil {
			f.Close()
			return err
		}
	}
	if _, err := b.Finish(); err != nil {
		f.Close()
		return err
	}
	f.Close()
	if _, err := s.db.IngestExternalFiles([]badger.ExternalTableSpec{{Filename: name}}); err != nil {
		return fmt.Errorf("ingest: %w", err)
	}
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		l0 := 0
		for _, t := range s.db.Tables() {
			if t.Level == 0 {
				l0++
			}
		}
		if l0 == 0 {
			return nil
		}
		time.Sleep(100 * time.Millisecond)
	}
	return fmt.Errorf("level 0 still holds tables after 60 s")
}
