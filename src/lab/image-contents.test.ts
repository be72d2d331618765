import { describe, expect, it } from "vitest";
import { services } from "../services/registry.ts";
import { imageContents } from "./image-contents.ts";
import { BASE_PACKAGES } from "./image-recipe.ts";

describe("the lab image contents", () => {
  const components = services.flatMap((s) => s.components ?? []);
  const { packages, deployManaged } = imageContents(components);

  it("holds every package of every service's components, once", () => {
    for (const c of components) for (const p of c.packages) expect(packages, `${c.name}: ${p}`).toContain(p);
    expect(new Set(packages).size).toBe(packages.length);
    expect(packages.slice(0, BASE_PACKAGES.length)).toEqual(BASE_PACKAGES);
  });

  it("follows the services: a new component's package and unit are in the image", () => {
    const more = imageContents([
      ...components,
      { name: "toy", role: "compute", packages: ["toy-agent"], units: ["toy-agent.service"] },
    ]);
    expect(more.packages).toContain("toy-agent");
    expect(more.deployManaged).toContain("toy-agent.service");
    expect(packages).not.toContain("toy-agent");
  });

  it("leaves units the image keeps enabled (chrony, ssh) out of the deploy-managed ones", () => {
    expect(deployManaged).toContain("mariadb.service");
    expect(deployManaged).toContain("pacemaker.service");
    expect(deployManaged).not.toContain("chrony.service");
  });
});
