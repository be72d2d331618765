/**
 * @module
 * What the `openstack` client answers with `-f json`, as far as the smoke reads it (zod: a client
 * that answers something else is an error naming the command, never an undefined further on).
 */
import { z } from "zod";

export const Created = z.looseObject({ id: z.string() });

export const ServerShow = z.looseObject({
  id: z.string(),
  status: z.string(),
  // {"net": ["10.0.0.5"]} from 2025.1's client; older ones print a string: read both.
  addresses: z.union([z.record(z.string(), z.array(z.string())), z.string()]).optional(),
  fault: z.unknown().optional(),
  "OS-EXT-SRV-ATTR:host": z.string().nullable().optional(),
  // libvirt's domain name (admin only): where the hypervisor is asked about the server.
  "OS-EXT-SRV-ATTR:instance_name": z.string().nullable().optional(),
});
export type ServerShow = z.output<typeof ServerShow>;

export const NamedList = z.array(z.looseObject({ ID: z.string(), Name: z.string() }));

export const ImageShow = z.looseObject({
  id: z.string(),
  status: z.string(),
  disk_format: z.string().nullable().optional(),
  properties: z.record(z.string(), z.unknown()).nullable().optional(),
});

export const NetworkAgents = z.array(
  z.looseObject({ "Agent Type": z.string(), Host: z.string(), Alive: z.union([z.boolean(), z.string()]) }),
);

/** Every IPv4 address of a server, whatever shape its `addresses` field has. */
export function serverAddresses(s: ServerShow): string[] {
  const text = typeof s.addresses === "string" ? s.addresses : JSON.stringify(s.addresses ?? {});
  return [...text.matchAll(/\b(\d{1,3}(?:\.\d{1,3}){3})\b/g)].map((m) => m[1] ?? "").filter(Boolean);
}

/** A server's fault message (Nova's `fault.message`), for an ERROR's reason. */
export function faultMessage(s: ServerShow): string {
  const f = s.fault;
  if (f && typeof f === "object" && "message" in f) return String((f as { message: unknown }).message);
  return "no fault recorded";
}
