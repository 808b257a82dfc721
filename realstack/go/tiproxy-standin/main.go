// Command tiproxy-standin is TiProxy's discovery without TiProxy: it finds TiDB servers through
// PD's etcd with the calls TiProxy v1.4.0-nextgen.202510.0 makes (topology.go), registers
// itself under /topology/tiproxy, campaigns for the metric-reader owner key, and routes each
// SQL connection to a healthy TiDB it discovered (router.go). It exists because no TiProxy can
// be built from the Go module proxy (go.mod). What the real-TiDB suite checks with it: behind a
// tenant's sidecar filter it finds exactly that tenant's tidb-servers; without the filter it
// finds every keyspace's (the pooling a newer TiProxy would do).
//
//	tiproxy-standin --pd-addrs 127.0.0.1:2379 --addr 127.0.0.1:6000 --status-addr 127.0.0.1:3080 \
//	  [--socket /path/sql.sock] [--status-socket /path/api.sock] [--label-name tenant --labels tenant=a]
//
// HTTP: GET /status (200), GET /api/backends (what it discovered and where it routes).
package main

import (
	"context"
	"encoding/json"
	"flag"
	"log"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"sync"
	"syscall"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
)

func listen(addr string) (net.Listener, error) {
	if strings.HasPrefix(addr, "unix:") {
		p := strings.TrimPrefix(addr, "unix:")
		_ = os.Remove(p)
		return net.Listen("unix", p)
	}
	return net.Listen("tcp", addr)
}

func main() {
	pdAddrs := flag.String("pd-addrs", "127.0.0.1:2379", "proxy.pd-addrs: PD (etcd) endpoints, comma separated")
	addr := flag.String("addr", "127.0.0.1:6000", "SQL listen address (host:port), registered in /topology/tiproxy")
	socket := flag.String("socket", "", "also accept SQL connections on this unix socket")
	statusAddr := flag.String("status-addr", "127.0.0.1:3080", "HTTP API address (host:port), registered as status_port")
	statusSocket := flag.String("status-socket", "", "also serve the HTTP API on this unix socket")
	labelName := flag.String("label-name", "", "balance.label-name: route only to TiDBs whose label equals this proxy's own")
	labels := flag.String("labels", "", "this proxy's labels, k=v,k=v (TiProxy's [labels])")
	interval := flag.Duration("interval", time.Second, "health-check round (TiProxy: 3 s by default), which re-reads the topology")
	flag.Parse()

	self := map[string]string{}
	for _, kv := range strings.Split(*labels, ",") {
		if k, v, ok := strings.Cut(kv, "="); ok {
			self[k] = v
		}
	}
	host, port, err := net.SplitHostPort(*addr)
	if err != nil {
		log.Fatalf("tiproxy-standin: --addr: %v", err)
	}
	_, statusPort, err := net.SplitHostPort(*statusAddr)
	if err != nil {
		log.Fatalf("tiproxy-standin: --status-addr: %v", err)
	}

	ctx, cancel := context.WithCancel(context.Background())
	cli, err := newEtcdClient(strings.Split(*pdAddrs, ","))
	if err != nil {
		log.Fatalf("tiproxy-standin: etcd client: %v", err)
	}
	// MemberList now, as the client's auto-sync does every 30 s: the endpoints become PD's
	// advertised client URLs.
	sc, scCancel := context.WithTimeout(ctx, 10*time.Second)
	if err := cli.Sync(sc); err != nil {
		log.Printf("tiproxy-standin: etcd member sync: %v", err)
	}
	scCancel()
	log.Printf("tiproxy-standin: etcd endpoints %v", cli.Endpoints())

	exe, _ := os.Executable()
	reg := &registry{cli: cli, info: tiproxyInfo{Version: "v1.4.0-nextgen.202510.0 (stand-in)", IP: host, Port: port, StatusPort: statusPort,
		DeployPath: exe, StartTimestamp: time.Now().Unix()}}
	if err := reg.put(ctx); err != nil {
		log.Printf("tiproxy-standin: %v", err)
	}
	go reg.loop(ctx)

	var ownerMu sync.Mutex
	owner := "campaigning"
	go campaign(ctx, cli, *addr, func(s string) { ownerMu.Lock(); owner = s; ownerMu.Unlock() })
	if r, err := cli.Get(ctx, "/topology/prometheus", clientv3.WithPrefix()); err != nil {
		log.Printf("tiproxy-standin: get /topology/prometheus: %v", err)
	} else {
		log.Printf("tiproxy-standin: /topology/prometheus: %d keys", len(r.Kvs))
	}

	rt := &router{labelName: *labelName, self: self, backends: map[string]*backend{}, conns: map[string]int{}}
	rt.refresh(ctx, cli)
	go func() {
		t := time.NewTicker(*interval)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
				rt.refresh(ctx, cli)
			}
		}
	}()

	mux := http.NewServeMux()
	mux.HandleFunc("/status", func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte(`{"status":"ok"}`)) })
	mux.HandleFunc("/api/backends", func(w http.ResponseWriter, _ *http.Request) {
		ownerMu.Lock()
		o := owner
		ownerMu.Unlock()
		w.Header().Set("content-type", "application/json")
		_ = json.NewEncoder(w).Encode(rt.state(map[string]any{"owner": o, "endpoints": cli.Endpoints()}))
	})
	var listeners []net.Listener
	for _, a := range []string{*statusAddr, "unix:" + *statusSocket} {
		if a == "unix:" {
			continue
		}
		l, err := listen(a)
		if err != nil {
			log.Fatalf("tiproxy-standin: listen %s: %v", a, err)
		}
		listeners = append(listeners, l)
		go func() { _ = http.Serve(l, mux) }()
	}
	for _, a := range []string{*addr, "unix:" + *socket} {
		if a == "unix:" {
			continue
		}
		l, err := listen(a)
		if err != nil {
			log.Fatalf("tiproxy-standin: listen %s: %v", a, err)
		}
		listeners = append(listeners, l)
		go func() {
			for {
				c, err := l.Accept()
				if err != nil {
					return
				}
				go rt.serve(c)
			}
		}()
	}
	log.Printf("tiproxy-standin: serving SQL on %s %s, API on %s %s", *addr, *socket, *statusAddr, *statusSocket)

	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGINT, syscall.SIGTERM)
	<-sig
	for _, l := range listeners {
		l.Close()
	}
	reg.remove()
	cancel()
	_ = cli.Close()
	log.Printf("tiproxy-standin: stopped")
}
