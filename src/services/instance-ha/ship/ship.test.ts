import { execFileSync } from "node:child_process";
import { cp, mkdir, mkdtemp, readFile, rm, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join, posix } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseAgentConfig, parseAgentKey } from "../../../instance-ha/agent/config.ts";
import { hostKey } from "../../../instance-ha/heartbeat.ts";
import { buildReceiver } from "../../../instance-ha/native/build.ts";
import { exampleTopology } from "../../../testing/fixtures.ts";
import { toolRoot } from "../../../testing/real-tools.ts";
import { hostByName } from "../../../topology/types.ts";
import { shellQuote } from "../../../transport/shell-quote.ts";
import type { Transport } from "../../../transport/types.ts";
import { HastackError } from "../../../util/errors.ts";
import { type Container, startContainer } from "../../openstack/test-container.ts";
import { runStep } from "../../openstack/test-kit.ts";
import { services } from "../../registry.ts";
import type { StepSpec } from "../../types.ts";
import {
  AGENT_KEY_PATH,
  AGENT_PACKAGES,
  AGENT_SOURCES,
  AGENT_UNIT,
  agentConfigText,
} from "../agent-files.ts";
import { agentKeyStep } from "./key-step.ts";
import { nodeStep } from "./node-step.ts";
import { NODE_BIN, NODE_CURRENT, pinnedNode, REPO_ROOT } from "./pinned-node.ts";
import { type ProgramSpec, programSteps } from "./program-step.ts";

/**
 * The ship steps against a real host: a lab-image container, reached through a transport as the
 * deploy engine reaches a compute, with real copies, real sha256sum and the shipped Node really
 * running. One fake, at a boundary the container lacks: systemctl (nspawn runs a script, not
 * systemd), a script that logs its calls and says a unit is active when /tmp/active-<unit> exists.
 */
const host = "cmp1";
const topology = exampleTopology("lab");
const SECRET = "5e".repeat(32);
const DIR = "/opt/hastack/agent";
const SPARE = "util/spare.ts";
const FAKE_SYSTEMCTL = [
  "#!/bin/sh",
  'echo "$*" >> /tmp/systemctl.log',
  'if [ "$1" = is-active ]; then [ -e "/tmp/active-$3" ]; exit; fi',
].join("\n");

/** The real transport, with what crosses it counted. */
function counted(t: Transport) {
  const seen = { written: [] as string[], bytes: 0, reads: [] as string[] };
  const transport: Transport = {
    name: t.name,
    exec: (c, o) => {
      // The program's files go as one tar on stdin: what is in it, as GNU tar lists it.
      if (shellQuote(c).includes("tar -x") && o?.stdin)
        for (const name of execFileSync("tar", ["-t"], { input: o.stdin }).toString().split("\n"))
          if (name) seen.written.push(posix.join(String(c.at(-1)), name));
      return t.exec(c, o);
    },
    execRaw: (c, o) => t.execRaw(c, o),
    readFile: (p) => {
      seen.reads.push(p);
      return t.readFile(p);
    },
    writeFile: (p, d, o) => {
      seen.written.push(p);
      seen.bytes += d.length;
      return t.writeFile(p, d, o);
    },
    writeFiles: (files) => {
      for (const f of files) seen.written.push(f.path);
      seen.bytes += files.reduce((n, f) => n + f.data.length, 0);
      return t.writeFiles(files);
    },
    stat: (p) => t.stat(p),
    close: () => t.close(),
  };
  return { transport, seen };
}

// The first use may build the lab image (minutes): do it under the hook timeout, not a test timeout.
beforeAll(() => toolRoot(), 900_000);

