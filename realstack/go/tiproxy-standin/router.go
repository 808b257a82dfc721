package main

// Routing, as TiProxy decides it per connection: backends are the discovered TiDBs keyed by
// address (TiProxy's map[addr]); a backend is healthy when its status port answers GET /status
// with 200 and its SQL port sends a handshake (observer/health_check.go checks both); with
// balance.label-name set, only backends whose label equals this proxy's own value are
// routable (factor/factor_label.go). A new connection goes to the routable backend with the
// fewest connections (ties in turn). Unlike TiProxy, bytes are then copied as they are: no
// session migration, no MySQL protocol inside.

import (
	"context"
	"encoding/binary"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"sort"
	"sync"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
)

type backend struct {
	Addr        string            `json:"addr"`
	Keyspace    string            `json:"keyspace"`
	Labels      map[string]string `json:"labels"`
	Healthy     bool              `json:"healthy"`
	Routable    bool              `json:"routable"`
	Connections int               `json:"connections"`
	Error       string            `json:"error,omitempty"`
	statusAddr  string
}

type router struct {
	labelName string
	self      map[string]string

	mu         sync.Mutex
	backends   map[string]*backend
	conns      map[string]int // open connections by backend address (outlive refreshes)
	discovered []discovered
	fetchErr   string
	turn       int
}

func (r *router) routable(b *backend) bool {
	if !b.Healthy {
		return false
	}
	want := r.self[r.labelName]
	return r.labelName == "" || want == "" || b.Labels[r.labelName] == want
}

func checkHealth(b *backend) {
	c := http.Client{Timeout: 2 * time.Second}
	resp, err := c.Get("http://" + b.statusAddr + "/status")
	if err == nil {
		resp.Body.Close()
		if resp.StatusCode != 200 {
			err = fmt.Errorf("status port answered %d", resp.StatusCode)
		}
	}
	if err == nil {
		var conn net.Conn
		conn, err = net.DialTimeout("tcp", b.Addr, 2*time.Second)
		if err == nil {
			_ = conn.SetReadDeadline(time.Now().Add(2 * time.Second))
			_, err = io.ReadFull(conn, make([]byte, 4))
			conn.Close()
		}
	}
	b.Healthy = err == nil
	if err != nil {
		b.Error = err.Error()
	}
}

// refresh re-reads the topology and re-checks every backend (one TiProxy health-check round).
func (r *router) refresh(ctx context.Context, cli *clientv3.Client) {
	c, cancel := context.WithTimeout(ctx, 5*time.Second)
	found, err := fetchTopology(c, cli)
	cancel()
	if err != nil {
		r.mu.Lock()
		r.fetchErr = err.Error()
		r.mu.Unlock()
		log.Printf("tiproxy-standin: fetch backend list failed: %v", err)
		return
	}
	next := map[string]*backend{}
	for _, d := range found {
		b := &backend{Addr: d.Addr, Keyspace: d.Keyspace, Labels: d.Info.Labels, statusAddr: fmt.Sprintf("%s:%d", d.Info.IP, d.Info.StatusPort)}
		checkHealth(b)
		next[d.Addr] = b
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	for addr, b := range next {
		b.Routable = r.routable(b)
		if old := r.backends[addr]; old != nil {
			if old.Healthy != b.Healthy {
				log.Printf("tiproxy-standin: backend %s healthy=%v %s", addr, b.Healthy, b.Error)
			}
		} else {
			log.Printf("tiproxy-standin: backend %s added (keyspace %q, healthy=%v, routable=%v)", addr, b.Keyspace, b.Healthy, b.Routable)
		}
	}
	for addr := range r.backends {
		if next[addr] == nil {
			log.Printf("tiproxy-standin: backend %s removed", addr)
		}
	}
	r.backends, r.discovered, r.fetchErr = next, found, ""
}

func (r *router) pick() *backend {
	r.mu.Lock()
	defer r.mu.Unlock()
	var cands []*backend
	for _, b := range r.backends {
		if b.Routable {
			cands = append(cands, b)
		}
	}
	if len(cands) == 0 {
		return nil
	}
	sort.Slice(cands, func(i, j int) bool { return cands[i].Addr < cands[j].Addr })
	least := r.conns[cands[0].Addr]
	for _, b := range cands {
		if r.conns[b.Addr] < least {
			least = r.conns[b.Addr]
		}
	}
	var ties []*backend
	for _, b := range cands {
		if r.conns[b.Addr] == least {
			ties = append(ties, b)
		}
	}
	r.turn++
	b := ties[r.turn%len(ties)]
	r.conns[b.Addr]++
	return b
}

func (r *router) release(b *backend) {
	r.mu.Lock()
	r.conns[b.Addr]--
	r.mu.Unlock()
}

// errPacket is a MySQL ERR packet (sequence 0), what a client gets instead of a handshake.
func errPacket(code uint16, msg string) []byte {
	payload := append([]byte{0xff, byte(code), byte(code >> 8), '#'}, []byte("HY000"+msg)...)
	hdr := make([]byte, 4)
	binary.LittleEndian.PutUint32(hdr, uint32(len(payload)))
	hdr[3] = 0
	return append(hdr, payload...)
}

func (r *router) serve(client net.Conn) {
	defer client.Close()
	b := r.pick()
	if b == nil {
		_, _ = client.Write(errPacket(1105, "tiproxy-standin: no available TiDB"))
		return
	}
	defer r.release(b)
	server, err := net.DialTimeout("tcp", b.Addr, 5*time.Second)
	if err != nil {
		_, _ = client.Write(errPacket(1105, "tiproxy-standin: connect "+b.Addr+": "+err.Error()))
		return
	}
	defer server.Close()
	done := make(chan struct{}, 2)
	go func() { _, _ = io.Copy(server, client); done <- struct{}{} }()
	go func() { _, _ = io.Copy(client, server); done <- struct{}{} }()
	<-done
}

// state is the JSON of GET /api/backends.
func (r *router) state(extra map[string]any) map[string]any {
	r.mu.Lock()
	defer r.mu.Unlock()
	list := make([]*backend, 0, len(r.backends))
	for _, b := range r.backends {
		b.Connections = r.conns[b.Addr]
		list = append(list, b)
	}
	sort.Slice(list, func(i, j int) bool { return list[i].Addr < list[j].Addr })
	disc := append([]discovered(nil), r.discovered...)
	sort.Slice(disc, func(i, j int) bool { return disc[i].Key < disc[j].Key })
	out := map[string]any{"labelName": r.labelName, "labels": r.self, "backends": list, "discovered": disc, "fetchError": r.fetchErr}
	for k, v := range extra {
		out[k] = v
	}
	return out
}
