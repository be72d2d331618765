/**
 * @module
 * Talking IPMI to a BMC, the one way hastack does it: `ipmitool -I lanplus -C <suite>` with the
 * password in IPMI_PASSWORD (`-E`), never on a command line where `ps` or a log would show it.
 * The lab's power commands, the drills, the deploy preflight and the status probe all go through
 * here; fence devices get the same parameters through `fenceIpmilanParams`.
 */
import { execFile } from "node:child_process";
import { z } from "zod";
import type { Bmc } from "../inventory/schema.ts";
import { HastackError } from "../util/errors.ts";
import { lastLines } from "../util/text.ts";

/** A BMC as ipmitool needs it (the inventory's `bmc` block without the secret's name). */
export interface BmcEndpoint {
  address: string;
  port: number;
  user: string;
  lanplus: boolean;
  /** IPMI 2.0 cipher suite (lanplus only); without it ipmitool probes suites first, ~14 s on some BMCs. */
  cipherSuite: number;
}

export function bmcEndpoint(bmc: Bmc): BmcEndpoint {
  return {
    address: bmc.address,
    port: bmc.port,
    user: bmc.user,
    lanplus: bmc.lanplus,
    cipherSuite: bmc.cipher_suite,
  };
}

export type PowerAction = "on" | "off" | "cycle" | "reset" | "soft";
export type PowerState = "on" | "off";

export interface IpmitoolOptions {
  /** ipmitool's -N: seconds per attempt. @default 1 */
  attemptSeconds?: number;
  /** ipmitool's -R: attempts. @default 2 (an unreachable BMC fails in ~6 s) */
  retries?: number;
  /** -v: ipmitool then says why a session failed (RAKP, cipher), which classifyIpmiFailure reads. */
  verbose?: boolean;
}

/** ipmitool's arguments for one command against a BMC; the password comes from IPMI_PASSWORD. */
export function ipmitoolArgs(
  bmc: BmcEndpoint,
  command: readonly string[],
  opts: IpmitoolOptions = {},
): string[] {
  return [
    ...(opts.verbose ? ["-v"] : []),
    "-I",
    bmc.lanplus ? "lanplus" : "lan",
    ...(bmc.lanplus ? ["-C", String(bmc.cipherSuite)] : []),
    "-H",
    bmc.address,
    "-p",
    String(bmc.port),
    "-U",
    bmc.user,
    "-E",
    "-N",
    String(opts.attemptSeconds ?? 1),
    "-R",
    String(opts.retries ?? 2),
    ...command,
  ];
}

/**
 * A command that runs ipmitool on another host over SSH with the password on stdin: the
 * transport would put `env` into the remote command line, where the remote `ps` shows it.
 */
export function ipmitoolViaStdin(
  args: readonly string[],
  password: string,
): { argv: string[]; stdin: string } {
  return {
    argv: [
      "sh",
      "-c",
      'IFS= read -r IPMI_PASSWORD; export IPMI_PASSWORD; exec ipmitool "$@"',
      "ipmitool",
      ...args,
    ],
    stdin: `${password}\n`,
  };
}

/**
 * The parameters of a fence_ipmilan device (or its stdin), in the order the CIB has always held
 * them (a reordering would show as a change on the next deploy). `password` is whatever the
 * caller puts there: the secret, or a placeholder when rendering.
 */
export function fenceIpmilanParams(bmc: BmcEndpoint, password?: string): Record<string, string> {
  return {
    ip: bmc.address,
    ipport: String(bmc.port),
    username: bmc.user,
    ...(password === undefined ? {} : { password }),
    lanplus: bmc.lanplus ? "1" : "0",
    // Suite 3 (SHA1, AES-128): what BMCs support by default; without it ipmitool first tries
    // suites the BMC refuses, and each call takes ~14 s longer (the lab BMCs require 3).
    ...(bmc.lanplus ? { cipher: String(bmc.cipherSuite) } : {}),
  };
}

/** "Chassis Power is on" is the whole answer to `chassis power status`. */
const PowerStatusOutput = z
  .string()
  .transform((text) => /^Chassis Power is (on|off)\s*$/m.exec(text)?.[1])
  .pipe(z.enum(["on", "off"]));

export function parsePowerStatus(stdout: string): PowerState {
  const parsed = PowerStatusOutput.safeParse(stdout);
  if (!parsed.success) {
    throw new HastackError(
      "E_IPMI_OUTPUT",
      `Cannot read a power state from ipmitool's answer: ${lastLines(stdout, 2) || "(nothing)"}`,
    );
  }
  return parsed.data;
}

/** Why a BMC did not answer, in the words an operator acts on. */
export type IpmiFailure = "wrong-password" | "wrong-user" | "cipher-refused" | "unreachable" | "other";

/**
 * ipmitool's verbose messages, matched against what it prints: ipmi_sim and common BMCs answer a
 * wrong password with an invalid RAKP 2 HMAC, an unknown user with "unauthorized name", an
 * unsupported suite in the open-session response; no answer at all is the capabilities request
 * timing out.
 */
