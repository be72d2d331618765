import { apiService, apiSteps, dbAndServiceUser } from "../openstack-api.ts";

export const neutron = apiService({
  id: "neutron",
  title: "Neutron networking API",
  after: ["nova"],
  listeners: [{ endpoint: "neutron", name: "neutron_api", check: { kind: "http", path: "/" } }],
  secrets: dbAndServiceUser("neutron"),
  packages: ["neutron-server", "neutron-plugin-ml2"],
  steps: apiSteps("neutron", [
    {
      id: "agents",
      title: "Configure the Neutron agents on computes (per-node local_ip)",
      on: "each",
      after: ["start"],
    },
  ]),
});
