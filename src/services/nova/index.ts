import { apiService, apiSteps, dbAndServiceUser } from "../openstack-api.ts";

export const nova = apiService({
  id: "nova",
  title: "Nova compute API, metadata API and noVNC proxy",
  after: ["placement"],
  listeners: [
    { endpoint: "nova", name: "nova_api", check: { kind: "http", path: "/" } },
    { endpoint: "nova-metadata", name: "nova_metadata", check: { kind: "http", path: "/" } },
    {
      endpoint: "nova-novncproxy",
      name: "nova_novncproxy",
      check: { kind: "http", path: "/vnc_lite.html" },
      // A console is a long websocket to one proxy: keep a client on the backend it started on.
      sticky: true,
      timeouts: { client_s: 3600, server_s: 3600 },
    },
  ],
  secrets: [
    ...dbAndServiceUser("nova"),
    {
      name: "metadata_proxy_secret",
      kind: "password",
      description: "shared secret of the Nova metadata API and Neutron's metadata agent",
    },
  ],
  packages: ["nova-api", "nova-conductor", "nova-scheduler", "nova-novncproxy"],
  steps: apiSteps("nova", [
    { id: "cells", title: "Map cell0 and cell1 (nova-manage cell_v2)", on: "bootstrap", after: ["db-sync"] },
    {
      id: "compute",
      title: "Install and configure nova-compute on the computes",
      on: "each",
      after: ["start"],
    },
    {
      id: "discover-hosts",
      title: "nova-manage cell_v2 discover_hosts; nova-status upgrade check must pass",
      on: "bootstrap",
      after: ["compute"],
    },
  ]),
});
