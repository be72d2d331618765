import path from "node:path";

/** The lab's state directory: inventory, secrets, SSH keys, host overlays, logs. */
export function labDir(): string {
  return process.env.HASTACK_LAB_DIR ?? "/var/lib/hastack/lab";
}

export function labInventoryPath(): string {
  return path.join(labDir(), "inventory.yaml");
}

export function labSecretsPath(): string {
  return path.join(labDir(), "inventory.secrets.yaml");
}

/** Where built images are cached, one directory per cache key. */
export function imageCacheDir(): string {
  return process.env.HASTACK_IMAGE_DIR ?? "/var/lib/hastack/images";
}

/** The network namespace the whole lab lives in. */
export const LAB_NETNS = "hastack-lab";
