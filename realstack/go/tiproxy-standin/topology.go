package main

// The etcd calls of TiProxy v1.4.0-nextgen.202510.0, issued with the etcd client module that
// version uses (go.etcd.io/etcd/client/v3 v3.5.15), written from TiProxy's behaviour:
//
//   client     pkg/util/etcd InitEtcdClient: endpoints = proxy.pd-addrs, AutoSyncInterval 30 s
//              (MemberList, then the endpoints become the members' client URLs), DialTimeout 5 s,
//              keepalive 10 s / 3 s
//   register   pkg/manager/infosync: a concurrency.Session with TTL 45 s; Put
//              /topology/tiproxy/<ip:port>/info (JSON) and .../ttl (unix nanos) with its lease,
//              again every 30 s; on close Delete("/topology/tiproxy", WithPrefix) and the
//              session's lease is revoked
//   discover   infosync GetTiDBTopology: Get("/topology/tidb/", WithPrefix) and, since TiProxy
//              PR #840 (not in v1.3.x), Get("/keyspaces/tidb/", WithPrefix), parsing
//              /keyspaces/tidb/<keyspace>/topology/tidb/<addr>/{info,ttl}; a TiDB counts only when
//              both info and ttl exist. TiProxy keeps the keyspace but routes by address alone.
//   elect      pkg/manager/elect (metric reader owner): concurrency.Election on
//              /tiproxy/metric_reader/owner (Txn, Range with sort and limit, Watch)
//   prometheus Get("/topology/prometheus", WithPrefix)

import (
	"context"
	"encoding/json"
	"fmt"
	"log"
	"strings"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	"go.etcd.io/etcd/client/v3/concurrency"
	"google.golang.org/grpc"
	"google.golang.org/grpc/backoff"
	"google.golang.org/grpc/keepalive"
)

const (
	tidbTopologyPath     = "/topology/tidb/"
	keyspaceTopologyPath = "/keyspaces/tidb/"
	tiproxyTopologyPath  = "/topology/tiproxy"
	ownerKey             = "/tiproxy/metric_reader/owner"
	sessionTTL           = 45
	refreshInterval      = 30 * time.Second
)

// tidbInfo is the JSON a tidb-server writes to /topology/tidb/<addr>/info (the fields used).
type tidbInfo struct {
	Version    string            `json:"version"`
	IP         string            `json:"ip"`
	StatusPort uint              `json:"status_port"`
	Labels     map[string]string `json:"labels"`
}

// discovered is one TiDB found in etcd: its address, the keyspace taken from the key's path
// ("" under /topology/tidb/), and the key as this client saw it.
type discovered struct {
	Key      string   `json:"key"`
	Keyspace string   `json:"keyspace"`
	Addr     string   `json:"addr"`
	Info     tidbInfo `json:"info"`
}

// tiproxyInfo is what TiProxy writes to /topology/tiproxy/<ip:port>/info (TiDB reads it for
// information_schema.cluster_info).
type tiproxyInfo struct {
	Version        string `json:"version"`
	GitHash        string `json:"git_hash"`
	IP             string `json:"ip"`
	Port           string `json:"port"`
	StatusPort     string `json:"status_port"`
	DeployPath     string `json:"deploy_path"`
	StartTimestamp int64  `json:"start_timestamp"`
}

func newEtcdClient(endpoints []string) (*clientv3.Client, error) {
	return clientv3.New(clientv3.Config{
		Endpoints:        endpoints,
		AutoSyncInterval: 30 * time.Second,
		DialTimeout:      5 * time.Second,
		DialOptions: []grpc.DialOption{
			grpc.WithKeepaliveParams(keepalive.ClientParameters{Time: 10 * time.Second, Timeout: 3 * time.Second}),
			grpc.WithConnectParams(grpc.ConnectParams{
				Backoff:           backoff.Config{BaseDelay: time.Second, Multiplier: 1.1, Jitter: 0.1, MaxDelay: 3 * time.Second},
				MinConnectTimeout: 3 * time.Second,
			}),
		},
	})
}

