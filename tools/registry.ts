// The tenant registry: tenants as first-class records with a keyspace id that is assigned once,
// never changed and never reused (retired records keep their id). Pure, except that allocation
// goes through an injected Allocator (local counter or PD's keyspace API, see pd.ts).
import { RegistryError } from './errors';
import { matches, parseSelector } from './tenants/selector';
import { checkTenantSets, setValueProblems } from './tenants/sets';
import { Labels, TenantSource } from './types';
import { storageKey } from './tidb/topology';

/** Keyspace ids usable by tenants. 0 is TiDB's default keyspace; 0xFFFFFF has no end key. */
export const MIN_KEYSPACE_ID = 1;
export const MAX_KEYSPACE_ID = 16777214;

export const REGISTRY_API = 'tidb-mesh.io/v1alpha1';

/** One tenant. Identity is (namespace, name); keyspace ids are unique per storage layer. */
export interface TenantRecord {
  name: string;
  namespace: string;
  /** "namespace/name" of the storage layer (ids are scoped to its PD). */
  storageLayer: string;
  keyspaceId: number;
  keyspaceName: string;
  /**
   * The tenant's set values, at most one per set, e.g. {customer: acme, region: us-west}; empty
   * for a tenant in no set. From `tenant.tidb-mesh.io/<set>` labels. May change; the id may not.
   */
  labels: Labels;
  state: 'active' | 'retired';
}

/**
 * The persisted document (a JSON file, or data key `tenants.json` of a ConfigMap). When written
 * it also carries `tenantSets`, the index of every set over the active tenants
 * (source.ts registryText; tenants/sets.ts tenantSetsOf), which must agree with the records.
 */
export interface Registry {
  apiVersion: typeof REGISTRY_API;
  kind: 'TenantRegistry';
  tenants: TenantRecord[];
}

/** Allocates a new keyspace id for a tenant of one storage layer. */
export interface Allocator {
  /**
   * Returns the id to record. `used` holds every id ever recorded for that storage layer
   * (including retired). `pinned` is an id requested by annotation. Throws RegistryError on
   * exhaustion; other errors propagate.
   */
  allocate(req: { storageLayer: string; keyspaceName: string; pinned?: number }, used: ReadonlySet<number>): Promise<number>;
  /** Optional: confirms an already recorded id (PD: the keyspace still has that id). */
  verify?(rec: TenantRecord): Promise<void>;
}

/** A registry with no tenants. */
export function emptyRegistry(): Registry {
  return { apiVersion: REGISTRY_API, kind: 'TenantRegistry', tenants: [] };
}

const recKey = (r: { namespace: string; name: string }) => `${r.namespace}/${r.name}`;

function sortRecords(t: TenantRecord[]): TenantRecord[] {
  return [...t].sort((a, b) => a.storageLayer.localeCompare(b.storageLayer) || a.keyspaceId - b.keyspaceId);
}

/**
 * Parses and checks a registry document (from JSON). Throws RegistryError REGISTRY_INVALID on a
 * wrong shape, out-of-range ids, or two records sharing an id / keyspace name in one storage layer.
 */
export function parseRegistry(doc: unknown, where: string): Registry {
  const bad = (why: string) => new RegistryError('REGISTRY_INVALID', `registry ${where}: ${why}`,
    'Restore the registry from its last good version (git history or ConfigMap backup); never edit ids by hand.');
  const d = doc as Registry;
  if (!d || typeof d !== 'object' || d.kind !== 'TenantRegistry' || !Array.isArray(d.tenants)) {
    throw bad('expected {"apiVersion":"tidb-mesh.io/v1alpha1","kind":"TenantRegistry","tenants":[...]}');
  }
  const ids = new Set<string>();
  const names = new Set<string>();
  const keys = new Set<string>();
  for (const r of d.tenants) {
    if (typeof r.name !== 'string' || typeof r.namespace !== 'string' || typeof r.storageLayer !== 'string' ||
        typeof r.keyspaceName !== 'string' || !Number.isInteger(r.keyspaceId) || !['active', 'retired'].includes(r.state)) {
      throw bad(`malformed record ${JSON.stringify(r)}`);
    }
    checkRange(r.keyspaceId, recKey(r));
    if (r.labels !== undefined && (typeof r.labels !== 'object' || r.labels === null || Object.values(r.labels).some((v) => typeof v !== 'string'))) {
      throw bad(`tenant ${recKey(r)}: labels must map set names to one value each`);
    }
    const setProblem = setValueProblems(r.labels ?? {})[0];
    if (setProblem) throw bad(`tenant ${recKey(r)}: ${setProblem}`);
    const id = `${r.storageLayer}#${r.keyspaceId}`;
    const nm = `${r.storageLayer}#${r.keyspaceName}`;
    if (ids.has(id)) throw bad(`keyspace id ${r.keyspaceId} recorded twice for storage layer ${r.storageLayer}`);
    if (names.has(nm)) throw bad(`keyspace name ${r.keyspaceName} recorded twice for storage layer ${r.storageLayer}`);
    if (keys.has(recKey(r))) throw bad(`tenant ${recKey(r)} recorded twice`);
    ids.add(id); names.add(nm); keys.add(recKey(r));
  }
  const tenants = sortRecords(d.tenants.map((r) => ({ ...r, labels: r.labels ?? {} })));
  const recorded = (d as { tenantSets?: unknown }).tenantSets;
  if (recorded !== undefined) {
    const problem = checkTenantSets(recorded, tenants);
    if (problem) throw bad(problem);
  }
  return { apiVersion: REGISTRY_API, kind: 'TenantRegistry', tenants };
}

