// Subcommand handlers: generate, apply, diff, tenants. Each takes parsed Options and an Io and
// resolves to an exit code; tests call them directly. All output goes through Io.
import * as path from 'path';
import { resolveArtifact } from './artifact';
import { Cluster, ClusterOptions, LiveRegistry, loadKubeConfig } from './cluster';
import { diffObject } from './diff';
import { deleteCommand, directionFindings, directionsOf, objectId, otherDirection } from './direction';
import { EXIT, RegistryError, ToolError } from './errors';
import { isPdPeerPatch } from './istio/pd-peer';
import { resultLine } from './kube/apply-result';
import { assertRegistryMatchesLive, liveTenants, LiveTenant, recordsAsLive } from './live-ids';
import { parseSubject, rbacObjects } from './rbac';
import { generate, GenerateOptions, kindForIstio, OutputKind } from './generate';
import { Phase } from './istio/common';
import { listFormat, Options } from './options';
import { FetchLike, pdAllocator } from './pd';
import { principal } from './plugin-config';
import { Allocator, findRecord, localAllocator, parseRegistry, Registry, resolveTenants, retireTenant, selectTenants, TenantRecord } from './registry';
import { destroyKeyspace } from './gc/destroy-keyspace';
import { closeAll } from './storage/grpc';
import { PdClient } from './storage/pd-client';
import { renderYaml, sortKeys } from './render';
import type { RolloutHooks } from './rollout/command';
import { checkTopology } from './safety';
import { setsJson, setsTable, tenantsGroupedJson, tenantsTable } from './tenants/list';
import { loadRegistryFile, readInputs, readLocalArtifact, readLocalImage, registryText, saveRegistryFile } from './source';
import { discover, storageKey } from './tidb/topology';
import { Finding, KubeObject, Topology } from './types';

/** The outside world as the handlers see it. */
export interface Io {
  stdout(text: string): void;
  stderr(text: string): void;
  stdin(): Promise<string>;
  /** Writes a file (used by -o). */
  writeFile(file: string, text: string): void;
  cwd: string;
  /** Connects to a cluster; defaults to @kubernetes/client-node with kubeconfig/in-cluster credentials. */
  connect?(kubeconfig?: string, context?: string, opts?: Partial<ClusterOptions>): Cluster;
  /**
   * Called right before the registry is written (test seam: two tools racing on the registry
   * wait here for each other, so that both write from the same old version).
   */
  beforeRegistrySave?(): Promise<void>;
  fetch?: FetchLike;
  /** rollout: terminal detection, clock, environment, SQL connector (tests replace them). */
  rollout?: RolloutHooks;
}

export const DEFAULT_URL = 'file:///var/local/wasm/tidb-mesh.wasm';
export const DEFAULT_REGISTRY_FILE = 'tidb-mesh-tenants.json';

function connect(o: Options, io: Io): Cluster {
  const opts: Partial<ClusterOptions> = { fieldManager: o.fieldManager, log: (l) => io.stderr(`${l}\n`) };
  return io.connect ? io.connect(o.kubeconfig, o.context, opts) : new Cluster(loadKubeConfig(o.kubeconfig, o.context), opts);
}

/** Registry writes that lose a race are retried this many times (re-read, re-resolve, write). */
const REGISTRY_ATTEMPTS = 5;

/** Prints findings to stderr, one block each. */
export function printFindings(findings: Finding[], io: Io): void {
  for (const f of findings) io.stderr(`[${f.severity}] ${f.code} ${f.object}: ${f.message}\n    fix: ${f.fix}\n`);
}

/** Where the registry lives for this run. */
type RegistryStore =
  | { kind: 'file'; file: string }
  | { kind: 'cluster'; cluster: Cluster; live?: LiveRegistry };

function registryStore(o: Options, io: Io, cluster: Cluster | undefined): RegistryStore {
  if (o.registry) return { kind: 'file', file: path.resolve(io.cwd, o.registry) };
  if (cluster && (o.fromCluster || o.files.length === 0)) return { kind: 'cluster', cluster };
  const first = o.files.find((f) => f !== '-');
  if (!first) throw new ToolError('input from stdin needs --registry FILE (keyspace ids must be recorded somewhere)', EXIT.USAGE, 'USAGE');
  const abs = path.resolve(io.cwd, first);
  const dir = /\.(ya?ml|json)$/.test(abs) ? path.dirname(abs) : abs;
  return { kind: 'file', file: path.join(dir, DEFAULT_REGISTRY_FILE) };
}

