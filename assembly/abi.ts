// proxy-wasm 0.2.x values the stream callbacks return (Envoy's proxy_wasm_common.h).
// Constants only: the dispatch in index.ts passes them through unchanged.

export const HEADERS_CONTINUE: i32 = 0;
export const HEADERS_STOP_ITERATION: i32 = 1;

export const DATA_CONTINUE: i32 = 0;
export const DATA_STOP_ITERATION_NO_BUFFER: i32 = 3;

export const TRAILERS_CONTINUE: i32 = 0;
export const TRAILERS_STOP_ITERATION: i32 = 1;

export const METADATA_CONTINUE: i32 = 0;

/** proxy_on_done: the context is done now (0 would mean "wait for proxy_done"). */
export const DONE_NOW: u32 = 1;
