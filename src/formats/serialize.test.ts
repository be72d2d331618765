import { describe, expect, it } from "vitest";
import { HastackError } from "../util/errors.ts";
import { type ConfigDoc, setEntry } from "./doc.ts";
import { serializeDoc } from "./serialize.ts";

describe("serializeDoc", () => {
  it("writes keepalived blocks with bare words and nested blocks", () => {
    const doc: ConfigDoc = {
      format: "keepalived",
      sections: [
        {
          name: "vrrp_instance VI",
          entries: [
            ["state", "BACKUP"],
            ["nopreempt", ""],
          ],
          children: [{ name: "unicast_peer", entries: [["10.0.0.2", ""]] }],
        },
      ],
    };
    expect(serializeDoc(doc)).toBe(
      "vrrp_instance VI {\n    state BACKUP\n    nopreempt\n    unicast_peer {\n        10.0.0.2\n    }\n}\n",
    );
  });

  it("writes space-separated flat files with repeated keys", () => {
    const doc: ConfigDoc = {
      format: "space",
      sections: [
        {
          name: "",
          entries: [
            ["server", "a iburst"],
            ["server", "b iburst"],
            ["rtcsync", ""],
          ],
        },
      ],
    };
    expect(serializeDoc(doc)).toBe("server a iburst\nserver b iburst\nrtcsync\n");
  });

  it("refuses a value that would smuggle a second line into the file (an override, say)", () => {
    const doc: ConfigDoc = { format: "keyvalue", sections: [{ name: "", entries: [["a", "1"]] }] };
    setEntry(doc, "", "a", "1\nloopback_users.guest = false");
    expect(() => serializeDoc(doc)).toThrow(HastackError);
  });

  it("escapes what a shell would expand in /etc/default files", () => {
    const doc: ConfigDoc = { format: "shell-env", sections: [{ name: "", entries: [["X", 'a"$b`c\\']] }] };
    expect(serializeDoc(doc)).toBe('X="a\\"\\$b\\`c\\\\"\n');
  });
});
