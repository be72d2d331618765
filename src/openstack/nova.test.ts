import { afterEach, describe, expect, it } from "vitest";
import { type FakeNova, type FakeServer, novaOf, startFakeNova } from "../testing/fake-nova.ts";
import { send } from "./client.ts";
import { COMPUTE_API_VERSION, type Nova, NovaError } from "./nova.ts";

// A real Nova needs the lab (busy with other work), so these run against a small real HTTP server
// (src/testing/fake-nova.ts) that speaks the Nova API subset with the reference's field names and
// refuses requests outside microversions 2.53-2.94. The client under test is the real one, over
// node:http, logged in through the fake's Keystone v3 token with a catalogue.
let fake: FakeNova | undefined;
afterEach(async () => {
  await fake?.close();
  fake = undefined;
});

function vm(id: string, host: string | null, vmState = "active"): FakeServer {
  return { id, name: `vm-${id}`, host, vm_state: vmState, task_state: null };
}

async function start(servers: FakeServer[]): Promise<{ fake: FakeNova; nova: Nova }> {
  fake = await startFakeNova({
    services: [
      {
        id: "svc-1",
        host: "cmp1",
        status: "enabled",
        disabled_reason: null,
        forced_down: false,
        alive: true,
      },
      {
        id: "svc-2",
        host: "cmp2",
        status: "enabled",
        disabled_reason: null,
        forced_down: false,
        alive: true,
      },
    ],
    servers,
  });
  return { fake, nova: await novaOf(fake) };
}

describe("openstack/nova", () => {
  it("pins every call to one microversion below 2.95, in both headers", async () => {
    const { fake, nova } = await start([vm("a", "cmp1")]);
    await nova.computeServices("cmp1");
    await nova.server("a");
    expect(fake.log.map((l) => l.version)).toEqual([
      `compute ${COMPUTE_API_VERSION}`,
      `compute ${COMPUTE_API_VERSION}`,
    ]);
    const minor = Number(COMPUTE_API_VERSION.split(".")[1]);
    expect(minor).toBeGreaterThanOrEqual(53);
    expect(minor).toBeLessThan(95);
    // The fake refuses a request without the version (it checks what the client sends).
    const raw = await send("GET", `${fake.url}/v2.1/os-services`, {
      headers: { "x-auth-token": "tok-admin" },
    });
    expect(raw.status).toBe(406);
  });

  it("lists a host's servers across projects page after page, with the marker of each page's last", async () => {
    const servers = [1, 2, 3, 4, 5, 6, 7].map((n) => vm(`s${n}`, n === 4 ? "cmp2" : "cmp1"));
    const { fake, nova } = await start(servers);
    const found = await nova.serversOnHost("cmp1", 2);
    expect(found.map((s) => s.id)).toEqual(["s1", "s2", "s3", "s5", "s6", "s7"]);
    expect(found[0]).toEqual({
      id: "s1",
      name: "vm-s1",
      status: "ACTIVE",
      host: "cmp1",
      vmState: "active",
      taskState: null,
      tags: [],
      extraSpecs: {},
    });
    const lists = fake.log.filter((l) => l.path.startsWith("/v2.1/servers/detail"));
    expect(lists.map((l) => new URL(l.path, fake.url).searchParams.get("marker"))).toEqual([
      null,
      "s2",
      "s5",
      "s7",
    ]);
    for (const l of lists) expect(l.path).toMatch(/all_tenants=1&host=cmp1&limit=2/);
  });

  it("lists the servers whose names match a pattern, on every host, in one request when they fit a page", async () => {
    const servers = [vm("a", "cmp1"), vm("b", "cmp2"), { ...vm("c", "cmp1"), name: "other-c" }];
    const { fake, nova } = await start(servers);
    const found = await nova.serversNamed("^vm-");
    expect(found.map((s) => [s.id, s.host])).toEqual([
      ["a", "cmp1"],
      ["b", "cmp2"],
    ]);
    const lists = fake.log.filter((l) => l.path.startsWith("/v2.1/servers/detail"));
    expect(lists.map((l) => new URL(l.path, fake.url).searchParams.get("name"))).toEqual(["^vm-"]);
  });

  it("forces a service down and disables it by id, and reads the service Nova answers", async () => {
    const { fake, nova } = await start([]);
    expect((await nova.forceDown("svc-1", true)).state).toBe("down");
    const disabled = await nova.disableService("svc-1", "hastack instance-ha: test");
    expect(disabled).toMatchObject({
      status: "disabled",
      disabled_reason: "hastack instance-ha: test",
      forced_down: true,
    });
    expect(fake.log.map((l) => [l.method, l.path, l.body])).toEqual([
      ["PUT", "/v2.1/os-services/svc-1", { forced_down: true }],
      [
        "PUT",
        "/v2.1/os-services/svc-1",
        { status: "disabled", disabled_reason: "hastack instance-ha: test" },
      ],
    ]);
  });

  it("says what Nova refused in its own words, with the status", async () => {
    const { nova } = await start([vm("a", "cmp1")]);
    const refused = await nova.evacuate("a", "cmp1").catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(NovaError);
    expect(refused).toMatchObject({
      code: "E_OPENSTACK_API",
      status: 400,
      message: "Cannot evacuate server a from cmp1: HTTP 400: Compute service of cmp1 is still in use.",
    });
  });

  it("sends the target host when there is one and nothing else (no force, no onSharedStorage)", async () => {
    const { fake, nova } = await start([vm("a", "cmp1"), vm("b", "cmp1")]);
    await nova.forceDown("svc-1", true);
    await nova.evacuate("a", "cmp1", "cmp2");
    await nova.evacuate("b", "cmp1");
    const posts = fake.log.filter((l) => l.method === "POST");
    expect(posts.map((l) => l.body)).toEqual([{ evacuate: { host: "cmp2" } }, { evacuate: {} }]);
  });

  it("answers undefined for a server Nova does not know, and refuses an answer of another shape", async () => {
    const { fake, nova } = await start([vm("a", "cmp1")]);
    expect(await nova.server("gone")).toBeUndefined();
    const broken = fake.servers[0] as FakeServer;
    (broken as unknown as Record<string, unknown>).name = 7;
    await expect(nova.server("a")).rejects.toMatchObject({
      code: "E_OPENSTACK_ANSWER",
      message: expect.stringContaining("at server.name"),
    });
  });
});
