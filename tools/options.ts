// Command-line option parsing (no IO). Produces a plain Options object per subcommand.
import { EXIT, ToolError } from './errors';

/** Parsed options of all subcommands (each uses the subset it needs). */
export interface Options {
  command: string;
  /** Positional arguments after the command (e.g. `tenants retire tidb/cluster1`). */
  args: string[];
  files: string[];
  fromCluster: boolean;
  namespace?: string;
  kubeconfig?: string;
  context?: string;
  registry?: string;
  pd: string[];
  url?: string;
  sha256?: string;
  wasm?: string;
  kind?: 'wasmplugin' | 'envoyfilter';
  istioVersion?: string;
  phase: string;
  failStrategy: string;
  trustDomain: string;
  /** Which enforcement direction to generate (exactly one per storage layer: both would prefix keys twice). */
  direction: 'outbound' | 'inbound';
  pdPeerRemedy: boolean;
  passthrough: string[];
  imagePullPolicy?: string;
  imagePullSecret?: string;
  output?: string;
  forceConflicts: boolean;
  selector?: string;
  format: 'table' | 'json';
  /** tenants / rollout status: group by the values of this tenant set. */
  groupBy?: string;
  /** rollout: canary tenants (NS/NAME or NAME), the first stage; repeatable and comma-separated. */
  canary: string[];
  /** rollout: one stage per value of this set after the canaries ("region" or "region=us-west,us-east"). */
  batchBy?: string;
  /** rollout: at most this many tenants migrate at once (text; checked by the rollout command). */
  parallel?: string;
  /** rollout: the rollout's name (default: <migration dir>-v<target>). */
  name?: string;
  /** rollout: TENANT=HOST:PORT or TENANT=/path/to/mysql.sock; repeatable. */
  endpoints: string[];
  /** rollout: MySQL user (password from $TIDB_MESH_PASSWORD). */
  user?: string;
  /** rollout, files mode: directory of rollout state files. */
  state?: string;
  /** rollout: apply migrations up to this version (default: the highest in the directory). */
  to?: string;
  dryRun: boolean;
  /** apply: `--dry-run=client` (nothing sent) or `--dry-run=server` (the server validates, stores nothing); bare --dry-run = client. */
  dryRunMode?: 'client' | 'server';
  /** apply: field manager of every write (default tidb-mesh). */
  fieldManager?: string;
  /** rbac: who gets the role (user:NAME, group:NAME, serviceaccount:NS/NAME). */
  subject?: string;
  /** publish: the OCI image layout to push (default dist/oci). */
  ociLayout?: string;
  /** publish: the oras binary. */
  oras?: string;
  /** publish: the registry speaks plain HTTP (a local one). */
  plainHttp?: boolean;
  watch: boolean;
  /** gc: one round, then exit. */
  once: boolean;
  /** gc: time between rounds. */
  interval?: string;
  /** gc: the platform's history floor, "10m", or per keyspace "<id>=30m"; repeatable. */
  lifeTime: string[];
  /** gc: no keyspace holds the global GC safe point further back than this. */
  maxHold?: string;
  /** gc: how long the tenants' readers may cache the saved safe point. */
  safePointWait?: string;
  /** gc, tenants retire: the tenants' etcd namespace template (the filter's etcdNamespace). */
  etcdNamespace?: string;
  /** tenants retire: also destroy the keyspace's data on the storage layer (needs --pd). */
  destroyData: boolean;
  help: boolean;
}

const VALUE_FLAGS: Record<string, keyof Options> = {
  '-f': 'files', '--filename': 'files', '-n': 'namespace', '--namespace': 'namespace', '--kubeconfig': 'kubeconfig',
  '--context': 'context', '--registry': 'registry', '--pd': 'pd', '--url': 'url', '--sha256': 'sha256', '--wasm': 'wasm',
  '--kind': 'kind', '--istio-version': 'istioVersion', '--phase': 'phase', '--fail-strategy': 'failStrategy',
  '--trust-domain': 'trustDomain', '--passthrough': 'passthrough', '--image-pull-policy': 'imagePullPolicy',
  '--image-pull-secret': 'imagePullSecret', '-o': 'output', '--output': 'output', '-l': 'selector', '--selector': 'selector',
  '--format': 'format', '--direction': 'direction', '--group-by': 'groupBy', '--canary': 'canary', '--batch-by': 'batchBy',
  '--parallel': 'parallel', '--name': 'name', '--endpoint': 'endpoints', '--user': 'user', '--state': 'state', '--to': 'to',
  '--field-manager': 'fieldManager', '--subject': 'subject', '--oci-layout': 'ociLayout', '--oras': 'oras',
  '--interval': 'interval', '--life-time': 'lifeTime', '--max-hold': 'maxHold', '--safe-point-wait': 'safePointWait',
  '--etcd-namespace': 'etcdNamespace',
};
const REPEATED = new Set<keyof Options>(['files', 'pd', 'passthrough', 'canary', 'endpoints', 'lifeTime']);
const BOOL_FLAGS: Record<string, [keyof Options, boolean]> = {
  '--from-cluster': ['fromCluster', true], '--no-pd-peer-remedy': ['pdPeerRemedy', false],
  '--force-conflicts': ['forceConflicts', true], '--plain-http': ['plainHttp', true], '--envoyfilter': ['kind', 'envoyfilter' as unknown as boolean],
  '--dry-run': ['dryRun', true], '--watch': ['watch', true], '-w': ['watch', true],
  '--once': ['once', true], '--destroy-data': ['destroyData', true],
  '-h': ['help', true], '--help': ['help', true],
};

