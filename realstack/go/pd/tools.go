//go:build tools

// Package pd only pins pd-server's main package so `go build` can name it.
package pd

import _ "github.com/tikv/pd/cmd/pd-server"