async function loadRegistry(store: RegistryStore, t: Topology): Promise<Registry> {
  if (store.kind === 'file') return loadRegistryFile(store.file);
  store.live = await store.cluster.loadRegistry(t.storageLayers.map((s) => s.namespace));
  return store.live.registry;
}

async function saveRegistry(store: RegistryStore, r: Registry): Promise<string> {
  if (store.kind === 'file') { saveRegistryFile(store.file, r); return store.file; }
  await store.cluster.saveRegistry(store.live!, r);
  return 'ConfigMap tidb-mesh-tenants';
}

function allocatorFor(o: Options, io: Io, t: Topology, persist: boolean): Allocator {
  if (!o.pd.length || !persist) return localAllocator();
  const byLayer = new Map<string, Allocator>();
  for (const spec of o.pd) {
    const m = /^([^=\s]+\/[^=\s]+)=(.+)$/.exec(spec);
    byLayer.set(m ? m[1] : '*', pdAllocator(m ? m[2] : spec, io.fetch));
  }
  if (byLayer.has('*') && t.storageLayers.length > 1) {
    throw new ToolError('several storage layers: use --pd NS/NAME=URL for each', EXIT.USAGE, 'USAGE');
  }
  const pick = (layer: string): Allocator => {
    const a = byLayer.get(layer) ?? byLayer.get('*');
    if (!a) throw new ToolError(`no --pd for storage layer ${layer}`, EXIT.USAGE, 'USAGE');
    return a;
  };
  return {
    allocate: (req, used) => pick(req.storageLayer).allocate(req, used),
    verify: async (rec) => { const a = pick(rec.storageLayer); if (a.verify) await a.verify(rec); },
  };
}

function generateOptions(o: Options, io: Io, findings: Finding[]): GenerateOptions | undefined {
  const wasm = path.resolve(io.cwd, o.wasm ?? 'dist/tidb-mesh.wasm');
  const url = o.url ?? DEFAULT_URL;
  const local = url.startsWith('oci://') ? readLocalImage(wasm) : readLocalArtifact(wasm);
  if (o.wasm && !local) {
    findings.push({ code: 'SHA256_MISSING', severity: 'error', object: `artifact ${o.wasm}`, message: `--wasm ${o.wasm} does not exist`, fix: 'Run `npm run build` or fix the path.' });
  }
  const art = resolveArtifact(url, o.sha256, local);
  findings.push(...art.findings);
  let kind: OutputKind = 'wasmplugin';
  try {
    kind = o.kind ?? (o.istioVersion ? kindForIstio(o.istioVersion) : 'wasmplugin');
  } catch (e) {
    throw new ToolError((e as Error).message, EXIT.USAGE, 'USAGE');
  }
  const passthrough = o.passthrough.map((p) => {
    if (p.startsWith('spiffe://')) return p;
    const [ns, sa] = p.split('/');
    if (!ns || !sa) throw new ToolError(`--passthrough wants NS/SA or a spiffe:// principal (got ${p})`, EXIT.USAGE, 'USAGE');
    return principal(o.trustDomain, ns, sa);
  });
  if (!art.artifact) return undefined;
  return {
    artifact: art.artifact, kind, phase: o.phase as Phase, trustDomain: o.trustDomain, direction: o.direction,
    pdPeerRemedy: o.pdPeerRemedy, passthrough,
    imagePullPolicy: o.imagePullPolicy as GenerateOptions['imagePullPolicy'], imagePullSecret: o.imagePullSecret,
  };
}

/**
 * Result of the shared pipeline: inputs -> checks -> registry -> objects. `stale` = live
 * tidb-mesh objects of the other direction for these storage layers (only when a cluster is
 * connected): diff lists them as to-be-removed.
 */
interface Plan { objects: KubeObject[]; topology: Topology; cluster?: Cluster; stale: KubeObject[] }

/** What a command lets the pipeline do. */
interface PlanMode {
  /** Allocate and save new keyspace ids (false: provisional ids, nothing written). */
  persist: boolean;
  /** Connect to the cluster even with -f inputs (apply, diff). */
  needCluster: boolean;
  /** Live plugins of the other direction are an error (apply). */
  refuseOtherDirection: boolean;
  /** New tenants are an error instead of provisional ids (generate --from-cluster only reads). */
  refuseNewTenants: boolean;
}

