// TiProxy's etcd traffic, not TiProxy. Every released github.com/pingcap/tiproxy (v1.3.0 ...
// v1.4.0-nextgen.202510.7) requires github.com/pingcap/tiproxy/lib through `replace => ./lib`;
// a module zip leaves that nested module out and the Go module proxy refuses every version of
// github.com/pingcap/tiproxy/lib, so no TiProxy can be built from the proxy (docs/tiproxy.md).
// This program issues the etcd calls of TiProxy v1.4.0-nextgen.202510.0 with the same etcd
// client module and routes SQL connections to the TiDBs it discovers (see main.go).
module tidbmesh.local/realstack/tiproxy-standin

go 1.23.12

require (
	go.etcd.io/etcd/client/v3 v3.5.15
	google.golang.org/grpc v1.63.2
)

require (
	github.com/coreos/go-semver v0.3.0 // indirect
	github.com/coreos/go-systemd/v22 v22.3.2 // indirect
	github.com/gogo/protobuf v1.3.2 // indirect
	github.com/golang/protobuf v1.5.4 // indirect
	go.etcd.io/etcd/api/v3 v3.5.15 // indirect
	go.etcd.io/etcd/client/pkg/v3 v3.5.15 // indirect
	go.uber.org/atomic v1.7.0 // indirect
	go.uber.org/multierr v1.6.0 // indirect
	go.uber.org/zap v1.17.0 // indirect
	golang.org/x/net v0.23.0 // indirect
	golang.org/x/sys v0.18.0 // indirect
	golang.org/x/text v0.14.0 // indirect
	google.golang.org/genproto v0.0.0-20240227224415-6ceb2ff114de // indirect
	google.golang.org/genproto/googleapis/api v0.0.0-20240227224415-6ceb2ff114de // indirect
	google.golang.org/genproto/googleapis/rpc v0.0.0-20240227224415-6ceb2ff114de // indirect
	google.golang.org/protobuf v1.33.0 // indirect
)