function checkRange(id: number, who: string): void {
  if (!Number.isInteger(id) || id < MIN_KEYSPACE_ID || id > MAX_KEYSPACE_ID) {
    throw new RegistryError('KEYSPACE_ID_OUT_OF_RANGE',
      `keyspace id ${id} of ${who} is outside ${MIN_KEYSPACE_ID}..${MAX_KEYSPACE_ID} (0 is TiDB's default keyspace)`,
      'Pin an id in range with annotation tidb-mesh.io/keyspace-id, or remove the annotation to allocate one.');
  }
}

/**
 * Allocator that counts locally: the next id after the highest ever recorded for the storage
 * layer; when that passes `maxId`, the lowest never-recorded id; else KEYSPACE_EXHAUSTED.
 * A pinned id is returned as is (collisions are checked by resolveTenants).
 */
export function localAllocator(maxId: number = MAX_KEYSPACE_ID): Allocator {
  return {
    async allocate(req, used) {
      if (req.pinned !== undefined) return req.pinned;
      const top = used.size ? Math.max(...used) : 0;
      if (top + 1 <= maxId) return top + 1;
      for (let id = MIN_KEYSPACE_ID; id <= maxId; id++) if (!used.has(id)) return id;
      throw new RegistryError('KEYSPACE_EXHAUSTED',
        `no keyspace id left for storage layer ${req.storageLayer}: all of ${MIN_KEYSPACE_ID}..${maxId} were assigned (ids are never reused)`,
        'Create a new storage layer for further tenants.');
    },
  };
}

/** Result of resolving the tenants of one generation run against the registry. */
export interface Resolution {
  registry: Registry;
  /** Records created in this run (the registry must be persisted when non-empty). */
  assigned: TenantRecord[];
  /** True if anything (new tenants or labels) changed. */
  changed: boolean;
}

/**
 * Gives every tenant its keyspace id: existing records are reused (and checked: same storage
 * layer, same keyspace name, same id as any pin, verified by the allocator), new tenants get an
 * id from `allocator`. Throws RegistryError TENANT_RETIRED, STORAGE_LAYER_CHANGED,
 * KEYSPACE_ID_CHANGED, KEYSPACE_NAME_CHANGED, KEYSPACE_NAME_COLLISION, KEYSPACE_ID_COLLISION,
 * KEYSPACE_ID_OUT_OF_RANGE or KEYSPACE_EXHAUSTED. Does not mutate `registry`.
 */