/**
 * The pipeline shared by generate/apply/diff. Reads inputs, runs the safety checks (exit 3 on any
 * error, before any id is allocated), checks the registry against the ids live in the cluster
 * (the cluster is the source of truth for live tenants: a registry that disagrees stops the
 * command), resolves keyspace ids (persisting new ones when `mode.persist`; a save that loses a
 * race re-reads the registry and resolves again), and builds the objects.
 */
async function plan(o: Options, io: Io, mode: PlanMode): Promise<Plan> {
  if (!o.fromCluster && o.files.length === 0) throw new ToolError('give -f FILE (or -f - for stdin) or --from-cluster', EXIT.USAGE, 'USAGE');
  const cluster = mode.needCluster || o.fromCluster ? connect(o, io) : undefined;
  if (cluster && o.fromCluster && o.namespace && !(await cluster.namespaceExists(o.namespace))) throw missingNamespaces([o.namespace]);
  const inputs = o.fromCluster ? await cluster!.listInputs(o.namespace) : await readInputs(o.files, io.stdin);
  const topology = discover(inputs);
  for (const i of topology.ignored) io.stderr(`ignored: ${i}\n`);
  io.stderr(`found ${topology.storageLayers.length} storage layer(s), ${topology.tenants.length} tenant(s)\n`);
  const findings = checkTopology(topology, { failStrategy: o.failStrategy, direction: o.direction, pdPeerRemedy: o.pdPeerRemedy });
  // One direction per storage layer: objects of the other one, in the inputs or live, are reported
  // (live plugins block apply: both directions together prefix every key twice).
  const layers = new Set(topology.storageLayers.map(storageKey));
  findings.push(...directionFindings(otherDirection(inputs, o.direction, layers), o.direction, 'inputs', false));
  const namespaces = [...new Set([...topology.storageLayers.map((s) => s.namespace), ...topology.tenants.map((x) => x.namespace)])].sort();
  if (cluster && mode.needCluster) {
    const missing: string[] = [];
    for (const ns of namespaces) if (!(await cluster.namespaceExists(ns))) missing.push(ns);
    if (missing.length) throw missingNamespaces(missing);
  }
  const managed = cluster && namespaces.length ? await cluster.listManaged(namespaces) : [];
  const stale = mode.needCluster && layers.size ? otherDirection(managed, o.direction, layers) : [];
  findings.push(...directionFindings(stale, o.direction, 'live', mode.refuseOtherDirection));
  const gopts = generateOptions(o, io, findings);
  printFindings(findings, io);
  const errors = findings.filter((f) => f.severity === 'error');
  if (errors.length) throw new ToolError(`${errors.length} safety check(s) failed; nothing generated`, EXIT.SAFETY, 'SAFETY');
  const store = registryStore(o, io, cluster);
  const allocator = allocatorFor(o, io, topology, mode.persist);
  for (let attempt = 1; ; attempt++) {
    const registry = await loadRegistry(store, topology);
    if (cluster) assertRegistryMatchesLive(registry, await liveIds(cluster, store, managed, topology), registryName(store), store.kind === 'file');
    const res = await resolveTenants(registry, topology.tenants, allocator);
    if (mode.refuseNewTenants && res.assigned.length) {
      throw new RegistryError('TENANT_UNRECORDED',
        `generate --from-cluster only reads the registry, and ${res.assigned.map((a) => `${a.namespace}/${a.name}`).join(', ')} ha${res.assigned.length > 1 ? 've' : 's'} no keyspace id yet`,
        'Run `tidb-mesh apply --from-cluster` (it records the ids, then applies), or preview with `tidb-mesh apply --from-cluster --dry-run=client`.');
    }
    if (res.changed && mode.persist) {
      let where: string;
      try {
        await io.beforeRegistrySave?.();
        where = await saveRegistry(store, res.registry);
      } catch (e) {
        if (e instanceof RegistryError && e.code === 'REGISTRY_CONFLICT' && attempt < REGISTRY_ATTEMPTS) {
          io.stderr(`${e.message}: another writer saved first; reading the registry again (attempt ${attempt + 1} of ${REGISTRY_ATTEMPTS})\n`);
          continue;
        }
        throw e;
      }
      for (const a of res.assigned) io.stderr(`assigned keyspace id ${a.keyspaceId} to tenant ${a.namespace}/${a.name}\n`);
      io.stderr(`registry saved to ${where}\n`);
    } else {
      for (const a of res.assigned) io.stderr(`would assign (provisional) keyspace id ${a.keyspaceId} to tenant ${a.namespace}/${a.name}\n`);
    }
    return { objects: generate(topology, res.registry, gopts!), topology, cluster, stale };
  }
}

