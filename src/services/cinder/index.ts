import { apiService, apiSteps, dbAndServiceUser } from "../openstack-api.ts";

export const cinder = apiService({
  id: "cinder",
  title: "Cinder block storage API",
  after: ["neutron"],
  listeners: [{ endpoint: "cinder", name: "cinder_api", check: { kind: "http", path: "/" } }],
  secrets: dbAndServiceUser("cinder"),
  packages: ["cinder-api", "cinder-scheduler"],
  steps: apiSteps("cinder"),
});
