import { apiService, apiSteps, dbAndServiceUser } from "../openstack-api.ts";

export const placement = apiService({
  id: "placement",
  title: "Placement API",
  after: ["glance"],
  listeners: [{ endpoint: "placement", name: "placement_api", check: { kind: "http", path: "/" } }],
  secrets: dbAndServiceUser("placement"),
  packages: ["placement-api"],
  steps: apiSteps("placement"),
});