function missingNamespaces(nss: string[]): ToolError {
  return new ToolError(`namespace${nss.length > 1 ? 's' : ''} ${nss.join(', ')} do${nss.length > 1 ? '' : 'es'} not exist in the cluster; nothing was written`, EXIT.SAFETY, 'NAMESPACE_MISSING',
    'Create the namespace (kubectl create namespace NS) or fix -n / the inputs\' metadata.namespace.');
}

function registryName(store: RegistryStore): string {
  return store.kind === 'file' ? `registry file ${store.file}` : 'the registry ConfigMap tidb-mesh-tenants';
}

/**
 * The ids live in the cluster: every live tidb-mesh plugin's tenant table, and, when the registry
 * is a file, the registry ConfigMaps of the storage layers' namespaces (a cluster-mode registry).
 */
async function liveIds(cluster: Cluster, store: RegistryStore, managed: KubeObject[], t: Topology): Promise<LiveTenant[]> {
  const out = liveTenants(managed);
  if (store.kind === 'file' && t.storageLayers.length) {
    out.push(...recordsAsLive((await cluster.loadRegistry(t.storageLayers.map((s) => s.namespace))).registry.tenants, 'ConfigMap tidb-mesh-tenants'));
  }
  return out;
}

/** Writes `objects` as -o asks: yaml (default) or json to stdout, or YAML to a file for any other value. */
function printObjects(o: Options, io: Io, objects: unknown[], header: string | undefined): void {
  if (o.output === 'json') { io.stdout(`${JSON.stringify(sortKeys({ apiVersion: 'v1', kind: 'List', items: objects }), null, 2)}\n`); return; }
  const text = renderYaml(objects, header);
  if (o.output && o.output !== 'yaml') { io.writeFile(path.resolve(io.cwd, o.output), text); io.stderr(`wrote ${objects.length} object(s) to ${o.output}\n`); return; }
  io.stdout(text);
}

/**
 * `generate`: prints the manifests (-o yaml|json, or -o FILE). With -f it records new ids in
 * the registry file; with --from-cluster it only reads (new tenants: TENANT_UNRECORDED).
 */
export async function cmdGenerate(o: Options, io: Io): Promise<number> {
  const p = await plan(o, io, { persist: !o.fromCluster, needCluster: false, refuseOtherDirection: false, refuseNewTenants: o.fromCluster });
  printObjects(o, io, p.objects, 'Generated by tidb-mesh generate. Apply with: kubectl apply --server-side --field-manager tidb-mesh -f -\n'
    + 'The Service patch (<tc>-pd-peer appProtocol) must only be applied once tidb-operator has created that Service.');
  return EXIT.OK;
}

/**
 * `apply`: server-side applies the manifests (field manager tidb-mesh or --field-manager) and
 * prints one line per object: created, configured, unchanged, or skipped (the pd-peer patch
 * while the operator has not created the Service). --dry-run=server: the server validates and
 * answers, nothing is stored, no id is recorded; --dry-run=client: nothing is sent, the lines
 * come from comparing with the live objects. -o yaml|json prints the resulting objects.
 */
