// Test PKI made with the openssl CLI: a CA and leaf certificates whose URI SAN is a SPIFFE id,
// the way Istio's workload certificates look (spiffe://<trust-domain>/ns/<ns>/sa/<sa>).
// Everything is written to a fresh temp directory; EC P-256 keys, valid for one day.
'use strict';

const { execFileSync } = require('child_process');
const fs = require('fs');
const os = require('os');
const path = require('path');

function openssl(args, cwd) {
  try {
    return execFileSync('openssl', args, { cwd, stdio: ['ignore', 'pipe', 'pipe'], encoding: 'utf8' });
  } catch (e) {
    throw new Error(`openssl ${args.join(' ')} failed: ${e.stderr || e.message}`);
  }
}

/**
 * A certificate authority in `dir` (created if missing) named `name`.
 * @returns {{name: string, dir: string, cert: string, key: string, issue(leafName: string, uri: string): {cert: string, key: string, uri: string}}}
 */
function makeCa(dir, name = 'ca') {
  fs.mkdirSync(dir, { recursive: true });
  const key = path.join(dir, `${name}.key`);
  const cert = path.join(dir, `${name}.crt`);
  openssl(['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes',
    '-keyout', key, '-out', cert, '-days', '1', '-subj', `/O=tidb-mesh test/CN=${name}`,
    '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign'], dir);
  let serial = 1;
  return {
    name, dir, cert, key,
    /** A leaf certificate for both TLS client and server use, with `uri` as its only SAN. */
    issue(leafName, uri) {
      const lkey = path.join(dir, `${leafName}.key`);
      const csr = path.join(dir, `${leafName}.csr`);
      const lcert = path.join(dir, `${leafName}.crt`);
      const ext = path.join(dir, `${leafName}.ext`);
      fs.writeFileSync(ext, [
        'basicConstraints=critical,CA:FALSE',
        'keyUsage=critical,digitalSignature,keyEncipherment',
        'extendedKeyUsage=serverAuth,clientAuth',
        `subjectAltName=URI:${uri}`,
      ].join('\n') + '\n');
      openssl(['req', '-new', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes',
        '-keyout', lkey, '-out', csr, '-subj', `/O=tidb-mesh test/CN=${leafName}`], dir);
      openssl(['x509', '-req', '-in', csr, '-CA', cert, '-CAkey', key, '-set_serial', String(serial++),
        '-out', lcert, '-days', '1', '-sha256', '-extfile', ext], dir);
      return { cert: lcert, key: lkey, uri };
    },
  };
}

/** A fresh temp directory for a test's certificates (remove with fs.rmSync(dir, {recursive: true})). */
function certDir() {
  return fs.mkdtempSync(path.join(os.tmpdir(), 'tidb-mesh-certs-'));
}

/** SPIFFE id of a Kubernetes service account. */
function spiffe(ns, sa, trustDomain = 'cluster.local') {
  return `spiffe://${trustDomain}/ns/${ns}/sa/${sa}`;
}

/** Envoy DownstreamTlsContext transport socket: server cert, client certs verified against `caCert`. */
function downstreamTls(leaf, caCert, { requireClientCertificate = true } = {}) {
  return {
    name: 'envoy.transport_sockets.tls',
    typed_config: {
      '@type': 'type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.DownstreamTlsContext',
      require_client_certificate: requireClientCertificate,
      common_tls_context: {
        alpn_protocols: ['h2'],
        tls_certificates: [{ certificate_chain: { filename: leaf.cert }, private_key: { filename: leaf.key } }],
        validation_context: { trusted_ca: { filename: caCert } },
      },
    },
  };
}

/** Envoy UpstreamTlsContext transport socket: presents `leaf` (if given), verifies the server against `caCert`. */
function upstreamTls(leaf, caCert) {
  const common = { alpn_protocols: ['h2'], validation_context: { trusted_ca: { filename: caCert } } };
  if (leaf) common.tls_certificates = [{ certificate_chain: { filename: leaf.cert }, private_key: { filename: leaf.key } }];
  return {
    name: 'envoy.transport_sockets.tls',
    typed_config: {
      '@type': 'type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext',
      sni: 'tikv.tidb.svc',
      common_tls_context: common,
    },
  };
}

module.exports = { makeCa, certDir, spiffe, downstreamTls, upstreamTls };
