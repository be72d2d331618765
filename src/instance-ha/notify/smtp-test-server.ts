/**
 * @module
 * A real SMTP server for the notifier's tests: Python's aiosmtpd (Debian's python3-aiosmtpd,
 * installed by scripts/bootstrap.sh) on a loopback port of its own, with AUTH LOGIN/PLAIN when
 * given a user. Each mail it accepts comes back parsed by Python's email package (subject and
 * plain-text body decoded), so a test reads what a mail client would show.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { createInterface } from "node:readline";
import { z } from "zod";

const SERVER = `
import asyncio, json, sys
from email import message_from_bytes, policy
from aiosmtpd.smtp import SMTP, AuthResult, LoginPassword

user, password = sys.argv[1], sys.argv[2]

class Handler:
    async def handle_DATA(self, server, session, envelope):
        msg = message_from_bytes(envelope.content, policy=policy.default)
        body = msg.get_body(("plain",))
        login = session.auth_data.login.decode() if isinstance(session.auth_data, LoginPassword) else None
        print(json.dumps({"mail": {"from": envelope.mail_from, "to": envelope.rcpt_tos,
            "subject": str(msg["subject"]), "text": body.get_content() if body else "", "login": login}}), flush=True)
        return "250 OK"

def authenticator(server, session, envelope, mechanism, data):
    ok = isinstance(data, LoginPassword) and data.login.decode() == user and data.password.decode() == password
    return AuthResult(success=ok, handled=False, auth_data=data if ok else None)

async def main():
    loop = asyncio.get_running_loop()
    auth = {"authenticator": authenticator, "auth_required": True, "auth_require_tls": False} if user else {}
    server = await loop.create_server(lambda: SMTP(Handler(), **auth), "127.0.0.1", 0)
    print(json.dumps({"port": server.sockets[0].getsockname()[1]}), flush=True)
    await asyncio.Event().wait()

asyncio.run(main())
`;

const Line = z.union([
  z.strictObject({ port: z.int().min(1) }),
  z.strictObject({
    mail: z.strictObject({
      from: z.string(),
      to: z.array(z.string()),
      subject: z.string(),
      text: z.string(),
      login: z.string().nullable(),
    }),
  }),
]);
export type ReceivedMail = Extract<z.output<typeof Line>, { mail: unknown }>["mail"];

export interface SmtpTestServer {
  port: number;
  /** Every mail accepted so far, in order. */
  mails: ReceivedMail[];
  /** Resolves once `count` mails have arrived. */
  received(count: number): Promise<ReceivedMail[]>;
  stop(): Promise<void>;
}

/** Starts aiosmtpd; with `auth`, it requires AUTH with exactly that user and password. */
export async function startSmtpServer(auth?: { user: string; password: string }): Promise<SmtpTestServer> {
  // Debian's python3: the one python3-aiosmtpd installs into (another python3 may be first on PATH).
  const child: ChildProcess = spawn(
    "/usr/bin/python3",
    ["-c", SERVER, auth?.user ?? "", auth?.password ?? ""],
    {
      stdio: ["ignore", "pipe", "pipe"],
    },
  );
  let stderr = "";
  child.stderr?.on("data", (d: Buffer) => {
    stderr += d.toString();
  });
  const mails: ReceivedMail[] = [];
  const waiters: (() => void)[] = [];
  const port = await new Promise<number>((resolve, reject) => {
    child.once("exit", (code) =>
      reject(
        new Error(`aiosmtpd exited (${code}) before listening (is python3-aiosmtpd installed?): ${stderr}`),
      ),
    );
    createInterface({ input: child.stdout as NodeJS.ReadableStream }).on("line", (text) => {
      const line = Line.parse(JSON.parse(text));
      if ("port" in line) resolve(line.port);
      else {
        mails.push(line.mail);
        for (const w of waiters.splice(0)) w();
      }
    });
  });
  return {
    port,
    mails,
    async received(count) {
      while (mails.length < count) await new Promise<void>((resolve) => waiters.push(resolve));
      return mails.slice(0, count);
    },
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise((resolve) => child.once("exit", resolve));
      child.kill("SIGTERM");
      await exited;
    },
  };
}
