// PeerAuthentication STRICT for the storage layer: the inbound filter identifies tenants by the
// peer certificate's URI SAN, which only exists with mTLS; STRICT refuses plaintext callers.
import { IPeerAuthentication, PeerAuthentication } from '@kubernetes-models/istio/security.istio.io/v1beta1/PeerAuthentication';
import { Labels } from '../types';

/** Builds and validates a STRICT PeerAuthentication selecting `selector` in `namespace`. */
export function buildPeerAuthentication(name: string, namespace: string, labels: Labels, selector: Labels): IPeerAuthentication {
  const model = new PeerAuthentication({
    metadata: { name, namespace, labels },
    spec: { selector: { matchLabels: { ...selector } }, mtls: { mode: 'STRICT' } },
  });
  model.validate();
  return model.toJSON() as unknown as IPeerAuthentication;
}
