/**
 * @module
 * For neutron's tests: the captured outputs in fixtures/ (README.md there says how each was
 * made), with the three loopback "controllers" of the ovn-ctl capture mapped to the lab's.
 */
import { readFileSync } from "node:fs";

export function fixture(name: string): string {
  return readFileSync(new URL(`./fixtures/${name}`, import.meta.url), "utf8");
}

/** An ovn-ctl capture as ctl1..ctl3 of examples/lab.yaml would print it, for `db`. */
export function labClusterStatus(
  name: "ovn-ctl-leader.txt" | "ovn-ctl-follower.txt",
  db: "nb" | "sb",
): string {
  const text = fixture(name).replace(/127\.0\.0\.([123])/g, "10.20.0.1$1");
  return db === "nb"
    ? text
    : text.replaceAll("OVN_Northbound", "OVN_Southbound").replaceAll(":6643", ":6644");
}
