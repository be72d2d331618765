/**
 * Keystone deployed for real on the lab's controllers, behind the VIP: a token through the VIP
 * from every controller, validated by every controller's own Keystone (identical keys), the
 * openrc files with the real client, status green for Keystone, a second deploy changing
 * nothing, and rotate-keys: a token issued before the rotation stays valid everywhere after it,
 * and a second rotation keeps the keys identical.
 */
import fs from "node:fs/promises";
import path from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { type LabHandle, useLab } from "../../lab/testing.ts";
import { hastackSync } from "../../testing/lab-cli.ts";
import { loginBody } from "./token.ts";

const CONTROLLERS = [
  ["ctl1", "10.20.0.11"],
  ["ctl2", "10.20.0.12"],
  ["ctl3", "10.20.0.13"],
] as const;
const VIP = "http://10.20.0.10:5000/v3";

const hastack = hastackSync;

let lab: LabHandle;

/** A token for `user` through `url`, asked from `host` (the body, with the password, on stdin). */
async function token(host: string, url: string, password: string, user = "admin"): Promise<string> {
  const r = await lab.ssh(
    host,
    [
      "curl",
      "-sS",
      "-o",
      "/dev/null",
      "-D",
      "-",
      "-H",
      "Content-Type: application/json",
      "--data-binary",
      "@-",
      `${url}/auth/tokens`,
    ],
    loginBody({ authUrl: url, user, password, project: user }),
  );
  const found = /^x-subject-token:\s*(\S+)/im.exec(r.stdout)?.[1];
  if (!found) throw new Error(`no token from ${url} on ${host}: ${r.stdout.split("\n")[0]} ${r.stderr}`);
  return found;
}

/** The status code `url`'s Keystone answers when asked to validate `subject`. */
async function validate(host: string, url: string, subject: string): Promise<string> {
  const r = await lab.ssh(
    host,
    ["curl", "-sS", "-o", "/dev/null", "-w", "%{http_code}", "-H", "@-", `${url}/auth/tokens`],
    `X-Auth-Token: ${subject}\nX-Subject-Token: ${subject}\n`,
  );
  return r.stdout.trim();
}

async function adminPassword(): Promise<string> {
  const text = await fs.readFile(path.join(path.dirname(lab.inventoryPath), "admin-openrc.sh"), "utf8");
  const found = /^export OS_PASSWORD='([^']+)'$/m.exec(text)?.[1];
  if (!found) throw new Error("admin-openrc.sh has no OS_PASSWORD");
  return found;
}

beforeAll(async () => {
  lab = await useLab((line) => process.stderr.write(`${line}\n`));
}, 1_800_000);

describe("Keystone on the lab", () => {
  it("deploys on every controller; status says Keystone works; a second deploy changes nothing", {
    timeout: 2_400_000,
  }, async () => {
    expect(hastack(["secrets", "init", "-i", lab.inventoryPath]).code).toBe(0);
    const deploy = hastack(["deploy", "-i", lab.inventoryPath, "--quiet"], 1_800_000);
    process.stderr.write(
      `deploy with Keystone: ${deploy.seconds.toFixed(1)} s\n${deploy.out.slice(-1500)}\n`,
    );
    expect(deploy.code).toBe(0);
    const status = hastack(["status", "-i", lab.inventoryPath, "--only", "keystone", "--json"], 180_000);
    const checks = (
      JSON.parse(status.stdout) as {
        checks: { probe: string; host?: string; state: string; summary: string }[];
      }
    ).checks;
    process.stderr.write(
      `${checks.map((c) => `${c.probe}@${c.host}: ${c.state}: ${c.summary}`).join("\n")}\n`,
    );
    expect(
      checks
        .filter((c) => c.probe === "token")
        .map((c) => c.host)
        .sort(),
    ).toEqual(["ctl1", "ctl2", "ctl3"]);
    expect(checks.filter((c) => c.state !== "ok")).toEqual([]);
    const again = hastack(["deploy", "-i", lab.inventoryPath, "--quiet"], 900_000);
    process.stderr.write(`second deploy: ${again.seconds.toFixed(1)} s\n${again.out.slice(-600)}\n`);
    expect(again.code).toBe(0);
    expect(again.out).toMatch(/\b0 changed\b/);
  });

  it("issues a token through the VIP from every controller; every controller's own Keystone validates it", {
    timeout: 600_000,
  }, async () => {
    const password = await adminPassword();
    for (const [from] of CONTROLLERS) {
      const t = await token(from, VIP, password);
      for (const [on, ip] of CONTROLLERS)
        expect(await validate(on, `http://${ip}:5000/v3`, t), `${from} -> ${on}`).toBe("200");
    }
    const keys = await Promise.all(
      CONTROLLERS.map(
        async ([h]) =>
          (await lab.ssh(h, ["sh", "-c", "cd /etc/keystone/fernet-keys && sha256sum * | sha256sum"])).stdout,
      ),
    );
    expect(new Set(keys).size).toBe(1);
    // The openrc files: 0600, and the real client logs in with each.
    for (const name of ["admin-openrc.sh", "demo-openrc.sh"]) {
      const file = path.join(path.dirname(lab.inventoryPath), name);
      expect(((await fs.stat(file)).mode & 0o777).toString(8)).toBe("600");
      const r = await lab.ssh(
        "ctl2",
        ["sh", "-c", 'eval "$(cat)"; exec openstack token issue -f json'],
        await fs.readFile(file, "utf8"),
      );
      expect(r.code, r.stderr).toBe(0);
    }
  });

  it("rotate-keys: tokens issued before stay valid on every controller; keys stay identical", {
    timeout: 600_000,
  }, async () => {
    const password = await adminPassword();
    const before = await token("ctl1", VIP, password);
    for (let round = 1; round <= 2; round++) {
      const r = hastack(["keystone", "rotate-keys", "-i", lab.inventoryPath, "--json"], 300_000);
      process.stderr.write(`rotate-keys #${round}: ${r.seconds.toFixed(1)} s ${r.stdout}\n`);
      expect(r.code).toBe(0);
      expect(JSON.parse(r.stdout)).toMatchObject({ outcome: "rotated" });
      const keys = await Promise.all(
        CONTROLLERS.map(
          async ([h]) =>
            (await lab.ssh(h, ["sh", "-c", "cd /etc/keystone/fernet-keys && sha256sum * | sha256sum"]))
              .stdout,
        ),
      );
      expect(new Set(keys).size).toBe(1);
      const after = await token("ctl3", VIP, password);
      for (const [on, ip] of CONTROLLERS) {
        expect(await validate(on, `http://${ip}:5000/v3`, before), `old token on ${on}`).toBe("200");
        expect(await validate(on, `http://${ip}:5000/v3`, after), `new token on ${on}`).toBe("200");
      }
    }
    // The deploy agrees with what the rotations left.
    const again = hastack(["deploy", "-i", lab.inventoryPath, "--quiet"], 900_000);
    expect(again.out).toMatch(/\b0 changed\b/);
  });
});
