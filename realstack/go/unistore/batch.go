package main

import (
	"context"
	"fmt"
	"io"
	"log"
	"reflect"
	"runtime/debug"
	"sync"

	"github.com/pingcap/kvproto/pkg/errorpb"
	"github.com/pingcap/kvproto/pkg/tikvpb"
	"github.com/pingcap/tidb/pkg/store/mockstore/unistore/tikv"
)

// tikvService is unistore's tikvpb.Tikv with our own BatchCommands. Unistore's answers nil
// for several command types and cannot recover a panic in its per-request goroutines, which
// kills the whole store; a real TiKV always answers each request id with the matching type.
type tikvService struct {
	*tikv.Server
	chk *checker
	st  *store
}

// BatchCommands calls the unary handler of each sub-command (so the strict check and the
// capture see it exactly as a unary call) and answers every request id.
func (s *tikvService) BatchCommands(stream tikvpb.Tikv_BatchCommandsServer) error {
	var mu sync.Mutex
	send := func(id uint64, r *tikvpb.BatchCommandsResponse_Response) error {
		mu.Lock()
		defer mu.Unlock()
		return stream.Send(&tikvpb.BatchCommandsResponse{Responses: []*tikvpb.BatchCommandsResponse_Response{r}, RequestIds: []uint64{id}})
	}
	ctx := stream.Context()
	for {
		batch, err := stream.Recv()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
		for i, req := range batch.GetRequests() {
			id := batch.GetRequestIds()[i]
			go func() {
				if err := send(id, s.dispatch(ctx, req)); err != nil {
					log.Printf("unistore-server: BatchCommands send: %v", err)
				}
			}()
		}
	}
}

// call runs one unary handler through the checker; a panic or an error becomes a response
// of the right type carrying a region error, which client-go retries or reports.
func call[Req any, Resp any](s *tikvService, ctx context.Context, method string, h func(context.Context, Req) (Resp, error), req Req) (out Resp) {
	defer func() {
		if p := recover(); p != nil {
			log.Printf("unistore-server: %s panicked: %v\n%s", method, p, debug.Stack())
			out = errorResponse[Resp](fmt.Sprintf("unistore: %s panicked: %v", method, p))
		}
	}()
	if err := s.chk.check(method, req); err != nil {
		return errorResponse[Resp](err.Error())
	}
	r, err := h(ctx, req)
	if err != nil || reflect.ValueOf(&r).Elem().IsNil() {
		msg := fmt.Sprintf("unistore: %s answered nothing", method)
		if err != nil {
			msg = fmt.Sprintf("unistore: %s: %v", method, err)
		}
		return errorResponse[Resp](msg)
	}
	return r
}

// errorResponse builds a new *T with RegionError set, when T has one.
func errorResponse[Resp any](msg string) Resp {
	var zero Resp
	t := reflect.TypeOf(zero).Elem()
	v := reflect.New(t)
	if f := v.Elem().FieldByName("RegionError"); f.IsValid() {
		f.Set(reflect.ValueOf(&errorpb.Error{Message: msg}))
	}
	return v.Interface().(Resp)
}

