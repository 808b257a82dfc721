// The root context: configuration -> tenant table, and (outbound) the workload's own tenant,
// resolved once per configuration from node metadata rather than per request: node metadata
// is fixed for the life of the Envoy process, so per VM and configuration is the right cache.
// A new configuration (Envoy creates a new root context for it, or calls onConfigure again)
// applies to calls that start afterwards; a StreamContext keeps the Config it started with.
// A plain class, not the SDK's RootContext: index.ts dispatches the ABI itself.
import { parseConfig, Config, Tenant, DIRECTION_OUTBOUND } from "../config/config";
import { Identity, Selection, selectTenant, labelKeysOf, SELECT_TENANT, SELECT_PASSTHROUGH } from "./identity";
import { getPluginConfiguration, getNodeMetadata, log, LOG_INFO, LOG_ERROR } from "../host";
import { methodCount } from "../schema/methods";
import { Counters, countersOf, unknownCounters, tenantScope, passthroughScope } from "./metrics";
import { StreamContext } from "./stream";

export class MeshRoot {
  context_id: u32;
  config: Config | null = null;
  /** Outbound: the tenant this workload belongs to (fixed per configuration). */
  outbound: Selection = new Selection();
  outboundIdentity: string = "";
  /** The Counters of `outbound`'s scope. */
  outboundCounters: Counters = unknownCounters();
  /** Counters per config.tenants[i] and config.passthrough[i], made when the configuration loads. */
  tenantCounters: Array<Counters> = new Array<Counters>();
  passthroughCounters: Array<Counters> = new Array<Counters>();
  /** Bumped on every accepted configuration; streams keep the generation they started with. */
  generation: u32 = 0;

  constructor(context_id: u32) {
    this.context_id = context_id;
  }

  createContext(context_id: u32): StreamContext {
    return new StreamContext(context_id, this);
  }

  /** The Counters of a selection made against the current configuration. */
  countersFor(sel: Selection): Counters {
    if (sel.kind == SELECT_TENANT) {
      const t = sel.tenant as Tenant;
      const c = this.config as Config;
      for (let i = 0; i < c.tenants.length; i++) {
        if (c.tenants[i] === t) return this.tenantCounters[i];
      }
      return countersOf(tenantScope(t.name));
    }
    if (sel.kind == SELECT_PASSTHROUGH) {
      const c = this.config as Config;
      for (let i = 0; i < c.passthrough.length; i++) {
        if (c.passthrough[i].name == sel.name) return this.passthroughCounters[i];
      }
      return countersOf(passthroughScope(sel.name));
    }
    return unknownCounters();
  }

  onConfigure(configuration_size: u32): bool {
    const json = getPluginConfiguration(configuration_size);
    const r = parseConfig(json);
    if (r.config === null) {
      // Fail closed: a rejected configuration does not leave the previous one in force for new
      // calls (they get UNAVAILABLE until a valid one arrives); open calls keep theirs.
      this.config = null;
      this.outbound = new Selection();
      this.outboundIdentity = "";
      this.outboundCounters = unknownCounters();
      this.tenantCounters = new Array<Counters>();
      this.passthroughCounters = new Array<Counters>();
      log(LOG_ERROR, "tidb-mesh: configuration rejected: " + r.error);
      return false;
    }
    const c = r.config as Config;
    this.config = c;
    this.generation++;
    const tc = new Array<Counters>();
    for (let i = 0; i < c.tenants.length; i++) tc.push(countersOf(tenantScope(c.tenants[i].name)));
    this.tenantCounters = tc;
    const pc = new Array<Counters>();
    for (let i = 0; i < c.passthrough.length; i++) pc.push(countersOf(passthroughScope(c.passthrough[i].name)));
    this.passthroughCounters = pc;
    if (c.direction == DIRECTION_OUTBOUND) {
      const id = readWorkloadIdentity(c);
      this.outbound = selectTenant(c, id);
      this.outboundIdentity = id.describe();
      this.outboundCounters = this.countersFor(this.outbound);
      if (this.outbound.kind == SELECT_TENANT) {
        log(LOG_INFO, "tidb-mesh: outbound tenant " + this.outbound.name + " (" + this.outboundIdentity + "), " +
          methodCount().toString() + " methods on the allowlist");
      } else {
        log(LOG_INFO, "tidb-mesh: this workload (" + this.outboundIdentity + ") matches no single tenant; every call will be denied");
      }
    } else {
      log(LOG_INFO, "tidb-mesh: inbound, " + c.tenants.length.toString() + " tenants, " +
        c.passthrough.length.toString() + " passthrough identities");
    }
    return true;
  }
}

/** NAMESPACE, SERVICE_ACCOUNT and the LABELS any tenant matches on, from node metadata. */
function readWorkloadIdentity(c: Config): Identity {
  const id = new Identity();
  id.namespace = getNodeMetadata(["NAMESPACE"]);
  id.serviceAccount = getNodeMetadata(["SERVICE_ACCOUNT"]);
  const keys = labelKeysOf(c);
  for (let i = 0; i < keys.length; i++) {
    const v = getNodeMetadata(["LABELS", keys[i]]);
    if (v !== null) {
      id.labelKeys.push(keys[i]);
      id.labelValues.push(v as string);
    }
  }
  return id;
}
