import type { ErrorCode } from "./error-codes.ts";

export type { ErrorCode } from "./error-codes.ts";

/**
 * Every error hastack raises on purpose is a HastackError: a stable `code` for machines and a
 * sentence for people, worded like Deno std ("Cannot start galera on ctl-2: exit code 1: ...").
 */
export class HastackError extends Error {
  /** One of src/util/error-codes.ts: a new code is added there first. */
  readonly code: ErrorCode;
  /** A hint for the operator: what to do about it. */
  readonly hint: string | undefined;

  constructor(code: ErrorCode, message: string, options?: { cause?: unknown; hint?: string }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = "HastackError";
    this.code = code;
    this.hint = options?.hint;
  }
}

/** A position in a source file, 1-based, as editors show it. */
export interface SourcePosition {
  file: string;
  line: number;
  col: number;
}

/** One problem found in an inventory. Checks collect all of them before reporting. */
export interface Problem {
  severity: "error" | "warning";
  code: ErrorCode;
  message: string;
  hint?: string;
  /** Dotted path into the document, e.g. hosts.ctl1.addresses.management */
  path: (string | number)[];
  pos?: SourcePosition;
}

export class InventoryError extends HastackError {
  readonly problems: Problem[];

  constructor(problems: Problem[], options?: { cause?: unknown }) {
    const errors = problems.filter((p) => p.severity === "error");
    super("E_INVENTORY", `Inventory has ${errors.length} error(s)`, options);
    this.name = "InventoryError";
    this.problems = problems;
  }
}
