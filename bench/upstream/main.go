// tidb-mesh benchmark TEST UPSTREAM — not TiKV. A minimal h2c gRPC server for load tests:
// every POST reads the whole request body, compares it byte for byte with the request bodies
// it was told to accept (the frames h2load sends, as they must arrive after the proxy), and
// answers with one canned response frame plus grpc-status 0 trailers. A body it does not
// expect gets grpc-status 3 and is counted, so a load run can prove every request reached
// the upstream correctly rewritten. GET /stats returns the counters as JSON.
//
// Usage: bench-upstream -addr 127.0.0.1:0 -route /tikvpb.Tikv/KvGet=req1.bin,req2.bin:resp.bin ...
// (prints "listening <port>" on stdout once ready). Standard library only (Go >= 1.24 for h2c).
package main

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strings"
	"sync/atomic"
)

type route struct {
	accept   [][]byte
	response []byte
	ok       []atomic.Int64 // per accepted body, in -route order
	bad      atomic.Int64
}

type routeFlags []string

func (r *routeFlags) String() string     { return strings.Join(*r, " ") }
func (r *routeFlags) Set(v string) error { *r = append(*r, v); return nil }

func mustRead(p string) []byte {
	b, err := os.ReadFile(p)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	return b
}

func main() {
	addr := flag.String("addr", "127.0.0.1:0", "listen address")
	var specs routeFlags
	flag.Var(&specs, "route", "path=accept1.bin[,accept2.bin]:response.bin (frames incl. 5-byte prefix)")
	flag.Parse()
	routes := map[string]*route{}
	for _, s := range specs {
		eq := strings.IndexByte(s, '=')
		colon := strings.LastIndexByte(s, ':')
		if eq < 0 || colon < eq {
			fmt.Fprintln(os.Stderr, "bad -route", s)
			os.Exit(2)
		}
		r := &route{response: mustRead(s[colon+1:])}
		for _, f := range strings.Split(s[eq+1:colon], ",") {
			r.accept = append(r.accept, mustRead(f))
		}
		r.ok = make([]atomic.Int64, len(r.accept))
		routes[s[:eq]] = r
	}

	mux := http.NewServeMux()
	mux.HandleFunc("/stats", func(w http.ResponseWriter, _ *http.Request) {
		type counts struct {
			OK  []int64 `json:"ok"`
			Bad int64   `json:"bad"`
		}
		out := map[string]counts{}
		for p, r := range routes {
			c := counts{Bad: r.bad.Load()}
			for i := range r.ok {
				c.OK = append(c.OK, r.ok[i].Load())
			}
			out[p] = c
		}
		w.Header().Set("content-type", "application/json")
		_ = json.NewEncoder(w).Encode(out)
	})
	mux.HandleFunc("/", func(w http.ResponseWriter, req *http.Request) {
		r := routes[req.URL.Path]
		body, _ := io.ReadAll(req.Body)
		w.Header().Set("content-type", "application/grpc")
		w.Header().Set("trailer", "grpc-status, grpc-message")
		if r == nil {
			w.WriteHeader(200)
			w.Header().Set("grpc-status", "12")
			w.Header().Set("grpc-message", "unknown method")
			return
		}
		good := -1
		for i, a := range r.accept {
			if bytes.Equal(body, a) {
				good = i
				break
			}
		}
		w.WriteHeader(200)
		if good < 0 {
			r.bad.Add(1)
			w.Header().Set("grpc-status", "3")
			w.Header().Set("grpc-message", "unexpected request bytes")
			return
		}
		r.ok[good].Add(1)
		_, _ = w.Write(r.response)
		w.Header().Set("grpc-status", "0")
	})

	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	srv := &http.Server{Handler: mux}
	srv.Protocols = new(http.Protocols)
	srv.Protocols.SetUnencryptedHTTP2(true)
	srv.Protocols.SetHTTP1(true)
	srv.HTTP2 = &http.HTTP2Config{MaxConcurrentStreams: 1024}
	fmt.Printf("listening %d\n", ln.Addr().(*net.TCPAddr).Port)
	_ = srv.Serve(ln)
}
