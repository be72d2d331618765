/**
 * @module
 * The demo project and user as one Python program on openstacksdk (as identity-script.ts does for
 * service users, and for the same reason: a password never goes in argv). It reads JSON on stdin
 * and prints one JSON line: what was missing (check) or what it created or corrected (apply).
 */

export const DEMO_SCRIPT = `
import json, sys
import openstack
from openstack import exceptions

req = json.loads(sys.stdin.read())
apply = req["mode"] == "apply"
done = []

def connect(user, password, project):
    return openstack.connect(
        auth_url=req["authUrl"], username=user, password=password, project_name=project,
        user_domain_name="Default", project_domain_name="Default",
        region_name=req["region"], interface="internal", identity_api_version="3")

def missing(what):
    done.append(what)
    return apply

idc = connect("admin", req["adminPassword"], "admin").identity
domain = idc.find_domain("Default", ignore_missing=False)
project = idc.find_project(req["project"], domain_id=domain.id)
if project is None and missing("project " + req["project"]):
    project = idc.create_project(name=req["project"], domain_id=domain.id, description="Demo project")
user = idc.find_user(req["user"], domain_id=domain.id)
if user is None:
    if missing("user " + req["user"]):
        user = idc.create_user(name=req["user"], domain_id=domain.id, password=req["password"],
                               default_project_id=project.id)
else:
    try:
        connect(req["user"], req["password"], req["project"]).authorize()
    except exceptions.HttpException:
        if missing("password of " + req["user"]):
            idc.update_user(user, password=req["password"])
role = idc.find_role(req["role"], ignore_missing=False)
label = "role %s of %s on %s" % (req["role"], req["user"], req["project"])
if user is None or project is None:
    missing(label)
elif not idc.validate_user_has_project_role(project, user, role) and missing(label):
    idc.assign_project_role_to_user(project, user, role)
print(json.dumps({"missing": done}))
`;
