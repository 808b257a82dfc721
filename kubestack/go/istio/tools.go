//go:build tools

// Pins istioctl (built by kubestack/build.sh from this module).
package tools

import _ "istio.io/istio/istioctl/cmd/istioctl"