/** Parses argv (without node and script). Throws ToolError (USAGE) on unknown or incomplete flags. */
export function parseArgs(argv: string[]): Options {
  const o: Options = {
    command: '', args: [], files: [], fromCluster: false, pd: [], phase: 'UNSPECIFIED_PHASE', failStrategy: 'FAIL_CLOSE',
    trustDomain: 'cluster.local', direction: 'outbound', pdPeerRemedy: true, passthrough: [], forceConflicts: false, format: 'table', help: false,
    canary: [], endpoints: [], dryRun: false, watch: false, once: false, lifeTime: [], destroyData: false,
  };
  for (let i = 0; i < argv.length; i++) {
    let a = argv[i];
    let inline: string | undefined;
    const eq = a.startsWith('--') ? a.indexOf('=') : -1;
    if (eq > 0) { inline = a.slice(eq + 1); a = a.slice(0, eq); }
    if (a === '--no-inbound') {
      throw new ToolError(`${a} was removed: the tool now emits exactly one direction per storage layer (outbound and inbound together prefix keys twice); use --direction outbound (default) or --direction inbound`, EXIT.USAGE, 'USAGE');
    }
    if (a === '--dry-run') {
      // kubectl's --dry-run=client|server|none; bare --dry-run (rollout, older kubectl) = client.
      const mode = inline ?? 'client';
      if (!['client', 'server', 'none'].includes(mode)) throw new ToolError(`--dry-run must be client, server or none (got ${mode})`, EXIT.USAGE, 'USAGE');
      o.dryRun = mode !== 'none';
      o.dryRunMode = mode === 'none' ? undefined : mode as 'client' | 'server';
      continue;
    }
    if (a in BOOL_FLAGS) { const [k, v] = BOOL_FLAGS[a]; (o as any)[k] = v; continue; }
    if (a in VALUE_FLAGS) {
      const k = VALUE_FLAGS[a];
      const v = inline ?? argv[++i];
      if (v === undefined) throw new ToolError(`${a} needs a value`, EXIT.USAGE, 'USAGE');
      if (REPEATED.has(k)) (o[k] as string[]).push(v); else (o as any)[k] = v;
      continue;
    }
    if (a.startsWith('-') && a !== '-') throw new ToolError(`unknown flag ${a}`, EXIT.USAGE, 'USAGE');
    if (!o.command) o.command = a; else o.args.push(a);
  }
  if (o.kind && !['wasmplugin', 'envoyfilter'].includes(o.kind)) throw new ToolError(`--kind must be wasmplugin or envoyfilter`, EXIT.USAGE, 'USAGE');
  if (!['outbound', 'inbound'].includes(o.direction)) throw new ToolError(`--direction must be outbound or inbound (got ${o.direction})`, EXIT.USAGE, 'USAGE');
  if (!['table', 'json'].includes(o.format)) throw new ToolError(`--format must be table or json`, EXIT.USAGE, 'USAGE');
  if (o.imagePullPolicy && !['IfNotPresent', 'Always'].includes(o.imagePullPolicy)) throw new ToolError('--image-pull-policy must be IfNotPresent or Always', EXIT.USAGE, 'USAGE');
  if (!['UNSPECIFIED_PHASE', 'AUTHN', 'AUTHZ', 'STATS'].includes(o.phase)) throw new ToolError('--phase must be UNSPECIFIED_PHASE, AUTHN, AUTHZ or STATS', EXIT.USAGE, 'USAGE');
  return o;
}

/**
 * Output format of the listing commands (tenants, rollout): `-o json|table` or `--format`.
 * Throws ToolError (USAGE) for any other `-o` value (there `-o` is not a file).
 */
export function listFormat(o: Options): 'table' | 'json' {
  if (o.output === undefined) return o.format;
  if (o.output === 'json' || o.output === 'table') return o.output;
  throw new ToolError(`-o takes json or table for ${o.command} (got ${o.output})`, EXIT.USAGE, 'USAGE');
}

