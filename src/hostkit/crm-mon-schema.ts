/**
 * @module
 * The zod schemas of crm_mon's and stonith_admin's XML, after Pacemaker's API schema
 * (xml/api/crm_mon-2.*.rng, nodes-*, resources-*, failure-2.8, fence-event-2.15): attribute
 * names as Pacemaker prints them, booleans and numbers as text.
 */
import { z } from "zod";

const Bool = z.enum(["true", "false"]).transform((v) => v === "true");
const Int = z
  .string()
  .regex(/^-?\d+$/)
  .transform((v) => Number(v));

export const DcXml = z.object({
  present: Bool,
  name: z.string().optional(),
  with_quorum: Bool.optional(),
});

/** Pacemaker 3 may call it fencing-enabled (crm_mon-2.42); 3.0.0 prints stonith-enabled. */
export const OptionsXml = z.object({
  "stonith-enabled": Bool.optional(),
  "fencing-enabled": Bool.optional(),
  "maintenance-mode": Bool,
  "stop-all-resources": Bool.optional(),
  "no-quorum-policy": z.string(),
});

export const NodeXml = z.object({
  name: z.string(),
  id: z.string(),
  online: Bool,
  standby: Bool,
  maintenance: Bool,
  pending: Bool,
  unclean: Bool,
  shutdown: Bool,
  is_dc: Bool,
  resources_running: Int,
  type: z.string(),
});

export const ResourceXml = z.object({
  id: z.string(),
  resource_agent: z.string(),
  role: z.string(),
  active: Bool,
  orphaned: Bool,
  blocked: Bool,
  managed: Bool,
  failed: Bool,
  nodes: z.array(z.string()),
  /** The top-level clone, group or bundle it is an instance or member of. */
  parent: z.string().optional(),
});

export const FailureXml = z
  .object({
    op_key: z.string().optional(),
    id: z.string().optional(),
    node: z.string(),
    exitstatus: z.string(),
    exitreason: z.string(),
    exitcode: Int,
    call: Int,
    status: z.string(),
    "last-rc-change": z.string().optional(),
    task: z.string().optional(),
  })
  .refine((f) => f.op_key !== undefined || f.id !== undefined, "a failure has neither op_key nor id");

export const FenceXml = z.object({
  status: z.enum(["failed", "success", "pending"]),
  action: z.string(),
  target: z.string(),
  client: z.string(),
  origin: z.string(),
  delegate: z.string().optional(),
  completed: z.string().optional(),
  "exit-reason": z.string().optional(),
});

export const BanXml = z.object({ id: z.string(), resource: z.string(), node: z.string(), weight: Int });

export const CrmMonXml = z.object({
  summary: z.object({
    current_dc: DcXml,
    cluster_options: OptionsXml,
  }),
  nodes: z.array(NodeXml),
  resources: z.array(ResourceXml),
  failures: z.array(FailureXml),
  /** Absent when crm_mon was not asked for it (or it has nothing to say at level 1). */
  fence_history: z.array(FenceXml),
  bans: z.array(BanXml),
});
