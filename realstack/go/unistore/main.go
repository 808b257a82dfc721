// Command unistore-server serves TiDB's own unistore (the storage engine TiDB's tests use)
// over gRPC, so that real, unmodified tidb-servers can use it as their TiKV. It registers
// itself with a real PD, answers tikvpb.Tikv, the deadlock service and gRPC health checks,
// and adds what the tidb-mesh tests need and unistore lacks: a BatchCommands dispatcher
// that never drops a request, a strict check of each request's keyspace context, a raw
// view of the stored keys over HTTP, a capture of what reached storage, GC that follows
// PD's global safe point as a TiKV does (gc.go), and an UnsafeDestroyRange that destroys
// (destroy.go).
package main

import (
	"flag"
	"log"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/pingcap/kvproto/pkg/deadlock"
	"github.com/pingcap/kvproto/pkg/tikvpb"
	"google.golang.org/grpc"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
)

func main() {
	pdAddrs := flag.String("pd", "127.0.0.1:2379", "PD client URLs, comma separated")
	listen := flag.String("addr", "127.0.0.1:20160", "gRPC listen address (tcp host:port or unix:/path)")
	advertise := flag.String("advertise-addr", "", "store address PD hands out (default: -addr)")
	statusAddr := flag.String("status-addr", "127.0.0.1:20180", "HTTP address of the raw view (tcp host:port or unix:/path)")
	advertiseStatus := flag.String("advertise-status-addr", "127.0.0.1:20180", "TiKV status address PD hands out (TiDB would call its HTTP API; the raw view is not it)")
	dataDir := flag.String("data-dir", "", "badger data directory (required)")
	version := flag.String("version", "8.5.0", "store version reported to PD (PD treats an empty one as 1.0.0)")
	strict := flag.String("require-keyspace", "", "'' (no check) or 'v2': every request must carry api_version=V2, a keyspace id and keys inside that keyspace")
	capture := flag.String("capture", "", "append one JSON line per request (method, context fields, key fields) to this file")
	gcPoll := flag.Duration("gc-poll", time.Second, "how often to read PD's global GC safe point and apply a new one (gc.go; TiKV polls too, unistore itself once a minute)")
	flag.Parse()
	if *dataDir == "" {
		log.Fatal("unistore-server: -data-dir is required")
	}
	if *advertise == "" {
		*advertise = *listen
	}

	st, err := openStore(strings.Split(*pdAddrs, ","), *advertise, *advertiseStatus, *dataDir, *version)
	if err != nil {
		log.Fatalf("unistore-server: %v", err)
	}
	chk := newChecker(*strict, *capture)

	lis, err := listenOn(*listen)
	if err != nil {
		log.Fatalf("unistore-server: listen %s: %v", *listen, err)
	}
	g := grpc.NewServer(
		grpc.MaxRecvMsgSize(256<<20),
		grpc.MaxSendMsgSize(256<<20),
		grpc.ChainUnaryInterceptor(chk.unary),
	)
	tikvpb.RegisterTikvServer(g, &tikvService{Server: st.svr, chk: chk, st: st})
	deadlock.RegisterDeadlockServer(g, st.svr)
	hs := health.NewServer()
	hs.SetServingStatus("", healthpb.HealthCheckResponse_SERVING)
	healthpb.RegisterHealthServer(g, hs)

	mux := http.NewServeMux()
	registerRawView(mux, st, chk)
	go st.followSafePoint(*gcPoll)
	statusLis, err := listenOn(*statusAddr)
	if err != nil {
		log.Fatalf("unistore-server: status %s: %v", *statusAddr, err)
	}
	go func() { log.Fatal(http.Serve(statusLis, mux)) }()

	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGINT, syscall.SIGTERM)
	go func() {
		<-sig
		g.Stop()
		st.close()
		os.Exit(0)
	}()
	log.Printf("unistore-server: serving %s (advertised %s), raw view http://%s/raw, pd %s", *listen, *advertise, *statusAddr, *pdAddrs)
	if err := g.Serve(lis); err != nil {
		log.Fatalf("unistore-server: %v", err)
	}
}

func listenOn(addr string) (net.Listener, error) {
	if p, ok := strings.CutPrefix(addr, "unix:"); ok {
		_ = os.Remove(p)
		return net.Listen("unix", p)
	}
	return net.Listen("tcp", addr)
}