// fetchTopology reads the TiDBs in etcd the way TiProxy's GetTiDBTopology does.
func fetchTopology(ctx context.Context, cli *clientv3.Client) ([]discovered, error) {
	plain, err := cli.Get(ctx, tidbTopologyPath, clientv3.WithPrefix())
	if err != nil {
		return nil, fmt.Errorf("get %s: %w", tidbTopologyPath, err)
	}
	withKs, err := cli.Get(ctx, keyspaceTopologyPath, clientv3.WithPrefix())
	if err != nil {
		return nil, fmt.Errorf("get %s: %w", keyspaceTopologyPath, err)
	}
	infos := map[string]*discovered{}
	ttls := map[string]bool{}
	for _, kv := range append(plain.Kvs, withKs.Kvs...) {
		full := string(kv.Key)
		key, keyspace := full, ""
		if strings.HasPrefix(key, keyspaceTopologyPath) {
			rest := key[len(keyspaceTopologyPath):]
			slash := strings.Index(rest, "/")
			if slash <= 0 {
				continue
			}
			keyspace, key = rest[:slash], rest[slash:]
			if !strings.HasPrefix(key, tidbTopologyPath) {
				continue
			}
		}
		key = key[len(tidbTopologyPath):]
		switch {
		case strings.HasSuffix(key, "/ttl"):
			ttls[keyspace+"|"+strings.TrimSuffix(key, "/ttl")] = true
		case strings.HasSuffix(key, "/info"):
			addr := strings.TrimSuffix(key, "/info")
			d := &discovered{Key: full, Keyspace: keyspace, Addr: addr}
			if err := json.Unmarshal(kv.Value, &d.Info); err != nil {
				log.Printf("tiproxy-standin: %s: unreadable topology info: %v", full, err)
				continue
			}
			infos[keyspace+"|"+addr] = d
		}
	}
	out := make([]discovered, 0, len(infos))
	for k, d := range infos {
		if ttls[k] {
			out = append(out, *d)
		}
	}
	return out, nil
}

// registry keeps this proxy's /topology/tiproxy entry alive, as infosync does.
type registry struct {
	cli     *clientv3.Client
	info    tiproxyInfo
	session *concurrency.Session
}

func (r *registry) keys() (string, string) {
	base := fmt.Sprintf("%s/%s:%s", tiproxyTopologyPath, r.info.IP, r.info.Port)
	return base + "/info", base + "/ttl"
}

func (r *registry) put(ctx context.Context) error {
	if r.session == nil {
		s, err := concurrency.NewSession(r.cli, concurrency.WithTTL(sessionTTL), concurrency.WithContext(ctx))
		if err != nil {
			return fmt.Errorf("topology session: %w", err)
		}
		r.session = s
	}
	body, _ := json.Marshal(r.info)
	infoKey, ttlKey := r.keys()
	c, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	if _, err := r.cli.Put(c, infoKey, string(body), clientv3.WithLease(r.session.Lease())); err != nil {
		return fmt.Errorf("put %s: %w", infoKey, err)
	}
	if _, err := r.cli.Put(c, ttlKey, fmt.Sprint(time.Now().UnixNano()), clientv3.WithLease(r.session.Lease())); err != nil {
		return fmt.Errorf("put %s: %w", ttlKey, err)
	}
	return nil
}

// loop re-puts the entry every 30 s and starts a new session when the old one ends.
func (r *registry) loop(ctx context.Context) {
	t := time.NewTicker(refreshInterval)
	defer t.Stop()
	for {
		var done <-chan struct{}
		if r.session != nil {
			done = r.session.Done()
		}
		select {
		case <-ctx.Done():
			return
		case <-done:
			log.Printf("tiproxy-standin: topology session ended; starting a new one")
			r.session = nil
		case <-t.C:
		}
		if err := r.put(ctx); err != nil {
			log.Printf("tiproxy-standin: %v", err)
		}
	}
}

// remove is TiProxy's removeTopology: the whole /topology/tiproxy prefix, then the lease.
func (r *registry) remove() {
	c, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	if _, err := r.cli.Delete(c, tiproxyTopologyPath, clientv3.WithPrefix()); err != nil {
		log.Printf("tiproxy-standin: delete %s: %v", tiproxyTopologyPath, err)
	}
	if r.session != nil {
		_ = r.session.Close()
	}
}

// campaign runs the metric-reader owner election once this proxy's own session exists, and
// watches the owner key, as pkg/manager/elect does. It reports its state through owner().
func campaign(ctx context.Context, cli *clientv3.Client, id string, state func(string)) {
	for ctx.Err() == nil {
		s, err := concurrency.NewSession(cli, concurrency.WithTTL(sessionTTL), concurrency.WithContext(ctx))
		if err != nil {
			state("error: " + err.Error())
			time.Sleep(time.Second)
			continue
		}
		e := concurrency.NewElection(s, ownerKey)
		if err := e.Campaign(ctx, id); err != nil {
			state("error: " + err.Error())
			_ = s.Close()
			time.Sleep(time.Second)
			continue
		}
		state("owner")
		w := cli.Watch(ctx, e.Key())
		select {
		case <-ctx.Done():
		case <-s.Done():
		case <-w:
		}
		state("retired")
		_ = s.Close()
	}
}
