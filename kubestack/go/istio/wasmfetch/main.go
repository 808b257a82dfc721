// wasm-fetch: pulls a WasmPlugin's module the way istio-agent does, with Istio's own code.
//
// istiod turns a WasmPlugin into an ECDS TypedExtensionConfig whose Wasm vm_config.code is
// remote{http_uri{uri: spec.url, cluster "_", timeout 30s}, sha256: spec.sha256} and whose
// environment carries the pull policy, pull secret (the docker config JSON of
// spec.imagePullSecret) and resource version (pilot/pkg/model/extensions.go buildDataSource,
// buildVMConfig). istio-agent hands every ECDS resource to pkg/wasm
// MaybeConvertWasmExtensionConfig, which fetches through a LocalFileCache (OCI images with
// go-containerregistry, checking `sha256` against the image manifest digest; http(s) modules
// against the module's own sha256) and rewrites the code to a local file, or, when the fetch
// fails, substitutes a deny-all RBAC filter (fail closed).
//
// This program builds that same resource from the flags, runs the same conversion, and copies
// the module Envoy would load to -o. Exit 0: fetched; exit 1: the agent would have installed
// the deny-all filter (the error is printed); exit 2: usage.
//
//	wasm-fetch -url oci://127.0.0.1:5000/tidb-mesh:0.1.0 -sha256 HEX [-pull-policy IfNotPresent]
//	           [-pull-secret docker-config.json] [-insecure-registries 127.0.0.1:5000] -cache DIR -o FILE
package main

import (
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	core "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	httpwasm "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/wasm/v3"
	wasmext "github.com/envoyproxy/go-control-plane/envoy/extensions/wasm/v3"
	"google.golang.org/protobuf/types/known/anypb"
	"google.golang.org/protobuf/types/known/durationpb"

	"istio.io/istio/pilot/pkg/model"
	"istio.io/istio/pkg/util/sets"
	"istio.io/istio/pkg/wasm"
)

func main() {
	url := flag.String("url", "", "WasmPlugin spec.url (oci://, https://, http://)")
	sha := flag.String("sha256", "", "WasmPlugin spec.sha256")
	policy := flag.String("pull-policy", "", "WasmPlugin spec.imagePullPolicy (IfNotPresent, Always)")
	secret := flag.String("pull-secret", "", "docker config JSON file: the contents of spec.imagePullSecret")
	insecure := flag.String("insecure-registries", "", "comma-separated hosts (the agent's WASM_INSECURE_REGISTRIES)")
	cacheDir := flag.String("cache", "", "module cache directory (the agent's)")
	out := flag.String("o", "", "write the fetched module here")
	flag.Parse()
	if *url == "" || *cacheDir == "" || *out == "" {
		fmt.Fprintln(os.Stderr, "usage: wasm-fetch -url URL -sha256 HEX -cache DIR -o FILE [-pull-policy P] [-pull-secret F] [-insecure-registries H]")
		os.Exit(2)
	}

	env := map[string]string{model.WasmResourceVersionEnv: "1"}
	if *policy != "" {
		env[model.WasmPolicyEnv] = *policy
	}
	if *secret != "" {
		b, err := os.ReadFile(*secret)
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(2)
		}
		env[model.WasmSecretEnv] = string(b)
	}
	filter := &httpwasm.Wasm{Config: &wasmext.PluginConfig{
		Name:   "tidb-mesh/tidb.tidb-mesh",
		RootId: "tidb-mesh",
		Vm: &wasmext.PluginConfig_VmConfig{VmConfig: &wasmext.VmConfig{
			Runtime: "envoy.wasm.runtime.v8",
			Code: &core.AsyncDataSource{Specifier: &core.AsyncDataSource_Remote{Remote: &core.RemoteDataSource{
				HttpUri: &core.HttpUri{Uri: *url, Timeout: durationpb.New(30 * time.Second), HttpUpstreamType: &core.HttpUri_Cluster{Cluster: "_"}},
				Sha256:  *sha,
			}}},
			EnvironmentVariables: &wasmext.EnvironmentVariables{KeyValues: env},
		}},
	}}
	typed, err := anypb.New(filter)
	must(err)
	ec, err := anypb.New(&core.TypedExtensionConfig{Name: "extensions.istio.io/wasmplugin/tidb.tidb-mesh", TypedConfig: typed})
	must(err)

	hosts := sets.New[string]()
	for _, h := range strings.Split(*insecure, ",") {
		if h != "" {
			hosts.Insert(h)
		}
	}
	cache := wasm.NewLocalFileCache(*cacheDir, wasm.Options{InsecureRegistries: hosts})
	defer cache.Cleanup()
	resources := []*anypb.Any{ec}
	if err := wasm.MaybeConvertWasmExtensionConfig(resources, cache); err != nil {
		fmt.Fprintf(os.Stderr, "wasm-fetch: conversion failed: %v\n", err)
		os.Exit(1)
	}

	var got core.TypedExtensionConfig
	must(resources[0].UnmarshalTo(&got))
	var w httpwasm.Wasm
	if err := got.TypedConfig.UnmarshalTo(&w); err != nil {
		// Not a Wasm filter any more: the agent replaced it with its deny-all RBAC filter.
		fmt.Fprintf(os.Stderr, "wasm-fetch: REFUSED: the agent installed %s instead of the module (see the wasm log line above)\n", got.TypedConfig.TypeUrl)
		os.Exit(1)
	}
	local := w.GetConfig().GetVmConfig().GetCode().GetLocal().GetFilename()
	if local == "" {
		fmt.Fprintln(os.Stderr, "wasm-fetch: the converted config has no local file")
		os.Exit(1)
	}
	src, err := os.Open(local)
	must(err)
	defer src.Close()
	dst, err := os.Create(*out)
	must(err)
	_, err = io.Copy(dst, src)
	must(err)
	must(dst.Close())
	fmt.Printf("fetched %s -> %s (agent cache file %s)\n", *url, *out, local)
}

func must(err error) {
	if err != nil {
		fmt.Fprintln(os.Stderr, "wasm-fetch:", err)
		os.Exit(1)
	}
}
