// Writes docs/errors.md from src/util/error-codes.ts (a test fails while it is stale).
import { writeFileSync } from "node:fs";
import { errorsMarkdown } from "../src/util/error-codes.ts";

writeFileSync(new URL("../docs/errors.md", import.meta.url), errorsMarkdown());
