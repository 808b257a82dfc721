package main

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"reflect"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/pingcap/kvproto/pkg/kvrpcpb"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// checker sees every request (unary, and each BatchCommands sub-command). With
// -require-keyspace=v2 it refuses a request whose kvrpcpb.Context lacks api_version=V2 and a
// keyspace id, or whose key fields fall outside [x+id, x+(id+1)]: unistore itself ignores
// both, so without this a filter that forgot a field would still "work". With -capture it
// writes what reached storage, for comparison with TiDB's own keyspace mode.
type checker struct {
	strict   bool
	mu       sync.Mutex
	out      *os.File
	refused  atomic.Int64
	requests atomic.Int64
}

func newChecker(mode, capture string) *checker {
	c := &checker{strict: mode == "v2"}
	if mode != "" && mode != "v2" {
		panic("unistore-server: -require-keyspace takes '' or 'v2'")
	}
	if capture != "" {
		f, err := os.OpenFile(capture, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
		if err != nil {
			panic(err)
		}
		c.out = f
	}
	return c
}

func (c *checker) unary(ctx context.Context, req any, info *grpc.UnaryServerInfo, h grpc.UnaryHandler) (any, error) {
	m := info.FullMethod[strings.LastIndex(info.FullMethod, "/")+1:]
	if strings.HasPrefix(info.FullMethod, "/tikvpb.Tikv/") {
		if err := c.check(m, req); err != nil {
			return nil, status.Error(codes.FailedPrecondition, err.Error())
		}
	}
	return h(ctx, req)
}

type captured struct {
	Method  string            `json:"method"`
	Context map[string]string `json:"context,omitempty"`
	Keys    map[string]string `json:"keys,omitempty"`
}

// keyFieldNames are the []byte fields (at any depth) that hold keys in kvrpcpb and
// coprocessor requests; values and opaque payloads (Value, Data, ...) are not keys.
func isKeyField(name string) bool {
	return strings.Contains(name, "Key") || name == "Primary" || name == "PrimaryLock" || name == "Secondaries"
}

func (c *checker) check(method string, req any) error {
	c.requests.Add(1)
	rec := captured{Method: method, Keys: map[string]string{}}
	var kctx *kvrpcpb.Context
	if g, ok := req.(interface{ GetContext() *kvrpcpb.Context }); ok {
		kctx = g.GetContext()
		rec.Context = contextFields(kctx)
	}
	collectKeys(reflect.ValueOf(req), "", rec.Keys)
	if c.out != nil {
		line, _ := json.Marshal(rec)
		c.mu.Lock()
		c.out.Write(append(line, '\n'))
		c.mu.Unlock()
	}
	if !c.strict {
		return nil
	}
	err := strictCheck(kctx, rec.Keys)
	if err != nil {
		c.refused.Add(1)
		return fmt.Errorf("unistore strict keyspace check: %s: %v", method, err)
	}
	return nil
}

func strictCheck(kctx *kvrpcpb.Context, keys map[string]string) error {
	if kctx == nil {
		return nil // requests without a Context (e.g. GetStoreSafeTS) carry no keyspace
	}
	if kctx.ApiVersion != kvrpcpb.APIVersion_V2 {
		return fmt.Errorf("api_version %v, want V2", kctx.ApiVersion)
	}
	if kctx.KeyspaceId == 0 {
		return fmt.Errorf("keyspace_id is 0")
	}
	// A key of keyspace id lies in its txn range [x‖id, x‖id+1] or its raw range [r‖id, r‖id+1]
	// (both ends included: an exclusive end key is the next keyspace's first key).
	inside := func(k []byte, mode byte) bool {
		lo, hi := make([]byte, 4), make([]byte, 4)
		binary.BigEndian.PutUint32(lo, kctx.KeyspaceId)
		binary.BigEndian.PutUint32(hi, kctx.KeyspaceId+1)
		lo[0], hi[0] = mode, mode
		return bytes.Compare(k, lo) >= 0 && bytes.Compare(k, hi) <= 0
	}
	for path, h := range keys {
		k, _ := hex.DecodeString(h)
		if len(k) == 0 {
			continue
		}
		if !inside(k, 'x') && !inside(k, 'r') {
			return fmt.Errorf("%s=%s is outside keyspace %d", path, h, kctx.KeyspaceId)
		}
	}
	return nil
}

// contextFields lists the Context fields that are set, as text (for the comparison report).
func contextFields(k *kvrpcpb.Context) map[string]string {
	out := map[string]string{}
	if k == nil {
		return out
	}
	v := reflect.ValueOf(k).Elem()
	for i := 0; i < v.NumField(); i++ {
		f, name := v.Field(i), v.Type().Field(i).Name
		if strings.HasPrefix(name, "XXX_") || f.IsZero() {
			continue
		}
		switch f.Kind() {
		case reflect.Ptr, reflect.Slice, reflect.Struct, reflect.Map:
			out[name] = "set"
		default:
			out[name] = fmt.Sprint(f.Interface())
		}
	}
	return out
}

// collectKeys walks a request and records every key field as path -> hex.
func collectKeys(v reflect.Value, path string, out map[string]string) {
	switch v.Kind() {
	case reflect.Ptr, reflect.Interface:
		if !v.IsNil() {
			collectKeys(v.Elem(), path, out)
		}
	case reflect.Struct:
		for i := 0; i < v.NumField(); i++ {
			sf := v.Type().Field(i)
			if !sf.IsExported() || strings.HasPrefix(sf.Name, "XXX_") || sf.Name == "Context" {
				continue
			}
			f, p := v.Field(i), join(path, sf.Name)
			switch {
			case f.Kind() == reflect.Slice && f.Type().Elem().Kind() == reflect.Uint8:
				if isKeyField(sf.Name) && f.Len() > 0 {
					out[p] = hex.EncodeToString(f.Bytes())
				}
			case f.Kind() == reflect.Slice && f.Type().Elem().Kind() == reflect.Slice && f.Type().Elem().Elem().Kind() == reflect.Uint8:
				if isKeyField(sf.Name) {
					for j := 0; j < f.Len(); j++ {
						out[fmt.Sprintf("%s[%d]", p, j)] = hex.EncodeToString(f.Index(j).Bytes())
					}
				}
			case f.Kind() == reflect.Slice:
				for j := 0; j < f.Len(); j++ {
					collectKeys(f.Index(j), fmt.Sprintf("%s[%d]", p, j), out)
				}
			default:
				collectKeys(f, p, out)
			}
		}
	}
}

func join(a, b string) string {
	if a == "" {
		return b
	}
	return a + "." + b
}
