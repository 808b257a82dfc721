// The pd-peer remedy (tidb-operator v1 only).
//
// Problem: TiDB reaches the PD leader at <pod>.<tc>-pd-peer.<ns>.svc:2379, and the operator names
// that port of the headless <tc>-pd-peer Service `tcp-peer-2379`. Istio derives the protocol from
// the port name, so it installs a TCP proxy for that traffic and the HTTP WASM filter never runs.
//
// Remedy: set `appProtocol: grpc` on that Service port. Istio's ConvertProtocol prefers
// appProtocol over the port name (istio/istio pkg/config/kube/conversion.go), so the port becomes
// gRPC (HTTP/2) for both the outbound (TiDB) and inbound (PD) sidecars. We apply it with
// server-side apply (field manager tidb-mesh). tidb-operator v1 only rewrites a Service when its
// desired spec differs from the `pingcap.com/last-applied-configuration` annotation it wrote
// (controller.ServiceEqual), so the extra field survives normal reconciles; an operator upgrade
// that changes the Service spec drops it, which `tidb-mesh diff` shows and `apply` restores.
// The object repeats the operator's spec for this Service so that, should it be applied before
// the operator created the Service, it is still a correct headless Service.
import { V1Service } from '@kubernetes/client-node';
import { Labels } from '../types';
import { PD_PORT } from './common';

/** The `<tc>-pd-peer` Service with `appProtocol: grpc` on port 2379 (name must be ≤63, checked by safety). */
export function buildPdPeerService(tc: string, namespace: string, labels: Labels): V1Service & { apiVersion: 'v1'; kind: 'Service' } {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name: `${tc}-pd-peer`, namespace, labels },
    spec: {
      clusterIP: 'None',
      publishNotReadyAddresses: true,
      selector: {
        'app.kubernetes.io/component': 'pd',
        'app.kubernetes.io/instance': tc,
        'app.kubernetes.io/managed-by': 'tidb-operator',
        'app.kubernetes.io/name': 'tidb-cluster',
      },
      ports: [
        { name: 'tcp-peer-2380', port: 2380, protocol: 'TCP', targetPort: 2380 as any },
        { name: `tcp-peer-${PD_PORT}`, port: PD_PORT, protocol: 'TCP', targetPort: PD_PORT as any, appProtocol: 'grpc' },
      ],
    },
  };
}
