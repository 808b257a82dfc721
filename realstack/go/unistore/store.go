package main

import (
	"context"
	"os"
	"path/filepath"

	"github.com/pingcap/badger"
	"github.com/pingcap/badger/options"
	"github.com/pingcap/kvproto/pkg/metapb"
	"github.com/pingcap/tidb/pkg/store/mockstore/unistore/config"
	"github.com/pingcap/tidb/pkg/store/mockstore/unistore/lockstore"
	"github.com/pingcap/tidb/pkg/store/mockstore/unistore/pd"
	"github.com/pingcap/tidb/pkg/store/mockstore/unistore/tikv"
	"github.com/pingcap/tidb/pkg/store/mockstore/unistore/tikv/mvcc"
)

// store is a standalone (no raft) unistore registered with a real PD. The pieces unistore's
// own server.New does not expose are kept: db and the lock store for the raw view, the writer
// and MVCC store for GC (gc.go) and UnsafeDestroyRange (destroy.go).
type store struct {
	svr    *tikv.Server
	db     *badger.DB
	bundle *mvcc.DBBundle
	writer mvcc.DBWriter
	mvcc   *tikv.MVCCStore
	pdc    pd.Client
	gc     *gcState
	dir    string // badger's directory (gc.go stages its table next to it: os.Link needs one filesystem)
}

// versionedPD reports a store version (and status address) with every PutStore: unistore
// registers a bare metapb.Store, which PD then treats as version 1.0.0 and TiDB refuses.
type versionedPD struct {
	pd.Client
	version, status string
}

func (p versionedPD) PutStore(ctx context.Context, s *metapb.Store) error {
	c := *s
	c.Version, c.StatusAddress = p.version, p.status
	return p.Client.PutStore(ctx, &c)
}

func openStore(pdAddrs []string, advertise, status, dataDir, version string) (*store, error) {
	raw, err := pd.NewClient(pdAddrs, "unistore-server")
	if err != nil {
		return nil, err
	}
	pdc := versionedPD{Client: raw, version: version, status: status}

	conf := config.DefaultConf
	conf.Server.Raft = false
	conf.Server.StoreAddr = advertise
	conf.Server.StatusAddr = status
	conf.Engine.DBPath = dataDir

	physical, logical, err := pdc.GetTS(context.Background())
	if err != nil {
		return nil, err
	}
	safePoint := &tikv.SafePoint{}
	gc := newGCState()
	db, err := openDB(filepath.Join(dataDir, "kv"), &conf.Engine, gc)
	if err != nil {
		return nil, err
	}
	bundle := &mvcc.DBBundle{
		DB:        db,
		LockStore: lockstore.NewMemStore(8 << 20),
		StateTS:   uint64(physical)<<18 + uint64(logical),
	}
	rm := tikv.NewStandAloneRegionManager(bundle, tikv.RegionOptions{
		StoreAddr: advertise, PDAddr: conf.Server.PDAddr, RegionSize: conf.Server.RegionSize,
	}, pdc)
	inner := tikv.NewStandAlongInnerServer(bundle)
	inner.Setup(pdc)
	writer := tikv.NewDBWriter(bundle)
	mvccStore := tikv.NewMVCCStore(&conf, bundle, dataDir, safePoint, writer, pdc)
	mvccStore.DeadlockDetectSvr.ChangeRole(tikv.Leader)
	if err := inner.Start(pdc); err != nil {
		return nil, err
	}
	mvccStore.StartDeadlockDetection(false)
	return &store{svr: tikv.NewServer(rm, pdc, mvccStore, inner), db: db, bundle: bundle, writer: writer, mvcc: mvccStore, pdc: pdc, gc: gc, dir: filepath.Join(dataDir, "kv")}, nil
}

func (s *store) close() { s.svr.Stop() }

// openDB opens badger the way unistore needs it: managed transactions (unistore supplies
// commit timestamps) and the GC safe point as compaction filter (ours, gc.go: it also knows
// API-v2 keys). Two sizes differ from unistore's defaults, so that applying a GC safe point
// rewrites every key (gc.go compactAll) and nothing else:
//   - level 0 is compacted as soon as it holds one table;
//   - a compaction writes one table, however much data (MaxTableSize 1 GiB; the test stores
//     hold a few MiB). Why: badger's Builder.Reset, used for the second and later tables of a
//     compaction, empties oldBlock without the leading byte that NewTableBuilder puts there
//     (pingcap/badger table/sstable/builder.go resetBuffers: "add one byte so the offset would
//     never be 0"), so in every table after the first, the older versions of the first key
//     that has several are written with offset 0, i.e. as none, and a reader at an older
//     timestamp loses that row. Seen here as one row of 1000 missing its pre-update version.
//     One level-1 table also means an L0 compaction always includes it.
func openDB(dir string, e *config.Engine, gc *gcState) (*badger.DB, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	opts := badger.DefaultOptions
	opts.Dir, opts.ValueDir = dir, dir
	opts.ManagedTxns = true
	opts.NumCompactors = e.NumCompactors
	opts.ValueThreshold = e.ValueThreshold
	opts.ValueLogWriteOptions.WriteBufferSize = 4 << 20
	opts.ValueLogFileSize = e.VlogFileSize
	opts.ValueLogMaxNumFiles = 3
	opts.MaxMemTableSize = e.MaxMemTableSize
	opts.TableBuilderOptions.MaxTableSize = 1 << 30
	opts.NumMemtables = e.NumMemTables
	opts.NumLevelZeroTables = 1
	opts.NumLevelZeroTablesStall = e.NumL0TablesStall
	opts.LevelOneSize = e.L1Size
	opts.SyncWrites = e.SyncWrite
	perLevel := make([]options.CompressionType, len(e.Compression))
	for i := range opts.TableBuilderOptions.CompressionPerLevel {
		if i < len(e.Compression) {
			perLevel[i] = config.ParseCompression(e.Compression[i])
		}
	}
	opts.TableBuilderOptions.CompressionPerLevel = perLevel
	opts.MaxBlockCacheSize = e.BlockCacheSize
	opts.MaxIndexCacheSize = e.IndexCacheSize
	opts.TableBuilderOptions.SuRFStartLevel = e.SurfStartLevel
	opts.CompactionFilterFactory = gc.createCompactionFilter
	opts.CompactL0WhenClose = e.CompactL0WhenClose
	opts.VolatileMode = e.VolatileMode
	return badger.Open(opts)
}