export async function cmdApply(o: Options, io: Io): Promise<number> {
  const dry = o.dryRunMode ?? 'none';
  const p = await plan(o, io, { persist: dry === 'none', needCluster: true, refuseOtherDirection: true, refuseNewTenants: false });
  const counts: Record<string, number> = {};
  const results: KubeObject[] = [];
  const report = (obj: KubeObject, result: string, reason?: string) => {
    counts[result] = (counts[result] ?? 0) + 1;
    results.push(obj);
    if (!o.output || !['yaml', 'json'].includes(o.output)) io.stdout(`${resultLine(obj, result as any, dry)}${reason ? `: ${reason}` : ''}\n`);
  };
  if (dry === 'client') {
    for (const obj of p.objects) {
      const live = await p.cluster!.read(obj);
      if (!live && isPdPeerPatch(obj)) { report(obj, 'skipped', 'not created yet by tidb-operator; run apply again once it exists'); continue; }
      const d = diffObject(obj, live).status;
      report(obj, d === 'create' ? 'created' : d === 'change' ? 'configured' : 'unchanged');
    }
  } else {
    await p.cluster!.applyAll(p.objects, { force: o.forceConflicts, dryRun: dry === 'server', onlyIfExists: isPdPeerPatch }, (a) => report(a.object, a.result, a.reason));
  }
  if (o.output === 'yaml' || o.output === 'json') printObjects(o, io, results.map(stripServerFields), undefined);
  io.stderr(`${Object.entries(counts).sort().map(([k, v]) => `${v} ${k}`).join(', ') || 'nothing to apply'}${dry === 'none' ? '' : ` (${dry} dry run: nothing stored)`}\n`);
  return EXIT.OK;
}

/** An object without managedFields (what kubectl prints by default). */
function stripServerFields(obj: KubeObject): KubeObject {
  const { managedFields: _m, ...meta } = obj.metadata as any;
  return { ...obj, metadata: meta };
}

/** `diff`: shows what `apply` would change; exit 1 if anything differs. Never allocates or saves ids. */
export async function cmdDiff(o: Options, io: Io): Promise<number> {
  const p = await plan(o, io, { persist: false, needCluster: true, refuseOtherDirection: false, refuseNewTenants: false });
  let differs = 0;
  for (const obj of p.objects) {
    const live = await p.cluster!.read(obj);
    if (!live && isPdPeerPatch(obj)) {
      differs++;
      io.stdout(`~~~ pending ${obj.kind} ${obj.metadata.namespace}/${obj.metadata.name} (tidb-operator has not created it yet; apply adds appProtocol: grpc once it exists)\n`);
      continue;
    }
    const d = diffObject(obj, live);
    if (d.status === 'same') continue;
    differs++;
    io.stdout(`${d.status === 'create' ? '+++ create' : '~~~ change'} ${d.id}\n${d.lines.join('\n')}\n`);
  }
  // Live objects of the other direction: not deleted by apply (which refuses while such plugins
  // exist); shown here so the switch is visible.
  for (const s of p.stale) {
    differs++;
    io.stdout(`--- remove ${objectId(s)} (${directionsOf(s).join('+')}; this run generates --direction ${o.direction}; delete by hand: ${deleteCommand(s)})\n`);
  }
  io.stderr(`${differs} of ${p.objects.length + p.stale.length} object(s) differ\n`);
  return differs ? EXIT.DIFF : EXIT.OK;
}

/**
 * `tenants [list|sets|retire NS/NAME]`: reads (and for retire, writes) the registry. list: `-l`
 * selector over set values, `--group-by SET`, `-o table|json`; sets: the set index.
 */
