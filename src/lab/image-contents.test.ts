import { describe, expect, it } from "vitest";
import { services } from "../services/registry.ts";
import { imageContents, unitActions } from "./image-contents.ts";
import { ALWAYS_MASK, BASE_PACKAGES } from "./image-recipe.ts";

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

  it("never masks a unit the deploy enables: nova-compute, libvirtd and its sockets, OVS and OVN", () => {
    // What the packages leave enabled in the trixie image (systemctl list-unit-files --state=enabled).
    const enabled = [
      "nova-compute.service",
      "libvirtd.service",
      "libvirtd.socket",
      "virtlogd.socket",
      "openvswitch-switch.service",
      "ovs-record-hostname.service",
      "ovn-host.service",
      "ovn-central.service",
      "neutron-ovn-metadata-agent.service",
      "nova-serialproxy.service",
      "libvirt-guests.service",
      "smartmontools.service",
      "ssh.service",
      "getty@.service",
    ];
    const { disable, mask } = unitActions(enabled, { packages, deployManaged });
    for (const unit of [
      "nova-compute.service",
      "libvirtd.service",
      "libvirtd.socket",
      "libvirtd-ro.socket",
      "libvirtd-admin.socket",
      "virtlogd.service",
      "virtlogd.socket",
      "openvswitch-switch.service",
      "ovs-record-hostname.service",
      "ovn-controller.service",
      "ovn-host.service",
      "ovn-northd.service",
      "neutron-ovn-metadata-agent.service",
    ]) {
      expect(deployManaged, unit).toContain(unit);
      expect(mask, unit).not.toContain(unit);
    }
    // Enabled by their packages, so disabled: a fresh host boots with them idle.
    for (const unit of [
      "nova-compute.service",
      "libvirtd.service",
      "ovn-host.service",
      "ovn-central.service",
    ])
      expect(disable, unit).toContain(unit);
    // Nothing deploys these: masked, as before.
    for (const unit of [
      "nova-serialproxy.service",
      "libvirt-guests.service",
      "virtlockd.socket",
      "smartmontools.service",
    ])
      expect(mask, unit).toContain(unit);
    expect(disable).not.toContain("ssh.service");
    expect(mask).not.toContain("ssh.service");
    expect(mask).not.toContain("getty@.service");
  });

  it("masks what ALWAYS_MASK lists when no service deploys it", () => {
    const { mask } = unitActions([], { packages: [], deployManaged: [] });
    expect(mask).toEqual(ALWAYS_MASK);
  });
});
