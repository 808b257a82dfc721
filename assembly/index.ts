export * from "@solo-io/proxy-runtime/proxy";
import { RootContext, Context, registerRootContext } from "@solo-io/proxy-runtime";

class R extends RootContext {
  createContext(id: u32): Context { return new Context(id, this); }
}
registerRootContext((id: u32) => { return new R(id) as RootContext; }, "tidb-mesh");
