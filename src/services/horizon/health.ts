/**
 * @module
 * Horizon's own probe, as a user meets it: through the VIP, the login page, a login as the demo
 * user (Django's CSRF token from the page, the password on curl's stdin, never in argv), then the
 * project's instance list (or volume or project list: tablePage), which Horizon builds by calling
 * the API with the user's token. A login
 * page that renders while sessions do not work (memcached unreachable, a controller keeping
 * sessions to itself) fails here, not at a user's second click.
 */
import type { ProbeContext, ProbeResult, ProbeSpec } from "../../health/types.ts";
import type { Topology } from "../../topology/types.ts";
import { lastLine } from "../../util/text.ts";
import { controllerNames, controllers } from "../hosts.ts";
import { KEYSTONE_DEMO_SECRET } from "../keystone/openrc.ts";

export const LOGIN_PATH = "/auth/login/";
/**
 * The page a logged-in user is shown a table of their own on, by what the site deploys: a panel
 * whose service is not in the catalogue answers 403 (the default lab site has no Nova: the
 * instance list gave 403 there, measured on the lab, 2026-12-03).
 */
export interface TablePage {
  path: string;
  /** The table's id attribute in the page (Horizon's DataTable). */
  table: string;
  what: string;
}

export function tablePage(topology: Topology): TablePage {
  if (topology.endpoints.nova)
    return { path: "/project/instances/", table: "instances", what: "instance list" };
  if (topology.endpoints.cinder) return { path: "/project/volumes/", table: "volumes", what: "volume list" };
  return { path: "/identity/", table: "tenants", what: "project list" };
}

/**
 * One shell script on a controller: $1 the dashboard's base URL, $2 the user, $3 the controllers'
 * ip:port, $4 $5 $6 the table page's path, table id and name (tablePage); the password is stdin
 * (curl's --data-urlencode name@- reads it). Prints one line: what was reached, or where it
 * stopped. Exit 0 only when, after a redirecting login, the page answered 200 through the VIP and then from each controller with the same session cookie:
 * a session one controller made must be valid on every other (sessions in the controllers'
 * memcached, not a per-process cache), or users are logged out whenever HAProxy moves them.
 * Measured on the lab: a controller switched to LocMemCache fails here with HTTP 302.
 */
export const LOGIN_SCRIPT = `set -u
d=$(mktemp -d) && trap 'rm -rf "$d"' EXIT
c="curl -sS -m 30 -c $d/jar -b $d/jar"
code=$($c -o "$d/login.html" -w '%{http_code}' "$1${LOGIN_PATH}") || { echo "login page: curl failed"; exit 3; }
[ "$code" = 200 ] || { echo "login page: HTTP $code"; exit 3; }
csrf=$(sed -n 's/.*name="csrfmiddlewaretoken" value="\\([^"]*\\)".*/\\1/p' "$d/login.html" | head -n 1)
[ -n "$csrf" ] || { echo "login page: no CSRF token in the form"; exit 3; }
code=$($c -o /dev/null -w '%{http_code}' -e "$1${LOGIN_PATH}" --data-urlencode "csrfmiddlewaretoken=$csrf" --data-urlencode "username=$2" --data-urlencode "password@-" --data-urlencode "region=default" "$1${LOGIN_PATH}") || { echo "login: curl failed"; exit 4; }
[ "$code" = 302 ] || { echo "login as $2: HTTP $code, not the redirect of a session (wrong password, or no session store)"; exit 4; }
code=$($c -o "$d/page.html" -w '%{http_code}' "$1$4") || { echo "$6 through the VIP: curl failed"; exit 5; }
[ "$code" = 200 ] || { echo "$6 through the VIP: HTTP $code with the session made through the VIP"; exit 5; }
grep -q "id=.$5[\\"']" "$d/page.html" || { echo "$6 through the VIP: HTTP 200 without the $5 table"; exit 5; }
# The same URL and cookie, the connection to each controller in turn (curl keeps a cookie to
# the host that set it, so the URL stays the VIP's and --connect-to picks the backend).
bad=""
for to in $3; do
  code=$($c --connect-to "::$to" -o "$d/page.html" -w '%{http_code}' "$1$4") || code="no answer"
  if [ "$code" != 200 ] || ! grep -q "id=.$5[\\"']" "$d/page.html"; then bad="$bad $to ($code)"; fi
done
[ -z "$bad" ] || { echo "login as $2 and the $6 through the VIP; with that session the $6 failed on:$bad"; exit 6; }
echo "login as $2 through the VIP; with that session the $6 through the VIP and on $(echo $3 | wc -w) controllers directly"
`;

/**
 * The dashboard's base URL through the internal VIP: the same HAProxy listener and backends a
 * browser reaches on the public VIP, but plain HTTP, so the script can then ask each controller
 * directly with the session's cookie (--connect-to). The public VIP's TLS is haproxy.public-tls.
 */
export function dashboardUrl(topology: Topology): string {
  const endpoint = topology.endpoints.horizon;
  return (endpoint?.internal ?? "").replace(/\/$/, "");
}

export function horizonProbes(topology: Topology): ProbeSpec[] {
  if (!topology.endpoints.horizon) return [];
  return [
    {
      id: "login",
      title: `a login as demo through the VIP; with that session the ${tablePage(topology).what} through the VIP and on every controller`,
      on: "once",
      weight: "critical",
      timeoutMs: 120_000,
      async run(ctx: ProbeContext): Promise<ProbeResult> {
        const password = ctx.secret(KEYSTONE_DEMO_SECRET);
        const page = tablePage(ctx.topology);
        const port = ctx.topology.endpoints.horizon?.port ?? 80;
        const backends = controllers(ctx.topology)
          .map((h) => `${h.ip}:${port}`)
          .join(" ");
        const reasons: string[] = [];
        for (const host of controllerNames(ctx.topology)) {
          const started = performance.now();
          const r = await ctx.exec(
            host,
            [
              "sh",
              "-c",
              LOGIN_SCRIPT,
              "horizon-login",
              dashboardUrl(ctx.topology),
              "demo",
              backends,
              page.path,
              page.table,
              page.what,
            ],
            {
              stdin: password,
              timeoutMs: 100_000,
            },
          );
          const ms = Math.round(performance.now() - started);
          const said = lastLine(r.stdout) || lastLine(r.stderr) || `exit code ${r.code}`;
          if (r.code === 0) return { state: "ok", summary: `${said}, from ${host} in ${ms} ms` };
          // 3-5: the dashboard answered wrongly through the VIP (not a controller's problem to
          // retry from another); 6: it works through the VIP, but not on every controller.
          if (r.code >= 3 && r.code <= 5) return { state: "down", summary: `${said} (asked from ${host})` };
          if (r.code === 6) return { state: "degraded", summary: `${said} (asked from ${host})` };
          reasons.push(`${host}: ${said}`);
        }
        return { state: "down", summary: reasons.join("; ") || "no controller" };
      },
    },
  ];
}