export async function cmdTenants(o: Options, io: Io): Promise<number> {
  const sub = o.args[0] ?? 'list';
  let registry: Registry;
  let save: (r: Registry) => Promise<void>;
  if (o.registry) {
    const file = path.resolve(io.cwd, o.registry);
    registry = loadRegistryFile(file);
    save = async (r) => saveRegistryFile(file, r);
  } else {
    const cluster = connect(o, io);
    const namespaces = o.namespace ? [o.namespace] : await cluster.registryNamespaces();
    const live = await cluster.loadRegistry(namespaces);
    registry = live.registry;
    save = (r) => cluster.saveRegistry(live, r);
  }
  if (sub === 'list') {
    const rows = selectTenants(registry, o.selector);
    const json = listFormat(o) === 'json';
    if (o.groupBy) io.stdout(json ? tenantsGroupedJson(rows, o.groupBy) : tenantsTable(rows, o.groupBy));
    else io.stdout(json ? registryText({ ...registry, tenants: rows }) : tenantsTable(rows));
    return EXIT.OK;
  }
  if (sub === 'sets') {
    const rows = selectTenants(registry, o.selector);
    io.stdout(listFormat(o) === 'json' ? setsJson(rows) : setsTable(rows));
    return EXIT.OK;
  }
  if (sub === 'retire') {
    const [ns, name] = (o.args[1] ?? '').split('/');
    if (!ns || !name) throw new ToolError('usage: tidb-mesh tenants retire NAMESPACE/NAME [--destroy-data --pd URL]', EXIT.USAGE, 'USAGE');
    if (o.destroyData && o.pd.length !== 1) throw new ToolError('--destroy-data needs the storage layer\'s PD: --pd URL', EXIT.USAGE, 'USAGE');
    const next = retireTenant(registry, ns, name);
    parseRegistry(next, 'result');
    await save(next);
    const rec = findRecord(next, ns, name)!;
    io.stderr(`retired ${ns}/${name}; its keyspace id ${rec.keyspaceId} stays reserved\n`);
    await retireManifests(o, io, rec);
    if (o.destroyData) {
      const pd = new PdClient(o.pd[0], io.fetch as any);
      try {
        const rep = await destroyKeyspace(pd, rec.keyspaceId, rec.name, o.etcdNamespace ?? '/keyspaces/tidb/{id}', (l) => io.stderr(`${l}\n`));
        io.stdout(listFormat(o) === 'json' ? `${JSON.stringify(rep)}\n` : `destroyed keyspace ${rep.keyspace}: ${rep.ranges.join(', ')} on ${rep.stores} store(s); `
          + `${rep.serviceSafePoints.length} service safe point(s), ${rep.etcdKeys} etcd key(s), ${rep.labelRules.length + rep.placementGroups.length + rep.tiflashRules.length} PD rule(s)\n`);
      } catch (e) {
        throw new ToolError(`destroying keyspace ${rec.keyspaceId}: ${(e as Error).message}`, EXIT.IO, 'DESTROY_FAILED',
          'The tenant stays retired; run the command again (every step can be repeated).');
      } finally {
        closeAll();
      }
    }
    return EXIT.OK;
  }
  throw new ToolError(`unknown tenants subcommand ${sub} (list, sets, retire)`, EXIT.USAGE, 'USAGE');
}

/**
 * The tenant's own objects (the outbound WasmPlugin or EnvoyFilter generated for it, labelled
 * tidb-mesh.io/tenant and tidb-mesh.io/keyspace-id). Deleted in cluster mode, but only once its
 * TiDB is gone: without its outbound plugin a running TiDB would reach PD and TiKV with
 * unprefixed keys. In files mode the tool applied nothing, so it prints the command.
 */
async function retireManifests(o: Options, io: Io, rec: TenantRecord): Promise<void> {
  const labels = { 'tidb-mesh.io/tenant': rec.name, 'tidb-mesh.io/keyspace-id': String(rec.keyspaceId) };
  const selector = Object.entries(labels).map(([k, v]) => `${k}=${v}`).join(',');
  if (o.registry) {
    io.stderr(`remove its manifests once its TiDB is gone: kubectl delete wasmplugins.extensions.istio.io,envoyfilters.networking.istio.io -n ${rec.namespace} -l ${selector}\n`);
    return;
  }
  const cluster = connect(o, io);
  const alive = (await cluster.listInputs(rec.namespace)).filter((x) => x.metadata.name === rec.name);
  if (alive.length) {
    io.stderr(`${alive[0].kind} ${rec.namespace}/${rec.name} still exists: its tidb-mesh objects stay until it is deleted (without them its TiDB would reach the storage layer unprefixed); run retire again afterwards\n`);
    return;
  }
  for (const d of await cluster.deleteManaged(rec.namespace, labels)) io.stderr(`deleted ${d}\n`);
}

/**
 * `rbac`: prints the least-privilege RBAC objects for the tool (rbac.ts): --subject KIND:NAME,
 * -n NS[,NS...] for Roles in those namespaces (else a ClusterRole), -f inputs to restrict the
 * Service patch to their <tc>-pd-peer Services.
 */
export async function cmdRbac(o: Options, io: Io): Promise<number> {
  const subject = parseSubject(o.subject);
  const namespaces = (o.namespace ?? '').split(',').map((x) => x.trim()).filter(Boolean);
  const services = o.files.length ? discover(await readInputs(o.files, io.stdin)).storageLayers.flatMap((s) => (s.pdPeerService ? [s.pdPeerService] : [])) : [];
  printObjects(o, io, rbacObjects({ name: o.name ?? 'tidb-mesh', namespaces, subject, services }),
    `RBAC for tidb-mesh (${namespaces.length ? `namespaces ${namespaces.join(', ')}` : 'all namespaces'}). Apply as an admin: kubectl apply -f -`);
  return EXIT.OK;
}

export { storageKey };
