import { materialize } from "../inventory/secrets.ts";
import type { RenderedFile } from "./render.ts";

/** The bytes a host gets for a rendered file: secrets swapped in, base64 files decoded. */
export function fileBytes(file: RenderedFile, secrets: Readonly<Record<string, string>>): Buffer {
  const text = materialize(file.text, secrets);
  return file.encoding === "base64" ? Buffer.from(text.trim(), "base64") : Buffer.from(text, "utf8");
}
