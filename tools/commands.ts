// Subcommand handlers: generate, apply, diff, tenants. Each takes parsed Options and an Io and
// resolves to an exit code; tests call them directly. All output goes through Io.
import * as path from 'path';
import { resolveArtifact } from './artifact';
import { Cluster, LiveRegistry, loadKubeConfig } from './cluster';
import { diffObject } from './diff';
import { deleteCommand, directionFindings, directionsOf, objectId, otherDirection } from './direction';
import { EXIT, ToolError } from './errors';
import { generate, GenerateOptions, kindForIstio, OutputKind } from './generate';
import { Phase } from './istio/common';
import { listFormat, Options } from './options';
import { FetchLike, pdAllocator } from './pd';
import { principal } from './plugin-config';
import { Allocator, localAllocator, parseRegistry, Registry, resolveTenants, retireTenant, selectTenants } from './registry';
import { renderYaml } from './render';
import type { RolloutHooks } from './rollout/command';
import { checkTopology } from './safety';
import { setsJson, setsTable, tenantsGroupedJson, tenantsTable } from './tenants/list';
import { loadRegistryFile, readInputs, readLocalArtifact, registryText, saveRegistryFile } from './source';
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
  connect?(kubeconfig?: string, context?: string): Cluster;
  fetch?: FetchLike;
  /** rollout: terminal detection, clock, environment, SQL connector (tests replace them). */
  rollout?: RolloutHooks;
}

export const DEFAULT_URL = 'file:///var/local/wasm/tidb-mesh.wasm';
export const DEFAULT_REGISTRY_FILE = 'tidb-mesh-tenants.json';

function connect(o: Options, io: Io): Cluster {
  return io.connect ? io.connect(o.kubeconfig, o.context) : new Cluster(loadKubeConfig(o.kubeconfig, o.context));
}

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
  const local = url.startsWith('oci://') ? undefined : readLocalArtifact(wasm);
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

/**
 * The pipeline shared by generate/apply/diff. Reads inputs, runs the safety checks (exit 3 on any
 * error, before any id is allocated), resolves keyspace ids (persisting new ones unless
 * `persist` is false), and builds the objects.
 */
async function plan(o: Options, io: Io, persist: boolean, needCluster: boolean, refuseOtherDirection = false): Promise<Plan> {
  if (!o.fromCluster && o.files.length === 0) throw new ToolError('give -f FILE (or -f - for stdin) or --from-cluster', EXIT.USAGE, 'USAGE');
  const cluster = needCluster || o.fromCluster ? connect(o, io) : undefined;
  const inputs = o.fromCluster ? await cluster!.listInputs(o.namespace) : await readInputs(o.files, io.stdin);
  const topology = discover(inputs);
  for (const i of topology.ignored) io.stderr(`ignored: ${i}\n`);
  io.stderr(`found ${topology.storageLayers.length} storage layer(s), ${topology.tenants.length} tenant(s)\n`);
  const findings = checkTopology(topology, { failStrategy: o.failStrategy, direction: o.direction, pdPeerRemedy: o.pdPeerRemedy });
  // One direction per storage layer: objects of the other one, in the inputs or live, are reported
  // (live plugins block apply: both directions together prefix every key twice).
  const layers = new Set(topology.storageLayers.map(storageKey));
  findings.push(...directionFindings(otherDirection(inputs, o.direction, layers), o.direction, 'inputs', false));
  const namespaces = [...topology.storageLayers.map((s) => s.namespace), ...topology.tenants.map((x) => x.namespace)];
  const stale = needCluster && cluster && layers.size ? otherDirection(await cluster.listManaged(namespaces), o.direction, layers) : [];
  findings.push(...directionFindings(stale, o.direction, 'live', refuseOtherDirection));
  const gopts = generateOptions(o, io, findings);
  printFindings(findings, io);
  const errors = findings.filter((f) => f.severity === 'error');
  if (errors.length) throw new ToolError(`${errors.length} safety check(s) failed; nothing generated`, EXIT.SAFETY, 'SAFETY');
  const store = registryStore(o, io, cluster);
  const registry = await loadRegistry(store, topology);
  const res = await resolveTenants(registry, topology.tenants, allocatorFor(o, io, topology, persist));
  for (const a of res.assigned) io.stderr(`${persist ? 'assigned' : 'would assign (provisional)'} keyspace id ${a.keyspaceId} to tenant ${a.namespace}/${a.name}\n`);
  if (res.changed && persist) io.stderr(`registry saved to ${await saveRegistry(store, res.registry)}\n`);
  return { objects: generate(topology, res.registry, gopts!), topology, cluster, stale };
}

/** `generate`: prints the manifests (or writes them to -o). */
export async function cmdGenerate(o: Options, io: Io): Promise<number> {
  const p = await plan(o, io, true, false);
  const text = renderYaml(p.objects, 'Generated by tidb-mesh generate. Apply with: kubectl apply --server-side --field-manager tidb-mesh -f -');
  if (o.output) { io.writeFile(path.resolve(io.cwd, o.output), text); io.stderr(`wrote ${p.objects.length} object(s) to ${o.output}\n`); }
  else io.stdout(text);
  return EXIT.OK;
}

/** `apply`: server-side applies the manifests to the cluster (field manager tidb-mesh). */
export async function cmdApply(o: Options, io: Io): Promise<number> {
  const p = await plan(o, io, true, true, true);
  await p.cluster!.applyAll(p.objects, o.forceConflicts, (l) => io.stderr(`${l}\n`));
  io.stdout(`applied ${p.objects.length} object(s)\n`);
  return EXIT.OK;
}

/** `diff`: shows what `apply` would change; exit 1 if anything differs. Never allocates or saves ids. */
export async function cmdDiff(o: Options, io: Io): Promise<number> {
  const p = await plan(o, io, false, true);
  let differs = 0;
  for (const obj of p.objects) {
    const d = diffObject(obj, await p.cluster!.read(obj));
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
    if (!ns || !name) throw new ToolError('usage: tidb-mesh tenants retire NAMESPACE/NAME', EXIT.USAGE, 'USAGE');
    const next = retireTenant(registry, ns, name);
    parseRegistry(next, 'result');
    await save(next);
    io.stderr(`retired ${ns}/${name}; its keyspace id stays reserved\n`);
    return EXIT.OK;
  }
  throw new ToolError(`unknown tenants subcommand ${sub} (list, sets, retire)`, EXIT.USAGE, 'USAGE');
}

export { storageKey };
