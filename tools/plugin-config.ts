// The filter's pluginConfig objects, validated with ajv against schema/plugin-config.schema.json
// (the contract shared with the filter). Building is pure; the schema is read once from disk.
import Ajv, { ValidateFunction } from 'ajv';
import * as fs from 'fs';
import * as path from 'path';
import { EXIT, ToolError } from './errors';
import { TenantRecord } from './registry';
import { workloadsOf } from './tidb/topology';
import { StorageLayer, TenantSource, Workload } from './types';

/** Shape of the configuration (mirrors the schema; the schema is authoritative). */
export interface PluginConfig {
  version: 1;
  direction: 'outbound' | 'inbound';
  mode: 'api-v2';
  tenants: Array<{ name: string; keyspaceId: number; match: Record<string, unknown> }>;
  passthrough?: Array<{ name: string; match: { principals: string[] } }>;
  unknownCaller: 'deny';
}

/** Finds `rel` (e.g. "schema/plugin-config.schema.json") in this directory or a parent. */
export function findRepoFile(rel: string): string {
  let dir = __dirname;
  for (;;) {
    const p = path.join(dir, rel);
    if (fs.existsSync(p)) return p;
    const up = path.dirname(dir);
    if (up === dir) throw new ToolError(`cannot find ${rel} above ${__dirname}`, EXIT.INTERNAL, 'SCHEMA_MISSING');
    dir = up;
  }
}

let validator: ValidateFunction | undefined;

/** Validates `cfg` against the shared schema. Throws ToolError (INTERNAL) listing every violation. */
export function validatePluginConfig(cfg: unknown, what: string): void {
  if (!validator) {
    const schema = JSON.parse(fs.readFileSync(findRepoFile('schema/plugin-config.schema.json'), 'utf8'));
    validator = new Ajv({ allErrors: true, strict: false }).compile(schema);
  }
  if (!validator(cfg)) {
    const errs = (validator.errors ?? []).map((e) => `${e.instancePath || '/'} ${e.message}`).join('; ');
    throw new ToolError(`pluginConfig of ${what} violates schema/plugin-config.schema.json: ${errs}`, EXIT.INTERNAL, 'PLUGIN_CONFIG_INVALID');
  }
}

/** SPIFFE principal of a service account: spiffe://<trustDomain>/ns/<ns>/sa/<sa>. */
export function principal(trustDomain: string, namespace: string, sa: string): string {
  return `spiffe://${trustDomain}/ns/${namespace}/sa/${sa}`;
}

/**
 * Outbound table for the sidecars of one tenant workload (its TiDB, or a TiProxy in front of
 * it; default: the first TiDB workload): a single entry matching the namespace, the workload's
 * operator pod labels and its service account (node metadata NAMESPACE, LABELS, SERVICE_ACCOUNT).
 */
export function outboundConfig(t: TenantSource, rec: TenantRecord, w: Workload = workloadsOf(t)[0]): PluginConfig {
  const cfg: PluginConfig = {
    version: 1, direction: 'outbound', mode: 'api-v2',
    tenants: [{ name: t.name, keyspaceId: rec.keyspaceId,
      match: { namespace: t.namespace, labels: { ...w.podSelector }, serviceAccount: w.serviceAccount } }],
    unknownCaller: 'deny',
  };
  validatePluginConfig(cfg, `tenant ${t.namespace}/${t.name}`);
  return cfg;
}

/**
 * Inbound table for a storage layer's PD/TiKV sidecars: every tenant by the mTLS principals of
 * its workloads (TiDB and TiProxy service accounts), and the
 * layer's own PD and TiKV service accounts (plus `extraPassthrough` principals) as passthrough.
 */
export function inboundConfig(s: StorageLayer, tenants: Array<{ t: TenantSource; rec: TenantRecord }>,
  trustDomain: string, extraPassthrough: string[]): PluginConfig {
  const storagePrincipals = [...new Set([s.pdServiceAccount, s.tikvServiceAccount])].sort()
    .map((sa) => principal(trustDomain, s.namespace, sa));
  const cfg: PluginConfig = {
    version: 1, direction: 'inbound', mode: 'api-v2',
    tenants: tenants.map(({ t, rec }) => ({ name: t.name, keyspaceId: rec.keyspaceId,
      match: { principals: [...new Set(workloadsOf(t).map((w) => w.serviceAccount))].sort().map((sa) => principal(trustDomain, t.namespace, sa)) } })),
    passthrough: [{ name: `${s.name}-storage`, match: { principals: storagePrincipals } }],
    unknownCaller: 'deny',
  };
  if (extraPassthrough.length) cfg.passthrough!.push({ name: 'extra', match: { principals: [...extraPassthrough].sort() } });
  validatePluginConfig(cfg, `storage layer ${s.namespace}/${s.name}`);
  return cfg;
}
