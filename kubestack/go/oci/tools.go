//go:build tools

// Pins the registry server and the oras CLI (built by kubestack/build.sh from this module).
package tools

import (
	_ "github.com/distribution/distribution/v3/cmd/registry"
	_ "oras.land/oras/cmd/oras"
)
