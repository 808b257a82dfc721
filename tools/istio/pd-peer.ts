// The pd-peer remedy (tidb-operator v1 only).
//
// Problem: TiDB reaches the PD leader at <pod>.<tc>-pd-peer.<ns>.svc:2379, and the operator names
// that port of the headless <tc>-pd-peer Service `tcp-peer-2379`. Istio derives the protocol from
// appProtocol, else from the port name (istio/istio pkg/config/kube/conversion.go,
// ConvertProtocol), so it installs a TCP proxy for that traffic and the HTTP WASM filter never runs.
//
// Remedy: `appProtocol: grpc` on that one port, and nothing else. The Service belongs to
// tidb-operator: it creates it, and its sync (pd_member_manager.go) replaces the whole spec when
// the spec it wants differs from the copy it keeps in the `pingcap.com/last-applied-configuration`
// annotation (controller.ServiceEqual) or the labels differ from its own. So this patch carries no
// labels and no other field: server-side apply with field manager tidb-mesh makes tidb-mesh the
// owner of `.spec.ports[port=2379,protocol=TCP].appProtocol` only (port and protocol are the
// list-map keys, with the operator's values, so they are shared without conflict), the
// operator's comparison still finds its own spec and labels, and a normal sync leaves the
// Service alone. An operator upgrade that changes the Service's spec replaces it and drops the
// field: `tidb-mesh diff` shows it and `tidb-mesh apply` restores it.
//
// The patch is not a whole Service: applied before the operator created the Service it would
// create a wrong one, so `tidb-mesh apply` skips it until the Service exists (and says so).
import { V1Service } from '@kubernetes/client-node';
import { PD_PORT } from './common';

export type PdPeerPatch = V1Service & { apiVersion: 'v1'; kind: 'Service'; metadata: { name: string; namespace: string } };

/** The server-side apply patch setting `appProtocol: grpc` on port 2379 of `<tc>-pd-peer`. */
export function buildPdPeerService(tc: string, namespace: string): PdPeerPatch {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name: `${tc}-pd-peer`, namespace },
    spec: { ports: [{ port: PD_PORT, protocol: 'TCP', appProtocol: 'grpc' }] },
  };
}

/** True for a pd-peer patch (it must only be applied to an existing Service). */
export function isPdPeerPatch(o: { apiVersion: string; kind: string; metadata: { name: string } }): boolean {
  return o.apiVersion === 'v1' && o.kind === 'Service' && o.metadata.name.endsWith('-pd-peer');
}
