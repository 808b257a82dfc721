package main

import (
	"encoding/hex"
	"encoding/json"
	"net/http"

	"github.com/pingcap/badger"
)

// registerRawView serves what is physically stored, bypassing every TiKV API:
//
//	GET /raw          {"prefixes": {"78000001": n, ...}, "total": n}   (4-byte prefixes)
//	GET /raw/keys?prefix=<hex>&limit=n   {"keys": ["<hex>", ...]}
//	GET /stats        {"requests": n, "refused": n}   (the strict keyspace check)
//
// Unistore's own metadata (keys starting with 0xff) is left out.
func registerRawView(mux *http.ServeMux, db *badger.DB, chk *checker) {
	scan := func(prefix []byte, each func(k []byte) bool) error {
		return db.View(func(txn *badger.Txn) error {
			it := txn.NewIterator(badger.IteratorOptions{})
			defer it.Close()
			for it.Seek(prefix); it.ValidForPrefix(prefix); it.Next() {
				k := it.Item().Key()
				if len(k) > 0 && k[0] == 0xff {
					break
				}
				if !each(k) {
					break
				}
			}
			return nil
		})
	}
	mux.HandleFunc("/raw", func(w http.ResponseWriter, r *http.Request) {
		counts, total := map[string]int{}, 0
		err := scan(nil, func(k []byte) bool {
			p := k
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
		prefix, err := hex.DecodeString(r.URL.Query().Get("prefix"))
		if err != nil {
			http.Error(w, "prefix must be hex", http.StatusBadRequest)
			return
		}
		limit := 1000
		keys := []string{}
		err = scan(prefix, func(k []byte) bool {
			keys = append(keys, hex.EncodeToString(k))
			return len(keys) < limit
		})
		reply(w, err, map[string]any{"keys": keys})
	})
	mux.HandleFunc("/stats", func(w http.ResponseWriter, r *http.Request) {
		reply(w, nil, map[string]any{"requests": chk.requests.Load(), "refused": chk.refused.Load()})
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
