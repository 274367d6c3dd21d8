// What a deployment's container may be and do (docs/security.md "Hardened deployments"): the base images it may
// start from, the user and limits it runs with, whether a service may reach out, and how many run per tenant.
// Pure: the API decides all of it and hands the container's part to the worker in the workflow input.

/** The image the project builds locally (debootstrap + docker import; docs/export.md): the default allow-list. */
export const LOCAL_BASE_IMAGE = 'tessera-python-base:bookworm';

// A Docker image reference: registry/path:tag or @digest, nothing a shell or a Dockerfile could read otherwise.
export const IMAGE_REFERENCE = /^[a-z0-9]+(?:[._-][a-z0-9]+)*(?::[0-9]+)?(?:\/[a-z0-9]+(?:[._-][a-z0-9]+)*)*(?::[A-Za-z0-9_][A-Za-z0-9_.-]{0,127})?(?:@sha256:[a-f0-9]{64})?$/;

/** The confinement of one container, as the worker applies it (HostConfig of the Docker engine). */
export interface ContainerSandbox {
  /** `uid:gid`, numeric, never 0. */
  user: string;
  memoryBytes: number;
  /** CPUs in units of 10⁻⁹ (Docker's NanoCpus): 1 CPU is 1e9. */
  nanoCpus: number;
  pidsLimit: number;
  /** A service's way out: with false it sits on an internal network and Tessera reaches it through a gate. */
  egress: boolean;
}

export interface DeploymentSettings {
  /** Base images a deployment may use; the first is the default when a request names none. */
  allowedBaseImages: readonly string[];
  user: string;
  memoryMb: number;
  cpus: number;
  pidsLimit: number;
  /** Deployments of one tenant that may be pending, building or running at once. */
  maxRunningPerTenant: number;
  /** Tenants (ids) whose service deployments may open connections out; every other tenant's cannot. */
  egressTenants: ReadonlySet<string>;
}

/** What an unset environment gives: the local base image, nobody:nogroup, 512 MiB, one CPU, 128 processes, 3 at once, no egress. */
export const DEFAULT_DEPLOYMENT_SETTINGS: DeploymentSettings = {
  allowedBaseImages: [LOCAL_BASE_IMAGE],
  user: '65534:65534',
  memoryMb: 512,
  cpus: 1,
  pidsLimit: 128,
  maxRunningPerTenant: 3,
  egressTenants: new Set(),
};

/** The sandbox a deployment of this tenant gets. */
export function sandboxFor(settings: DeploymentSettings, tenantId: string): ContainerSandbox {
  return {
    user: settings.user,
    memoryBytes: settings.memoryMb * 1024 * 1024,
    nanoCpus: Math.round(settings.cpus * 1e9),
    pidsLimit: settings.pidsLimit,
    egress: settings.egressTenants.has(tenantId),
  };
}

/** A deployment workflow started before sandboxes existed carries none: it gets the defaults, never less. */
export const DEFAULT_CONTAINER_SANDBOX: ContainerSandbox = sandboxFor(DEFAULT_DEPLOYMENT_SETTINGS, '');

/** `uid:gid` with both numeric and neither root's; null when it is not. */
export function parseContainerUser(value: string): string | null {
  const match = /^(\d{1,10}):(\d{1,10})$/.exec(value.trim());
  if (!match || Number(match[1]) === 0 || Number(match[2]) === 0) return null;
  return `${Number(match[1])}:${Number(match[2])}`;
}
