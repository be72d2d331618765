/**
 * @module
 * The API and the scrape served over HTTP by @hono/node-server, on one address and port of the
 * controller (the daemon's config names them; 0 picks a free port, for tests).
 */
import type { AddressInfo } from "node:net";
import { serve } from "@hono/node-server";
import { HastackError } from "../../util/errors.ts";
import { createHaApp, type HaHttpDeps } from "./app.ts";

export interface HaHttpOptions extends HaHttpDeps {
  address: string;
  port: number;
}

export interface HaHttp {
  /** The port listened on (the one a port 0 turned into). */
  port: number;
  close(): Promise<void>;
}

export function startHaHttp(options: HaHttpOptions): Promise<HaHttp> {
  const { address, port } = options;
  const app = createHaApp(options);
  return new Promise((resolve, reject) => {
    const server = serve({ fetch: app.fetch, hostname: address, port }, (info: AddressInfo) => {
      server.off("error", failed);
      // After the listen, an error concerns one connection: node:http answers it, nothing to throw to.
      server.on("error", (e) => options.log.warn({ err: e.message }, "ha api: server error"));
      resolve({
        port: info.port,
        close: () =>
          new Promise<void>((done) => {
            server.close(() => done());
            // A scraper's keep-alive connection would hold close() for its idle timeout.
            if ("closeIdleConnections" in server) server.closeIdleConnections();
          }),
      });
    });
    function failed(error: Error): void {
      server.close();
      reject(
        new HastackError(
          "E_HA_API_BIND",
          `Cannot listen for the instance-HA API on ${address}:${port}: ${error.message}`,
          { cause: error, hint: "the address must be one of this controller's, and the port free" },
        ),
      );
    }
    server.once("error", failed);
  });
}
