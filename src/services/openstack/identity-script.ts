/**
 * @module
 * The Keystone registration of a service as one Python program on openstacksdk (which the
 * `openstack` CLI is built on). Not the CLI: `openstack user create` takes a password only in
 * argv or from a terminal, and a password must never be in argv. The program reads everything,
 * secrets included, as JSON on stdin, and prints one JSON line: the facts it created or corrected.
 * Checking is keystone-check.ts, over the REST API without Python. The demo user is a plan too
 * (no catalogue entry, the demo project as its default project).
 */

/** Every openstacksdk identity proxy method the program calls (a test asks the real SDK for each). */
export const IDENTITY_SDK_METHODS = [
  "find_domain",
  "find_region",
  "create_region",
  "find_project",
  "create_project",
  "find_user",
  "create_user",
  "update_user",
  "find_role",
  "create_role",
  "validate_user_has_project_role",
  "assign_project_role_to_user",
  "find_service",
  "create_service",
  "endpoints",
  "create_endpoint",
  "update_endpoint",
] as const;

export const IDENTITY_SCRIPT = `
import json, sys
import openstack
from openstack import exceptions

req = json.loads(sys.stdin.read())
plan = req["plan"]
done = []

def connect(user, password, project):
    return openstack.connect(
        auth_url=plan["authUrl"], username=user, password=password, project_name=project,
        user_domain_name=plan["domain"], project_domain_name=plan["domain"],
        region_name=plan["region"], interface="internal", identity_api_version="3")

def missing(what):
    done.append(what)
    return True

idc = connect("admin", req["adminPassword"], "admin").identity
domain = idc.find_domain(plan["domain"], ignore_missing=False)
if idc.find_region(plan["region"]) is None and missing("region " + plan["region"]):
    idc.create_region(id=plan["region"])
project = idc.find_project(plan["project"], domain_id=domain.id)
if project is None and missing("project " + plan["project"]) :
    project = idc.create_project(name=plan["project"], domain_id=domain.id,
                                 description=plan.get("projectDescription") or "OpenStack service users")
user = idc.find_user(plan["user"], domain_id=domain.id)
if user is None:
    if missing("user " + plan["user"]):
        extra = {"default_project_id": project.id} if plan.get("defaultProject") and project else {}
        user = idc.create_user(name=plan["user"], domain_id=domain.id, password=req["password"], **extra)
else:
    try:
        connect(plan["user"], req["password"], plan["project"]).authorize()
    except exceptions.HttpException:
        if missing("password of " + plan["user"]):
            idc.update_user(user, password=req["password"])
for name in plan["roles"]:
    role = idc.find_role(name)
    if role is None and missing("role " + name):
        role = idc.create_role(name=name)
    if role is None or user is None or project is None:
        missing("role " + name + " of " + plan["user"] + " on " + plan["project"])
        continue
    if not idc.validate_user_has_project_role(project, user, role) and missing(
        "role " + name + " of " + plan["user"] + " on " + plan["project"]):
        idc.assign_project_role_to_user(project, user, role)
# A user of its own without a catalogue entry (the instance-HA engine) has no "service".
service = idc.find_service(plan["service"]["name"]) if plan.get("service") else None
if service is not None and service.type != plan["service"]["type"]:
    raise SystemExit("service %s exists with type %s, not %s" % (service.name, service.type, plan["service"]["type"]))
if plan.get("service") and service is None and missing("service " + plan["service"]["name"]):
    service = idc.create_service(**plan["service"])
for want in plan["endpoints"]:
    label = "%s endpoint %s" % (want["interface"], want["url"])
    found = [] if service is None else list(idc.endpoints(
        service_id=service.id, interface=want["interface"], region_id=plan["region"]))
    if not found:
        if missing(label):
            idc.create_endpoint(service_id=service.id, interface=want["interface"], url=want["url"],
                                region_id=plan["region"])
    elif found[0].url != want["url"] and missing(label):
        idc.update_endpoint(found[0], url=want["url"])
print(json.dumps({"missing": done}))
`;
