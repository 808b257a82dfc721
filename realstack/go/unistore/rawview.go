package main

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"strconv"

	"github.com/pingcap/badger"
	"github.com/pingcap/tidb/pkg/store/mockstore/unistore/tikv/mvcc"
)

// registerRawView serves what is physically stored, bypassing every TiKV API:
//
//	GET /raw          {"prefixes": {"78000001": n, ...}, "total": n}   (4-byte prefixes; newest version of each key)
//	GET /raw/keys?prefix=<hex>&limit=n   {"keys": ["<hex>", ...]}
//	GET /raw/versions?prefix=<hex>[&detail=1]   {"keys": n, "versions": n, "tombstones": n[, "detail": [...]]}
//	    every version badger still holds under the prefix (what GC must remove), not only
//	    the newest: "versions" are values and MVCC deletes, "tombstones" badger's own deletes
//	GET /raw/locks?prefix=<hex>          {"locks": n, "txns": {"<start_ts>": n, ...}}   (the lock store)
//	GET /stats        {"requests": n, "refused": n}   (the strict keyspace check)
//	GET /gc           {"safePoint": n, "rounds": n, "lastMs": n, "error": "..."}   (gc.go: the last GC safe point applied)
//
// Unistore's own metadata (keys starting with 0xff) is left out, and so are the '!' keys of
// gc.go's compaction trigger (badger's iterators hide them).
func registerRawView(mux *http.ServeMux, st *store, chk *checker) {
	db := st.db
	scan := func(prefix []byte, allVersions bool, each func(it *badger.Item) bool) error {
		return db.View(func(txn *badger.Txn) error {
			it := txn.NewIterator(badger.IteratorOptions{AllVersions: allVersions})
			defer it.Close()
			for it.Seek(prefix); it.ValidForPrefix(prefix); it.Next() {
				k := it.Item().Key()
				if len(k) > 0 && k[0] == 0xff {
					break
				}
				if !each(it.Item()) {
					break
				}
			}
			return nil
		})
	}
	prefixOf := func(w http.ResponseWriter, r *http.Request) ([]byte, bool) {
		p, err := hex.DecodeString(r.URL.Query().Get("prefix"))
		if err != nil {
			http.Error(w, "prefix must be hex", http.StatusBadRequest)
			return nil, false
		}
		return p, true
	}
	mux.HandleFunc("/raw", func(w http.ResponseWriter, r *http.Request) {
		counts, total := map[string]int{}, 0
		err := scan(nil, false, func(item *badger.Item) bool {
			p := item.Key()
			if len(p) > 4 {
				p = p[:4]
			}
			counts[hex.EncodeToString(p)]++
			total++
			return true
		})
		reply(w, err, map[string]any{"prefixes": counts, "total": total})
	})
	mux.HandleFunc("/raw/keys", func(w http.ResponseWriter, r *http.Request) {
		prefix, ok := prefixOf(w, r)
		if !ok {
			return
		}
		limit := 1000
		if n, err := strconv.Atoi(r.URL.Query().Get("limit")); err == nil && n > 0 {
			limit = n
		}
		keys := []string{}
		err := scan(prefix, false, func(item *badger.Item) bool {
			keys = append(keys, hex.EncodeToString(item.Key()))
			return len(keys) < limit
		})
		reply(w, err, map[string]any{"keys": keys})
	})
	mux.HandleFunc("/raw/versions", func(w http.ResponseWriter, r *http.Request) {
		prefix, ok := prefixOf(w, r)
		if !ok {
			return
		}
		keys, versions, tombstones := 0, 0, 0
		var last []byte
		detail := []map[string]any{}
		withDetail := r.URL.Query().Get("detail") == "1"
		err := scan(prefix, true, func(item *badger.Item) bool {
			if withDetail && len(detail) < 1000 {
				d := map[string]any{"key": hex.EncodeToString(item.Key()), "version": strconv.FormatUint(item.Version(), 10), "deleted": item.IsDeleted()}
				if um := item.UserMeta(); len(um) >= 16 {
					d["startTs"], d["commitTs"] = strconv.FormatUint(mvcc.DBUserMeta(um).StartTS(), 10), strconv.FormatUint(mvcc.DBUserMeta(um).CommitTS(), 10)
				}
				detail = append(detail, d)
			}
			if item.IsDeleted() {
				tombstones++
				return true
			}
			versions++
			if !bytes.Equal(last, item.Key()) {
				keys++
				last = append(last[:0], item.Key()...)
			}
			return true
		})
		out := map[string]any{"keys": keys, "versions": versions, "tombstones": tombstones}
		if withDetail {
			out["detail"] = detail
		}
		reply(w, err, out)
	})
	mux.HandleFunc("/raw/locks", func(w http.ResponseWriter, r *http.Request) {
		prefix, ok := prefixOf(w, r)
		if !ok {
			return
		}
		n, txns := 0, map[string]int{}
		it := st.bundle.LockStore.NewIterator()
		for it.Seek(prefix); it.Valid() && bytes.HasPrefix(it.Key(), prefix); it.Next() {
			l := mvcc.DecodeLock(it.Value())
			txns[strconv.FormatUint(l.StartTS, 10)]++
			n++
		}
		reply(w, nil, map[string]any{"locks": n, "txns": txns})
	})
	mux.HandleFunc("/stats", func(w http.ResponseWriter, r *http.Request) {
		reply(w, nil, map[string]any{"requests": chk.requests.Load(), "refused": chk.refused.Load()})
	})
	mux.HandleFunc("/gc", func(w http.ResponseWriter, r *http.Request) {
		st.gc.mu.Lock()
		out := map[string]any{"safePoint": strconv.FormatUint(st.gc.applied, 10), "rounds": st.gc.rounds, "lastMs": st.gc.lastMs, "error": st.gc.lastErr}
		st.gc.mu.Unlock()
		reply(w, nil, out)
	})
}

func reply(w http.ResponseWriter, err error, v any) {
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(v)
}
