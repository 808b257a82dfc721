// Errors that carry a process exit code. The CLI maps them to exit status and stderr text.

/** Exit codes of the CLI. Documented in docs/manifest-tool.md. */
export const EXIT = {
  OK: 0,
  /** `diff` only: differences were found. */
  DIFF: 1,
  USAGE: 2,
  SAFETY: 3,
  REGISTRY: 4,
  IO: 5,
  /** `rollout`: a tenant failed; the stage stopped (resume after the fix). */
  ROLLOUT: 6,
  INTERNAL: 70,
} as const;

/** An expected failure with a message for humans and an exit code. */
export class ToolError extends Error {
  constructor(
    message: string,
    readonly exitCode: number,
    readonly code: string = 'ERROR',
    readonly fix?: string,
  ) {
    super(message);
    this.name = 'ToolError';
  }
}

/** Registry failure (collision, exhaustion, changed id, retired tenant). */
export class RegistryError extends ToolError {
  constructor(code: string, message: string, fix: string) {
    super(message, EXIT.REGISTRY, code, fix);
    this.name = 'RegistryError';
  }
}
