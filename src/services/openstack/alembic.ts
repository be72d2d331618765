/**
 * @module
 * The alembic-head schema check (spec.ts's SchemaCheck) for a manage tool that prints the stored
 * revision but cannot say whether it is current: the head the installed code knows is read from
 * its migration scripts by the service's own migration module, without the database. Only the
 * tool's argv, the module and how it finds its alembic config differ between services.
 */
import type { SchemaCheck } from "./spec.ts";

export interface AlembicSource {
  /** Prints the stored revision ("None" before the first sync), e.g. `placement-manage db version`. */
  current: string[];
  /** The package whose `migration` module knows the alembic config, e.g. `cinder.db`. */
  module: string;
  /** The call on that module that returns the alembic config, e.g. `_find_alembic_conf()`. */
  config: string;
}

export function alembicHeadCheck(source: AlembicSource): SchemaCheck {
  return {
    kind: "alembic-head",
    current: source.current,
    head: [
      "python3",
      "-c",
      `from alembic.script import ScriptDirectory\nfrom ${source.module} import migration\nprint(ScriptDirectory.from_config(migration.${source.config}).get_current_head())`,
    ],
  };
}
