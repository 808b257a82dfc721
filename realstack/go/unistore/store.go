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

// store is a standalone (no raft) unistore registered with a real PD; db is kept for the
// raw view, which unistore's own server.New does not expose.
type store struct {
	svr *tikv.Server
	db  *badger.DB
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
	db, err := openDB(filepath.Join(dataDir, "kv"), &conf.Engine, safePoint)
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
	mvccStore := tikv.NewMVCCStore(&conf, bundle, dataDir, safePoint, tikv.NewDBWriter(bundle), pdc)
	mvccStore.DeadlockDetectSvr.ChangeRole(tikv.Leader)
	if err := inner.Start(pdc); err != nil {
		return nil, err
	}
	mvccStore.StartDeadlockDetection(false)
	return &store{svr: tikv.NewServer(rm, pdc, mvccStore, inner), db: db}, nil
}

func (s *store) close() { s.svr.Stop() }

// openDB opens badger the way unistore needs it: managed transactions (unistore supplies
// commit timestamps) and the GC safe point as compaction filter.
func openDB(dir string, e *config.Engine, sp *tikv.SafePoint) (*badger.DB, error) {
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
	opts.TableBuilderOptions.MaxTableSize = e.MaxTableSize
	opts.NumMemtables = e.NumMemTables
	opts.NumLevelZeroTables = e.NumL0Tables
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
	opts.CompactionFilterFactory = sp.CreateCompactionFilter
	opts.CompactL0WhenClose = e.CompactL0WhenClose
	opts.VolatileMode = e.VolatileMode
	return badger.Open(opts)
}