describe("shipping the agent and the pinned Node to a host", () => {
  let box: Container;
  /** A copy of the checkout's agent sources (and a spare one), with the real node_modules. */
  let root: string;
  const agent = (sources: readonly string[], built?: ProgramSpec["built"]): ProgramSpec => ({
    id: "agent",
    title: "ship the agent",
    hosts: () => [host],
    dir: DIR,
    sources,
    packages: AGENT_PACKAGES,
    units: [AGENT_UNIT],
    root,
    ...(built ? { built } : {}),
  });
  /** A deploy run: fresh steps (as the engine builds them per run), each run the engine's way. */
  async function deploy(sources: readonly string[], t: Transport, built?: ProgramSpec["built"]) {
    const steps: StepSpec[] = [
      nodeStep([host]),
      ...programSteps(agent(sources, built), topology),
      agentKeyStep([host]),
    ];
    const runs = [];
    for (const step of steps)
      runs.push(
        await runStep({
          service: "instance-ha",
          step,
          host,
          topology,
          services,
          transport: t,
          secrets: { instance_ha_signing_key: SECRET },
        }),
      );
    for (const r of runs) expect(r.after).toBe(true);
    return { applied: runs.map((r) => r.applied), log: runs.flatMap((r) => r.log) };
  }
  const sh = async (script: string, stdin?: string) => {
    const r = await box.transport.exec(["sh", "-c", script], stdin === undefined ? {} : { stdin });
    return { ...r, stdout: r.stdout.trim() };
  };

  beforeAll(async () => {
    box = await startContainer(
      host,
      `printf '%s\\n' ${FAKE_SYSTEMCTL.split("\n")
        .map((l) => `'${l.replace(/'/g, `'\\''`)}'`)
        .join(" ")} > /usr/local/bin/systemctl && chmod 755 /usr/local/bin/systemctl`,
    );
    root = await mkdtemp(join(tmpdir(), "hastack-ship-"));
    for (const s of AGENT_SOURCES) {
      await mkdir(dirname(join(root, "src", s)), { recursive: true });
      await cp(join(REPO_ROOT, "src", s), join(root, "src", s));
    }
    await writeFile(join(root, "src", SPARE), "export const spare = 1;\n");
    await symlink(join(REPO_ROOT, "node_modules"), join(root, "node_modules"));
  }, 600_000);
  afterAll(async () => {
    await box?.stop();
    if (root) await rm(root, { recursive: true, force: true });
  });

  it("a first deploy copies Node and the program, and the shipped Node runs the shipped agent's config parser", async () => {
    const { transport, seen } = counted(box.transport);
    const node = await pinnedNode();

    const run = await deploy([...AGENT_SOURCES, SPARE], transport);

    expect(run.applied).toEqual([true, true, true]);
    // Node went gzipped (about 40% of its size), and arrived whole: its sha256 is marked beside it.
    expect(seen.bytes).toBeGreaterThan(node.size / 4);
    expect(seen.bytes).toBeLessThan(node.size);
    expect((await sh(`sha256sum < ${NODE_BIN}`)).stdout).toMatch(new RegExp(`^${node.sha256}\\b`));
    expect((await sh(`cat /opt/hastack/node/${node.version}/.sha256`)).stdout).toBe(node.sha256);
    expect((await sh(`readlink ${NODE_CURRENT}`)).stdout).toBe(node.version);
    expect((await sh(`${NODE_BIN} --version`)).stdout).toBe(node.version);
    expect((await sh(`ls ${DIR}/node_modules`)).stdout.split("\n")).toEqual(
      expect.arrayContaining(["pino", "zod", "sonic-boom", "thread-stream", "@pinojs"]),
    );
    const config = agentConfigText(topology, hostByName(topology, host));
    const parsed = await sh(
      `${NODE_BIN} --input-type=module -e 'const { readFileSync } = await import("node:fs");
       const { parseAgentConfig } = await import("${DIR}/instance-ha/agent/config.ts");
       process.stdout.write(JSON.stringify(parseAgentConfig(readFileSync(0, "utf8"))))'`,
      config,
    );
    expect(parsed.stderr).toBe("");
    expect(JSON.parse(parsed.stdout)).toEqual(JSON.parse(JSON.stringify(parseAgentConfig(config))));
    // The key: this host's, root's only, and never in a log.
    const key = await readFile(`${box.root}${AGENT_KEY_PATH}`, "utf8");
    expect(parseAgentKey(key)).toEqual(hostKey(SECRET, topology.cluster, host));
    expect((await sh(`stat -c '%a %U' ${AGENT_KEY_PATH}`)).stdout).toBe("600 root");
    expect(run.log.join("\n")).not.toContain(SECRET);
    expect(run.log.join("\n")).not.toContain(key.trim());
    // Nothing was running: nothing restarted.
    expect((await sh("cat /tmp/systemctl.log")).stdout).not.toMatch(/restart/);
  }, 600_000);

  it("a second deploy finds everything converged: the agent's check is one read, nothing is written", async () => {
    const { transport, seen } = counted(box.transport);

    const run = await deploy([...AGENT_SOURCES, SPARE], transport);

    expect(run.applied).toEqual([false, false, false]);
    expect(seen.written).toEqual([]);
    expect(seen.reads).toEqual([`${DIR}/.manifest.json`]);
  }, 300_000);

  it("a changed source is shipped alone, a dropped one deleted, and the running agent restarted", async () => {
    await sh(`rm -f /tmp/systemctl.log; touch /tmp/active-${AGENT_UNIT}`);
    const changed = join(root, "src/instance-ha/heartbeat.ts");
    await writeFile(changed, `${await readFile(changed, "utf8")}\n// changed by the ship test\n`);
    const { transport, seen } = counted(box.transport);

    const run = await deploy(AGENT_SOURCES, transport);

    expect(run.applied).toEqual([false, true, false]);
    expect(seen.written).toEqual([`${DIR}/instance-ha/heartbeat.ts`, `${DIR}/.manifest.json`]);
    expect((await sh(`tail -c 30 ${DIR}/instance-ha/heartbeat.ts`)).stdout).toContain(
      "changed by the ship test",
    );
    expect((await sh(`test -e ${DIR}/${SPARE}`)).code).not.toBe(0);
    expect((await sh(`test -e ${DIR}/util/errors.ts`)).code).toBe(0);
    expect((await sh("cat /tmp/systemctl.log")).stdout).toContain(`restart ${AGENT_UNIT}`);
  }, 300_000);

  it("a program missing a source it imports fails its load check and stays unconverged, until fixed", async () => {
    const [step] = programSteps(agent(AGENT_SOURCES.filter((s) => s !== "instance-ha/mac.ts")), topology);
    const run = () =>
      runStep({
        service: "instance-ha",
        step: step as StepSpec,
        host,
        topology,
        services,
        transport: box.transport,
        secrets: {},
      });

    const failed = async () => {
      const error = await run().catch((e: unknown) => e);
      expect(error).toBeInstanceOf(HastackError);
      return error as HastackError;
    };

    const error = await failed();

    expect(error.code).toBe("E_SHIP_LOAD");
    expect(error.message).toContain("mac.ts");
    // Not converged: the next run applies (and fails) again rather than trusting the old manifest.
    expect((await failed()).code).toBe("E_SHIP_LOAD");
    // The full list again: mac.ts is shipped back, and the step converges.
    const { transport, seen } = counted(box.transport);
    expect((await deploy(AGENT_SOURCES, transport)).applied).toEqual([false, true, false]);
    expect(seen.written).toEqual([`${DIR}/instance-ha/mac.ts`, `${DIR}/.manifest.json`]);
  }, 300_000);

  it("Node is not copied again when its sha256 matches: a wrong link is only repointed", async () => {
    await sh(`ln -sfn v0.0.0 ${NODE_CURRENT}`);
    const { transport, seen } = counted(box.transport);

    const run = await deploy(AGENT_SOURCES, transport);

    expect(run.applied).toEqual([true, false, false]);
    const { version } = await pinnedNode();
    expect(seen.written).toEqual([`/opt/hastack/node/${version}/.sha256`]);
    expect((await sh(`readlink ${NODE_CURRENT}`)).stdout).toBe(version);
  }, 300_000);

  it("Node's check trusts its marker only with the binary's size: a truncated binary is copied again, an unmarked good one only marked", async () => {
    const node = await pinnedNode();
    const marker = `/opt/hastack/node/${node.version}/.sha256`;
    await sh(`truncate -s 1000000 /opt/hastack/node/${node.version}/bin/node`);
    const truncated = counted(box.transport);
    expect((await deploy(AGENT_SOURCES, truncated.transport)).applied).toEqual([true, false, false]);
    expect(truncated.seen.bytes).toBeGreaterThan(node.size / 4);
    expect((await sh(`${NODE_BIN} --version`)).stdout).toBe(node.version);

    // Put there by an older hastack, which wrote no marker: hashed once on the host, not copied.
    await sh(`rm -f ${marker}`);
    const unmarked = counted(box.transport);
    expect((await deploy(AGENT_SOURCES, unmarked.transport)).applied).toEqual([true, false, false]);
    expect(unmarked.seen.written).toEqual([marker]);
    expect(unmarked.seen.bytes).toBeLessThan(1000);
  }, 300_000);

  it("a file built on the deploying machine (the engine's native receiver) arrives executable and runs there, on the host's libcrypto", async () => {
    const built = [{ path: "bin/hb-recv", mode: 0o755, build: async () => (await buildReceiver()).data }];
    const { transport, seen } = counted(box.transport);

    expect((await deploy(AGENT_SOURCES, transport, built)).applied).toEqual([false, true, false]);
    expect(seen.written).toEqual([`${DIR}/bin/hb-recv`, `${DIR}/.manifest.json`]);
    expect((await sh(`stat -c '%a %U' ${DIR}/bin/hb-recv`)).stdout).toBe("755 root");
    // It links (libcrypto.so.3 of the host's Debian), binds, says ready ('R'), and ends with its stdin.
    const r = await sh(`printf 'bind 0 127.0.0.1 0 65536\nend\n' | ${DIR}/bin/hb-recv | head -c 1`);
    expect(r.stderr).toBe("");
    expect(r.stdout).toBe("R");
    // Converged with it: a second run writes nothing.
    const again = counted(box.transport);
    expect((await deploy(AGENT_SOURCES, again.transport, built)).applied).toEqual([false, false, false]);
    expect(again.seen.written).toEqual([]);
  }, 300_000);
});