func (s *tikvService) dispatch(ctx context.Context, req *tikvpb.BatchCommandsRequest_Request) *tikvpb.BatchCommandsResponse_Response {
	type R = tikvpb.BatchCommandsResponse_Response
	switch c := req.GetCmd().(type) {
	case *tikvpb.BatchCommandsRequest_Request_Get:
		return &R{Cmd: &tikvpb.BatchCommandsResponse_Response_Get{Get: call(s, ctx, "KvGet", s.KvGet, c.Get)}}
	case *tikvpb.BatchCommandsRequest_Request_Scan:
		return &R{Cmd: &tikvpb.BatchCommandsResponse_Response_Scan{Scan: call(s, ctx, "KvScan", s.KvScan, c.Scan)}}
	case *tikvpb.BatchCommandsRequest_Request_Prewrite:
		return &R{Cmd: &tikvpb.BatchCommandsResponse_Response_Prewrite{Prewrite: call(s, ctx, "KvPrewrite", s.KvPrewrite, c.Prewrite)}}
	case *tikvpb.BatchCommandsRequest_Request_Commit:
		return &R{Cmd: &tikvpb.BatchCommandsResponse_Response_Commit{Commit: call(s, ctx, "KvCommit", s.KvCommit, c.Commit)}}
	case *tikvpb.BatchCommandsRequest_Request_Import:
		return &R{Cmd: &tikvpb.BatchCommandsResponse_Response_Import{Import: call(s, ctx, "KvImport", s.KvImport, c.Import)}}
	case *tikvpb.BatchCommandsRequest_Request_Cleanup:
		return &R{Cmd: &tikvpb.BatchCommandsResponse_Response_Cleanup{Cleanup: call(s, ctx, "KvCleanup", s.KvCleanup, c.Cleanup)}}
	case *tikvpb.BatchCommandsRequest_Request_BatchGet:
		return &R{Cmd: &tikvpb.BatchCommandsResponse_Response_BatchGet{BatchGet: call(s, ctx, "KvBatchGet", s.KvBatchGet, c.BatchGet)}}
	case *tikvpb.BatchCommandsRequest_Request_BatchRollback:
		return &R{Cmd: &tikvpb.BatchCommandsResponse_Response_BatchRollback{BatchRollback: call(s, ctx, "KvBatchRollback", s.KvBatchRollback, c.BatchRollback)}}
	case *tikvpb.BatchCommandsRequest_Request_ScanLock:
		return &R{Cmd: &tikvpb.BatchCommandsResponse_Response_ScanLock{ScanLock: call(s, ctx, "KvScanLock", s.KvScanLock, c.ScanLock)}}
	case *tikvpb.BatchCommandsRequest_Request_ResolveLock:
		return &R{Cmd: &tikvpb.BatchCommandsResponse_Response_ResolveLock{ResolveLock: call(s, ctx, "KvResolveLock", s.KvResolveLock, c.ResolveLock)}}
	case *tikvpb.BatchCommandsRequest_Request_GC:
		return &R{Cmd: &tikvpb.BatchCommandsResponse_Response_GC{GC: call(s, ctx, "KvGC", s.KvGC, c.GC)}}
	case *tikvpb.BatchCommandsRequest_Request_DeleteRange:
		return &R{Cmd: &tikvpb.BatchCommandsResponse_Response_DeleteRange{DeleteRange: call(s, ctx, "KvDeleteRange", s.KvDeleteRange, c.DeleteRange)}}
	case *tikvpb.BatchCommandsRequest_Request_RawGet:
		return &R{Cmd: &tikvpb.BatchCommandsResponse_Response_RawGet{RawGet: call(s, ctx, "RawGet", s.RawGet, c.RawGet)}}
	case *tikvpb.BatchCommandsRequest_Request_RawBatchGet:
		return &R{Cmd: &tikvpb.BatchCommandsResponse_Response_RawBatchGet{RawBatchGet: call(s, ctx, "RawBatchGet", s.RawBatchGet, c.RawBatchGet)}}
	case *tikvpb.BatchCommandsRequest_Request_RawPut:
		return &R{Cmd: &tikvpb.BatchCommandsResponse_Response_RawPut{RawPut: call(s, ctx, "RawPut", s.RawPut, c.RawPut)}}
	case *tikvpb.BatchCommandsRequest_Request_RawBatchPut:
		return &R{Cmd: &tikvpb.BatchCommandsResponse_Response_RawBatchPut{RawBatchPut: call(s, ctx, "RawBatchPut", s.RawBatchPut, c.RawBatchPut)}}
	case *tikvpb.BatchCommandsRequest_Request_RawDelete:
		return &R{Cmd: &tikvpb.BatchCommandsResponse_Response_RawDelete{RawDelete: call(s, ctx, "RawDelete", s.RawDelete, c.RawDelete)}}
	case *tikvpb.BatchCommandsRequest_Request_RawBatchDelete:
		return &R{Cmd: &tikvpb.BatchCommandsResponse_Response_RawBatchDelete{RawBatchDelete: call(s, ctx, "RawBatchDelete", s.RawBatchDelete, c.RawBatchDelete)}}
	case *tikvpb.BatchCommandsRequest_Request_RawScan:
		return &R{Cmd: &tikvpb.BatchCommandsResponse_Response_RawScan{RawScan: call(s, ctx, "RawScan", s.RawScan, c.RawScan)}}
	case *tikvpb.BatchCommandsRequest_Request_RawDeleteRange:
		return &R{Cmd: &tikvpb.BatchCommandsResponse_Response_RawDeleteRange{RawDeleteRange: call(s, ctx, "RawDeleteRange", s.RawDeleteRange, c.RawDeleteRange)}}
	case *tikvpb.BatchCommandsRequest_Request_RawBatchScan:
		return &R{Cmd: &tikvpb.BatchCommandsResponse_Response_RawBatchScan{RawBatchScan: call(s, ctx, "RawBatchScan", s.RawBatchScan, c.RawBatchScan)}}
	case *tikvpb.BatchCommandsRequest_Request_Coprocessor:
		return &R{Cmd: &tikvpb.BatchCommandsResponse_Response_Coprocessor{Coprocessor: call(s, ctx, "Coprocessor", s.Coprocessor, c.Coprocessor)}}
	case *tikvpb.BatchCommandsRequest_Request_PessimisticLock:
		return &R{Cmd: &tikvpb.BatchCommandsResponse_Response_PessimisticLock{PessimisticLock: call(s, ctx, "KvPessimisticLock", s.KvPessimisticLock, c.PessimisticLock)}}
	case *tikvpb.BatchCommandsRequest_Request_PessimisticRollback:
		return &R{Cmd: &tikvpb.BatchCommandsResponse_Response_PessimisticRollback{PessimisticRollback: call(s, ctx, "KVPessimisticRollback", s.KVPessimisticRollback, c.PessimisticRollback)}}
	case *tikvpb.BatchCommandsRequest_Request_CheckTxnStatus:
		return &R{Cmd: &tikvpb.BatchCommandsResponse_Response_CheckTxnStatus{CheckTxnStatus: call(s, ctx, "KvCheckTxnStatus", s.KvCheckTxnStatus, c.CheckTxnStatus)}}
	case *tikvpb.BatchCommandsRequest_Request_TxnHeartBeat:
		return &R{Cmd: &tikvpb.BatchCommandsResponse_Response_TxnHeartBeat{TxnHeartBeat: call(s, ctx, "KvTxnHeartBeat", s.KvTxnHeartBeat, c.TxnHeartBeat)}}
	case *tikvpb.BatchCommandsRequest_Request_CheckSecondaryLocks:
		return &R{Cmd: &tikvpb.BatchCommandsResponse_Response_CheckSecondaryLocks{CheckSecondaryLocks: call(s, ctx, "KvCheckSecondaryLocks", s.KvCheckSecondaryLocks, c.CheckSecondaryLocks)}}
	case *tikvpb.BatchCommandsRequest_Request_RawCoprocessor:
		return &R{Cmd: &tikvpb.BatchCommandsResponse_Response_RawCoprocessor{RawCoprocessor: call(s, ctx, "RawCoprocessor", s.RawCoprocessor, c.RawCoprocessor)}}
	case *tikvpb.BatchCommandsRequest_Request_FlashbackToVersion:
		return &R{Cmd: &tikvpb.BatchCommandsResponse_Response_FlashbackToVersion{FlashbackToVersion: call(s, ctx, "KvFlashbackToVersion", s.KvFlashbackToVersion, c.FlashbackToVersion)}}
	case *tikvpb.BatchCommandsRequest_Request_PrepareFlashbackToVersion:
		return &R{Cmd: &tikvpb.BatchCommandsResponse_Response_PrepareFlashbackToVersion{PrepareFlashbackToVersion: call(s, ctx, "KvPrepareFlashbackToVersion", s.KvPrepareFlashbackToVersion, c.PrepareFlashbackToVersion)}}
	case *tikvpb.BatchCommandsRequest_Request_Flush:
		return &R{Cmd: &tikvpb.BatchCommandsResponse_Response_Flush{Flush: call(s, ctx, "KvFlush", s.KvFlush, c.Flush)}}
	case *tikvpb.BatchCommandsRequest_Request_BufferBatchGet:
		return &R{Cmd: &tikvpb.BatchCommandsResponse_Response_BufferBatchGet{BufferBatchGet: call(s, ctx, "KvBufferBatchGet", s.KvBufferBatchGet, c.BufferBatchGet)}}
	case *tikvpb.BatchCommandsRequest_Request_GetHealthFeedback:
		return &R{Cmd: &tikvpb.BatchCommandsResponse_Response_GetHealthFeedback{GetHealthFeedback: call(s, ctx, "GetHealthFeedback", s.GetHealthFeedback, c.GetHealthFeedback)}}
	case *tikvpb.BatchCommandsRequest_Request_BroadcastTxnStatus:
		return &R{Cmd: &tikvpb.BatchCommandsResponse_Response_BroadcastTxnStatus{BroadcastTxnStatus: call(s, ctx, "BroadcastTxnStatus", s.BroadcastTxnStatus, c.BroadcastTxnStatus)}}
	case *tikvpb.BatchCommandsRequest_Request_Empty:
		return &R{Cmd: &tikvpb.BatchCommandsResponse_Response_Empty{Empty: &tikvpb.BatchCommandsEmptyResponse{TestId: c.Empty.GetTestId()}}}
	default:
		log.Printf("unistore-server: BatchCommands: unknown command %T", c)
		return &R{}
	}
}
