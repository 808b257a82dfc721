//go:build tools

// Package tidbserver only pins tidb-server's main package so `go build` can name it.
package tidbserver

import _ "github.com/pingcap/tidb/cmd/tidb-server"
