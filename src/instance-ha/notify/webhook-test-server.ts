/**
 * @module
 * A real HTTP server on loopback for the notifier's tests: it keeps each POST's JSON body (checked
 * against WebhookBody), answers 204, or never answers when told to hang.
 */
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { WebhookBody } from "./settings.ts";

export interface WebhookTestServer {
  url: string;
  bodies: WebhookBody[];
  /** Requests that arrived and were left hanging. */
  hung: number;
  received(count: number): Promise<WebhookBody[]>;
  close(): Promise<void>;
}

export async function startWebhookServer(mode: "answer" | "hang" = "answer"): Promise<WebhookTestServer> {
  const bodies: WebhookBody[] = [];
  const waiters: (() => void)[] = [];
  const open = new Set<ServerResponse>();
  const state = { hung: 0 };
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      if (mode === "hang") {
        state.hung++;
        open.add(res);
        return;
      }
      bodies.push(WebhookBody.parse(JSON.parse(Buffer.concat(chunks).toString("utf8"))));
      for (const w of waiters.splice(0)) w();
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/hooks/hastack?token=hook-token-123`,
    bodies,
    get hung() {
      return state.hung;
    },
    async received(count) {
      while (bodies.length < count) await new Promise<void>((resolve) => waiters.push(resolve));
      return bodies.slice(0, count);
    },
    async close() {
      for (const res of open) res.destroy();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