const FAILURES: readonly [IpmiFailure, RegExp][] = [
  ["wrong-password", /RAKP 2 HMAC is invalid|invalid integrity check value|RAKP .*invalid password/i],
  ["wrong-user", /unauthorized name|invalid user ?name|unauthorized role/i],
  [
    "cipher-refused",
    /no matching cipher suite|invalid (authentication|integrity|confidentiality) algorithm|unsupported cipher/i,
  ],
  [
    "unreachable",
    /Get Auth Capabilities error|Error issuing Get Channel Authentication|No response|Connection refused|Unable to get Channel Cipher/i,
  ],
];

export function classifyIpmiFailure(output: string, timedOut = false): IpmiFailure {
  for (const [failure, pattern] of FAILURES) if (pattern.test(output)) return failure;
  return timedOut ? "unreachable" : "other";
}

/** "refused the password", for "Cannot fence ctl3 from ctl1: BMC 10.29.0.113 refused the password". */
export function describeIpmiFailure(failure: IpmiFailure, bmc: BmcEndpoint, detail: string): string {
  switch (failure) {
    case "wrong-password":
      return `refused the password of user ${bmc.user}`;
    case "wrong-user":
      return `does not know user ${bmc.user}`;
    case "cipher-refused":
      return `refused cipher suite ${bmc.cipherSuite}`;
    case "unreachable":
      return `did not answer on port ${bmc.port} (unreachable or timed out)`;
    case "other":
      return `failed: ${detail || "no output"}`;
  }
}

export function ipmiFailureHint(failure: IpmiFailure, passwordSecret: string): string {
  switch (failure) {
    case "wrong-password":
    case "wrong-user":
      return `check the BMC's user and the secret ${passwordSecret} (\`hastack secrets set ${passwordSecret}\`)`;
    case "cipher-refused":
      return "set bmc.cipher_suite to one the BMC offers (`ipmitool lan print` on the host lists them)";
    case "unreachable":
      return "check the BMC's address and port, and that the controllers are on the bmc network";
    case "other":
      return "run ipmitool -v by hand on the controller to see the BMC's answer";
  }
}

/** How ipmitool ran: wherever it ran (here, in the lab namespace, on a controller over SSH). */
export interface IpmiRun {
  code: number;
  stdout: string;
  stderr: string;
  timedOut?: boolean;
}

export type IpmiOutcome =
  | { ok: true; power?: PowerState; stdout: string }
  | { ok: false; failure: IpmiFailure; detail: string };

/** Folds one ipmitool run into an outcome; `password` is cut out of anything kept. */
export function ipmiOutcome(run: IpmiRun, password: string, command: readonly string[]): IpmiOutcome {
  const scrub = (text: string) => (password ? text.split(password).join("***") : text);
  const noise = /^Loading IANA PEN Registry/;
  const output = scrub(`${run.stderr}\n${run.stdout}`)
    .split("\n")
    .filter((l) => l.trim() !== "" && !noise.test(l))
    .join("\n");
  if (run.code !== 0 || run.timedOut)
    return { ok: false, failure: classifyIpmiFailure(output, run.timedOut), detail: lastLines(output, 2) };
  const isStatus = command.join(" ") === "chassis power status";
  return isStatus
    ? { ok: true, power: parsePowerStatus(run.stdout), stdout: run.stdout }
    : { ok: true, stdout: run.stdout };
}

export interface LocalIpmiOptions extends IpmitoolOptions {
  /** Wraps the command (the lab runs it inside its network namespace). */
  wrap?: (cmd: string, args: string[]) => [string, string[]];
  /** @default 20_000 */
  timeoutMs?: number;
}

/** Runs ipmitool on this machine against a BMC, the password in its environment only. */
export function ipmiLocal(
  bmc: BmcEndpoint,
  password: string,
  command: readonly string[],
  opts: LocalIpmiOptions = {},
): Promise<IpmiOutcome> {
  const [cmd, args] = (opts.wrap ?? ((c, a) => [c, a]))("ipmitool", ipmitoolArgs(bmc, command, opts));
  return new Promise((resolve) => {
    execFile(
      cmd,
      args,
      {
        encoding: "utf8",
        env: { ...process.env, IPMI_PASSWORD: password },
        timeout: opts.timeoutMs ?? 20_000,
      },
      (error, stdout, stderr) => {
        const timedOut = error?.killed === true;
        const code = error ? (typeof error.code === "number" ? error.code : 1) : 0;
        resolve(ipmiOutcome({ code, stdout, stderr, timedOut }, password, command));
      },
    );
  });
}

/** Throws the outcome's failure as a sentence: "Cannot power off ctl3: BMC 10.29.0.113 refused ...". */
export function requireIpmi(
  outcome: IpmiOutcome,
  what: string,
  bmc: BmcEndpoint,
): { power?: PowerState; stdout: string } {
  if (outcome.ok) return outcome;
  throw new HastackError(
    "E_IPMI",
    `Cannot ${what}: BMC ${bmc.address} ${describeIpmiFailure(outcome.failure, bmc, outcome.detail)}`,
  );
}