export const USAGE = `tidb-mesh: TidbClusters in, Istio WasmPlugin/EnvoyFilter out.

Usage:
  tidb-mesh generate (-f FILE... | -f - | --from-cluster [-n NS]) [options]   print manifests (YAML) on stdout
  tidb-mesh apply    (-f FILE... | --from-cluster [-n NS]) [options]          server-side apply them
  tidb-mesh diff     (-f FILE... | --from-cluster [-n NS]) [options]          compare with the live cluster
  tidb-mesh tenants  [list | sets | retire NS/NAME] (--registry FILE | -n NS) the tenant registry and tenant sets
  tidb-mesh rollout  [run] DIR (--registry FILE | -n NS) [rollout options]    apply SQL migrations tenant by tenant, in stages
  tidb-mesh rollout  resume NAME | status [NAME] [--group-by SET] [-w]       continue / show a rollout
  tidb-mesh rbac     --subject KIND:NAME [-n NS ...] [-f FILE ...]            the RBAC the tool needs (YAML)
  tidb-mesh publish  oci://REGISTRY/REPO[:TAG] [--plain-http]                 push dist/oci (the filter's OCI image) with oras
  tidb-mesh gc       --pd URL [--once] [gc options]                          the storage layer's GC controller (docs/gc.md)

Inputs and registry:
  -f, --filename F      TidbCluster / core.pingcap.com manifests (file, directory, or - for stdin); repeatable
  --from-cluster        read TidbClusters from the cluster (kubeconfig, or in-cluster credentials)
  -n, --namespace NS    namespace for --from-cluster / tenants (default: all namespaces)
  --kubeconfig F, --context C
  --registry F          tenant registry file (files mode default: tidb-mesh-tenants.json next to the first -f file;
                        cluster mode default: ConfigMap tidb-mesh-tenants in each storage layer's namespace)
  --pd URL | --pd NS/NAME=URL   allocate keyspace ids through PD (/pd/api/v2/keyspaces) and verify recorded ones
Artifact:
  --url URL             oci://, https:// or file:// (default file:///var/local/wasm/tidb-mesh.wasm)
  --sha256 HEX          module digest; for oci:// the image MANIFEST digest (what Istio compares);
                        default: computed from --wasm (oci://: of the image npm run package builds from it)
  --wasm F              local build to hash and compare (default dist/tidb-mesh.wasm)
Output:
  --direction outbound|inbound   which side rewrites keys; exactly one per storage layer (both = keys prefixed twice):
                        outbound (default): a WasmPlugin per tenant on its TiDB pods (trusts the pod's own labels/SA)
                        inbound: WasmPlugins on the storage layer's PD and TiKV pods, keyed by the mTLS principal,
                        plus a STRICT PeerAuthentication (enforced; every tenant needs its own service account)
  --kind wasmplugin|envoyfilter, --envoyfilter, --istio-version X.Y (<1.16 -> envoyfilter)
  --phase P (UNSPECIFIED_PHASE), --fail-strategy FAIL_CLOSE (anything else is refused)
  --trust-domain D (cluster.local), --passthrough NS/SA (repeatable, inbound), --no-pd-peer-remedy
  --image-pull-policy P, --image-pull-secret S
  -o yaml|json          output format (generate: the manifests; apply: the objects as the server stored them);
                        -o FILE (any other value) writes the YAML to FILE
diff/apply: live tidb-mesh plugins of the other direction are listed by diff as "--- remove" and make
  apply refuse (exit 3) until they are deleted (see docs/manifest-tool.md, "One direction per storage layer")
apply: --force-conflicts, --field-manager NAME (default tidb-mesh), --dry-run=client|server; prints one line per
  object: created, configured, unchanged (or skipped: the pd-peer Service until tidb-operator created it)
generate --from-cluster only reads: tenants without a recorded keyspace id are an error (apply records them)
rbac: tidb-mesh rbac --subject user:NAME|group:NAME|serviceaccount:NS/NAME [-n NS ...] [-f FILE ...]
  prints the least-privilege ClusterRole/Role and bindings the tool needs (apply them as an admin)
tenants: -l SELECTOR (customer=acme,region in (us-west,us-east), region notin (x), !customer), --group-by SET,
  -o table|json (or --format)
tenants retire NS/NAME --destroy-data --pd URL: also destroy the keyspace's data, service safe points,
  etcd namespace (--etcd-namespace, default /keyspaces/tidb/{id}) and PD rules; its id stays reserved
gc (docs/gc.md): runs next to PD as the platform, never through a tenant's filter; --once (one round) or
  --interval DUR (10m); --life-time DUR (history every keyspace keeps, default 10m) or ID=DUR per keyspace
  (repeatable); --max-hold DUR (24h: no keyspace holds GC back longer); --safe-point-wait DUR (100s, TiDB's
  safe point cache; lower it only in tests); --etcd-namespace TPL; -o table|json
rollout (docs/rollouts.md): DIR holds numbered migrations 0001_name.sql ...; -l SELECTOR picks the tenants;
  --canary NS/NAME (repeatable; stage 1)  --batch-by SET[=v1,v2,...] (one stage per value, in that order)
  --parallel N (tenants at once, default 2)  --endpoint TENANT=HOST:PORT|/path/mysql.sock (default
  <name>-tidb.<ns>.svc:4000)  --user U (password: $TIDB_MESH_PASSWORD)  --name NAME  --to VERSION
  --state DIR (files mode; default tidb-mesh-rollouts/ next to the registry)  --dry-run  -o table|json
  status: --group-by SET, -w/--watch follows it until it ends (in a terminal, a running rollout is followed anyway)

Exit codes: 0 ok, 1 diff found, 2 usage, 3 safety check failed, 4 registry error, 5 API/IO error,
  6 rollout stage failed (resume after the fix), 70 internal.
`;
