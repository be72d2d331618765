import { describe, expect, it } from "vitest";
import { alembicHeadCheck } from "./alembic.ts";

describe("alembicHeadCheck", () => {
  it("asks the stored revision with the tool and the head with the service's own migration module", () => {
    expect(
      alembicHeadCheck({
        current: ["cinder-manage", "db", "version"],
        module: "cinder.db",
        config: "_find_alembic_conf()",
      }),
    ).toEqual({
      kind: "alembic-head",
      current: ["cinder-manage", "db", "version"],
      head: [
        "python3",
        "-c",
        "from alembic.script import ScriptDirectory\nfrom cinder.db import migration\nprint(ScriptDirectory.from_config(migration._find_alembic_conf()).get_current_head())",
      ],
    });
  });
});