export async function resolveTenants(registry: Registry, tenants: TenantSource[], allocator: Allocator): Promise<Resolution> {
  const records = registry.tenants.map((r) => ({ ...r, labels: { ...r.labels } }));
  const assigned: TenantRecord[] = [];
  let changed = false;
  for (const t of [...tenants].sort((a, b) => recKey(a).localeCompare(recKey(b)))) {
    const who = t.source;
    const layer = storageKey(t.storageRef);
    const existing = records.find((r) => recKey(r) === recKey(t));
    if (existing) {
      if (existing.state === 'retired') {
        throw new RegistryError('TENANT_RETIRED', `${who}: tenant ${recKey(t)} was retired (keyspace id ${existing.keyspaceId} stays reserved)`,
          'Give the new cluster a different name; a retired tenant name and its id are never reused.');
      }
      if (existing.storageLayer !== layer) {
        throw new RegistryError('STORAGE_LAYER_CHANGED', `${who}: tenant is recorded on storage layer ${existing.storageLayer} but now references ${layer}`,
          'Restore spec.cluster; moving a tenant between storage layers needs a data migration and a new tenant name.');
      }
      if (t.pinnedKeyspaceId !== undefined && t.pinnedKeyspaceId !== existing.keyspaceId) {
        throw new RegistryError('KEYSPACE_ID_CHANGED', `${who}: annotation asks for keyspace id ${t.pinnedKeyspaceId} but the tenant has id ${existing.keyspaceId} forever`,
          `Set tidb-mesh.io/keyspace-id to ${existing.keyspaceId} or remove the annotation.`);
      }
      if (existing.keyspaceName !== t.keyspaceName) {
        throw new RegistryError('KEYSPACE_NAME_CHANGED', `${who}: keyspace name changed from ${existing.keyspaceName} to ${t.keyspaceName}`,
          `Restore keyspace name ${existing.keyspaceName} (annotation tidb-mesh.io/keyspace-name / TiDBGroup keyspace).`);
      }
      if (allocator.verify) await allocator.verify(existing);
      if (JSON.stringify(sortKeys(existing.labels)) !== JSON.stringify(sortKeys(t.tenantLabels))) {
        existing.labels = { ...t.tenantLabels };
        changed = true;
      }
      continue;
    }
    const sameLayer = records.filter((r) => r.storageLayer === layer);
    const nameOwner = sameLayer.find((r) => r.keyspaceName === t.keyspaceName);
    if (nameOwner) {
      throw new RegistryError('KEYSPACE_NAME_COLLISION', `${who}: keyspace name ${t.keyspaceName} already belongs to tenant ${recKey(nameOwner)} (${nameOwner.state})`,
        'Choose another keyspace name with annotation tidb-mesh.io/keyspace-name.');
    }
    if (t.pinnedKeyspaceId !== undefined) checkRange(t.pinnedKeyspaceId, who);
    const used = new Set(sameLayer.map((r) => r.keyspaceId));
    const id = await allocator.allocate({ storageLayer: layer, keyspaceName: t.keyspaceName, pinned: t.pinnedKeyspaceId }, used);
    checkRange(id, who);
    const idOwner = sameLayer.find((r) => r.keyspaceId === id);
    if (idOwner) {
      throw new RegistryError('KEYSPACE_ID_COLLISION', `${who}: keyspace id ${id} already belongs to tenant ${recKey(idOwner)} (${idOwner.state}) on ${layer}`,
        'Remove the tidb-mesh.io/keyspace-id annotation to allocate a fresh id, or pin an unused one.');
    }
    const rec: TenantRecord = { name: t.name, namespace: t.namespace, storageLayer: layer, keyspaceId: id,
      keyspaceName: t.keyspaceName, labels: { ...t.tenantLabels }, state: 'active' };
    records.push(rec);
    assigned.push(rec);
    changed = true;
  }
  return { registry: { ...registry, tenants: sortRecords(records) }, assigned, changed };
}

/** Marks tenant namespace/name retired; its id stays reserved. Throws RegistryError TENANT_UNKNOWN. */
export function retireTenant(registry: Registry, namespace: string, name: string): Registry {
  const rec = registry.tenants.find((r) => r.namespace === namespace && r.name === name);
  if (!rec) throw new RegistryError('TENANT_UNKNOWN', `no tenant ${namespace}/${name} in the registry`, 'Check `tidb-mesh tenants list`.');
  return { ...registry, tenants: registry.tenants.map((r) => (r === rec ? { ...r, state: 'retired' as const } : r)) };
}

/**
 * Tenants whose set values match `selector` (Kubernetes label-selector syntax over set names:
 * `customer=acme,region in (us-west,us-east)`, see tenants/selector.ts), in registry order.
 * Empty selector matches all. Throws ToolError (USAGE) on a malformed selector.
 */
export function selectTenants(registry: Registry, selector: string | undefined): TenantRecord[] {
  const sel = parseSelector(selector);
  return registry.tenants.filter((r) => matches(sel, r.labels));
}

/** Record of tenant namespace/name, if any. */
export function findRecord(registry: Registry, namespace: string, name: string): TenantRecord | undefined {
  return registry.tenants.find((r) => r.namespace === namespace && r.name === name);
}

function sortKeys(l: Labels): Labels {
  return Object.fromEntries(Object.entries(l).sort(([a], [b]) => a.localeCompare(b)));
}
