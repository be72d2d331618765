import { z } from "zod";

/**
 * What Ceph 18 (reef) answers with `-f json`, only the fields hastack reads. Unknown fields are
 * dropped; a missing field hastack needs is an error naming the command (parseToolOutput).
 */

export const QuorumStatus = z.object({
  quorum_names: z.array(z.string()),
  quorum_leader_name: z.string().optional(),
  election_epoch: z.number(),
  monmap: z.object({ mons: z.array(z.object({ name: z.string(), rank: z.number() })) }),
});
export type QuorumStatus = z.output<typeof QuorumStatus>;

export const MgrDump = z.object({
  epoch: z.number(),
  available: z.boolean(),
  active_name: z.string(),
  standbys: z.array(z.object({ name: z.string() })),
});
export type MgrDump = z.output<typeof MgrDump>;

const HealthCheck = z.object({
  severity: z.string(),
  summary: z.object({ message: z.string(), count: z.number().optional() }),
  detail: z.array(z.object({ message: z.string() })).optional(),
  muted: z.boolean().optional(),
});

export const Health = z.object({
  status: z.enum(["HEALTH_OK", "HEALTH_WARN", "HEALTH_ERR"]),
  checks: z.record(z.string(), HealthCheck),
});
export type Health = z.output<typeof Health>;

export const Status = z.object({
  fsid: z.string(),
  health: Health,
  quorum_names: z.array(z.string()),
  osdmap: z.object({ num_osds: z.number(), num_up_osds: z.number(), num_in_osds: z.number() }),
  pgmap: z.object({
    num_pgs: z.number(),
    pgs_by_state: z.array(z.object({ state_name: z.string(), count: z.number() })).default([]),
    bytes_used: z.number().optional(),
    bytes_total: z.number().optional(),
  }),
});
export type Status = z.output<typeof Status>;

export const OsdTree = z.object({
  nodes: z.array(
    z.object({
      id: z.number(),
      name: z.string(),
      type: z.string(),
      children: z.array(z.number()).optional(),
      status: z.string().optional(),
      reweight: z.number().optional(),
    }),
  ),
  stray: z.array(z.object({ id: z.number(), name: z.string() })).default([]),
});
export type OsdTree = z.output<typeof OsdTree>;

export const OsdDump = z.object({
  epoch: z.number(),
  flags: z.string(),
  full_ratio: z.number(),
  backfillfull_ratio: z.number(),
  nearfull_ratio: z.number(),
  pools: z.array(
    z.object({
      pool_name: z.string(),
      size: z.number(),
      min_size: z.number(),
      crush_rule: z.number(),
      pg_num: z.number(),
      application_metadata: z.record(z.string(), z.unknown()),
    }),
  ),
  osds: z.array(
    z.object({
      osd: z.number(),
      uuid: z.string(),
      up: z.number(),
      in: z.number(),
      /** The OSD map epoch it last came up in: a restarted OSD has a newer one. */
      up_from: z.number(),
      /** "exists", "up", "destroyed"...: a destroyed OSD keeps its id and CRUSH place for its replacement. */
      state: z.array(z.string()).default([]),
    }),
  ),
});
export type OsdDump = z.output<typeof OsdDump>;

export const CrushRules = z.array(
  z.object({
    rule_id: z.number(),
    rule_name: z.string(),
    steps: z.array(
      z.object({ op: z.string(), type: z.string().optional(), item_name: z.string().optional() }),
    ),
  }),
);
export type CrushRules = z.output<typeof CrushRules>;

export const Df = z.object({
  stats: z.object({
    total_bytes: z.number(),
    total_used_raw_bytes: z.number(),
    total_avail_bytes: z.number(),
  }),
  pools: z.array(
    z.object({
      name: z.string(),
      stats: z.object({
        stored: z.number(),
        percent_used: z.number(),
        max_avail: z.number(),
        objects: z.number(),
      }),
    }),
  ),
});
export type Df = z.output<typeof Df>;

/** `ceph osd df`: per OSD fill. `utilization` is a percentage (0-100), unlike `ceph df`'s fractions. */
export const OsdDf = z.object({
  nodes: z.array(
    z.object({
      id: z.number(),
      name: z.string(),
      kb: z.number(),
      kb_used: z.number(),
      kb_avail: z.number(),
      utilization: z.number(),
      reweight: z.number(),
      status: z.string().optional(),
    }),
  ),
});
export type OsdDf = z.output<typeof OsdDf>;

export const AuthEntities = z.array(
  z.object({ entity: z.string(), key: z.string(), caps: z.record(z.string(), z.string()).default({}) }),
);
export type AuthEntities = z.output<typeof AuthEntities>;

export const AuthDump = z.object({ auth_dump: AuthEntities });

/** `ceph-volume lvm list DEV --format json`: OSD id -> its logical volumes ({} when none). */
export const VolumeList = z.record(
  z.string(),
  z.array(z.object({ type: z.string(), devices: z.array(z.string()) })),
);
