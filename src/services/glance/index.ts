import { apiService, apiSteps, dbAndServiceUser } from "../openstack-api.ts";

export const glance = apiService({
  id: "glance",
  title: "Glance image API",
  after: ["keystone"],
  // 9292 only: the registry (9191) is gone.
  listeners: [{ endpoint: "glance", name: "glance_api", check: { kind: "http", path: "/healthcheck" } }],
  secrets: dbAndServiceUser("glance"),
  packages: ["glance"],
  steps: apiSteps("glance"),
});
