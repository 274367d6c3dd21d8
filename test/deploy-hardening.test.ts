// Hardened deployments (docs/security.md "Hardened deployments"), read back from a real Docker engine: base
// images only from the allow-list, containers as a non-root user with memory/CPU/pids limits, no capabilities,
// no-new-privileges and a read-only root; one-shot runs without a network; a service of a tenant without egress
// answers Tessera on its loopback port yet reaches no host address (one allowed egress does); and a per-tenant
// limit on running deployments.
import { createServer, type Server } from 'node:http';
import { mkdtempSync, rmSync } from 'node:fs';
import { networkInterfaces, tmpdir } from 'node:os';
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import type Docker from 'dockerode';
import { ensureBaseImage, ensureDockerEngine, TEST_BASE_IMAGE } from './support/docker-engine';
import { startExport, waitForExport } from './support/exports';
import { createWorkflow, pollResource, registerTenant, type TestSession } from './support/session';
import { startTestStack, type TestStack } from './support/stack';
import { waitUntil } from './support/wait-until';
import { demux } from '../activities/export/docker-deploy';

jest.setTimeout(600_000);

const LIMITS = { user: '10001:10001', memoryMb: 256, cpus: 0.5, pidsLimit: 64, maxRunningPerTenant: 2 };

let stack: TestStack;
let docker: Docker;
let dataDir: string;
let hostTarget: Server;
let hostPort: number;
const egressTenants = new Set<string>();
/** A tenant whose services may not reach out (the default) and one listed in DEPLOY_EGRESS_TENANTS. */
let closed: { session: TestSession; exportId: string };
let open: { session: TestSession; exportId: string };

const graph = {
  nodes: [
    { id: 'start', type: 'trigger', position: { x: 0, y: 0 }, data: { inputs: { topic: { type: 'string', required: true } } } },
    { id: 'draft', type: 'agent', position: { x: 0, y: 0 }, data: { provider: 'echo', model: 'echo-1', prompt: 'Draft about {{inputs.topic}}' } },
    { id: 'out', type: 'output', position: { x: 0, y: 0 }, data: { value: '{{nodes.draft.text}}' } },
  ],
  edges: [
    { id: 'e1', source: 'start', target: 'draft' },
    { id: 'e2', source: 'draft', target: 'out' },
  ],
};

async function exportOf(session: TestSession): Promise<{ session: TestSession; exportId: string }> {
  const workflowId = await createWorkflow(stack, session, graph, 'Hardened digest');
  const exportId = await startExport(stack, session, workflowId);
  // Two wheel builds and their checks at once on a shared machine: a generous deadline.
  const view = await waitForExport(stack, session, exportId, undefined, 300_000);
  if (view.status !== 'succeeded') throw new Error(`export failed: ${view.buildLog}`);
  return { session, exportId };
}

beforeAll(async () => {
  docker = await ensureDockerEngine();
  await ensureBaseImage(docker);
  dataDir = mkdtempSync(path.join(tmpdir(), 'tessera-deploy-hardening-'));
  stack = await startTestStack({ dataDir, docker, deployments: { ...LIMITS, egressTenants } });
  // A service on every address of the host: what a deployment without egress must not reach.
  hostTarget = createServer((_req, res) => res.end('host'));
  hostTarget.listen(0, '0.0.0.0');
  await once(hostTarget, 'listening');
  hostPort = (hostTarget.address() as AddressInfo).port;
  // One registration at a time (sign-ins of one client are throttled), then both exports at once.
  const first = await registerTenant(stack);
  const second = await registerTenant(stack);
  [closed, open] = await Promise.all([exportOf(first), exportOf(second)]);
  egressTenants.add(open.session.tenantId);
});

afterAll(async () => {
  hostTarget?.close();
  await stack?.close();
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
});

function deploy(tenant: { session: TestSession; exportId: string }, body: Record<string, unknown>) {
  return stack.request('POST', `/api/v1/exports/${tenant.exportId}/deployments`, { token: tenant.session.token, body });
}

function waitForDeployment(session: TestSession, id: string, statuses: string[]): Promise<any> {
  return pollResource(stack, session, `/api/v1/deployments/${id}`, (d) => [...statuses, 'failed'].includes(d.status), 300_000, 300);
}

async function runningService(tenant: { session: TestSession; exportId: string }): Promise<any> {
  const res = await deploy(tenant, { mode: 'service' });
  expect(res.status).toBe(202);
  const running = await waitForDeployment(tenant.session, res.body.id, ['running']);
  expect({ status: running.status, error: running.error }).toEqual({ status: 'running', error: null });
  return running;
}

/** Every Docker object of a deployment (its containers, gate included, and its networks), by label. */
async function partsOf(deploymentId: string): Promise<{ containers: Docker.ContainerInfo[]; networks: Docker.NetworkInspectInfo[] }> {
  const filters = JSON.stringify({ label: [`io.tessera.deployment=${deploymentId}`] });
  return { containers: await docker.listContainers({ all: true, filters }), networks: await docker.listNetworks({ filters }) };
}

function expectConfined(info: Docker.ContainerInspectInfo): void {
  expect({
    user: info.Config.User,
    memory: info.HostConfig.Memory,
    memorySwap: info.HostConfig.MemorySwap,
    nanoCpus: info.HostConfig.NanoCpus,
    pidsLimit: info.HostConfig.PidsLimit,
    capDrop: info.HostConfig.CapDrop,
    capAdd: info.HostConfig.CapAdd ?? null,
    securityOpt: info.HostConfig.SecurityOpt,
    readonlyRootfs: info.HostConfig.ReadonlyRootfs,
    privileged: info.HostConfig.Privileged,
  }).toEqual({
    user: '10001:10001',
    memory: 256 * 1024 * 1024,
    memorySwap: 256 * 1024 * 1024,
    nanoCpus: 500_000_000,
    pidsLimit: 64,
    capDrop: ['ALL'],
    capAdd: null,
    securityOpt: ['no-new-privileges'],
    readonlyRootfs: true,
    privileged: false,
  });
}

/** The host's addresses a container could try: the default bridge's gateway and every non-loopback IPv4 of the host. */
async function hostAddresses(): Promise<string[]> {
  const bridge = await docker.getNetwork('bridge').inspect();
  const gateway = (bridge.IPAM?.Config ?? []).map((c: { Gateway?: string }) => c.Gateway).filter((g: string | undefined): g is string => Boolean(g));
  const own = Object.values(networkInterfaces()).flatMap((list) => (list ?? []).filter((a) => a.family === 'IPv4' && !a.internal).map((a) => a.address));
  return [...new Set([...gateway, ...own])];
}

const PROBE = `
import socket, sys
port = int(sys.argv[1])
for host in sys.argv[2:]:
    try:
        socket.create_connection((host, port), timeout=3).close()
        print(host, "reached")
    except OSError as err:
        print(host, "blocked", err)
`;

/** Runs a connection attempt inside the container (docker exec, as its own user) to each address on hostPort. */
async function probeFrom(containerId: string, addresses: string[]): Promise<Record<string, 'reached' | 'blocked'>> {
  const exec = await docker.getContainer(containerId).exec({ Cmd: ['python3', '-c', PROBE, String(hostPort), ...addresses], AttachStdout: true, AttachStderr: true });
  const stream = await exec.start({ hijack: true, stdin: false });
  const chunks: Buffer[] = [];
  stream.on('data', (chunk: Buffer) => chunks.push(chunk));
  await once(stream, 'end');
  const { stdout, stderr } = demux(Buffer.concat(chunks));
  if (!stdout.trim()) throw new Error(`the probe printed nothing: ${stderr}`);
  return Object.fromEntries(stdout.trim().split('\n').map((line) => [line.split(' ')[0], line.split(' ')[1] as 'reached' | 'blocked']));
}

async function postRun(url: string, topic: string): Promise<Response> {
  return waitUntil(
    'the service answers POST /run',
    () => fetch(`${url}/run`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ inputs: { topic } }) }).catch(() => null),
    { intervalMs: 300 },
  );
}

async function remove(session: TestSession, id: string): Promise<void> {
  const res = await stack.request('DELETE', `/api/v1/deployments/${id}`, { token: session.token });
  expect(res.status).toBe(200);
}

it('refuses a base image outside DEPLOY_ALLOWED_BASE_IMAGES with a 400 naming the allowed ones, and deploys nothing', async () => {
  const res = await deploy(closed, { mode: 'oneshot', inputs: { topic: 'x' }, baseImage: 'python:3.12-slim' });
  expect(res.status).toBe(400);
  expect(res.body.error).toMatchObject({ code: 'BASE_IMAGE_NOT_ALLOWED', details: { field: 'baseImage', allowed: [TEST_BASE_IMAGE] } });
  expect(res.body.error.message).toContain(TEST_BASE_IMAGE);
  const filters = JSON.stringify({ label: [`io.tessera.tenant=${closed.session.tenantId}`] });
  expect(await docker.listContainers({ all: true, filters })).toEqual([]);
});

it('runs a one-shot container as 10001:10001 with memory, CPU and pids limits, no capabilities, no-new-privileges, a read-only root and no network', async () => {
  // No baseImage: the first allowed one.
  const res = await deploy(closed, { mode: 'oneshot', inputs: { topic: 'lighthouses' } });
  expect(res.status).toBe(202);
  expect(res.body.baseImage).toBe(TEST_BASE_IMAGE);
  const done = await waitForDeployment(closed.session, res.body.id, ['succeeded']);
  expect({ status: done.status, error: done.error, outputs: done.outputs }).toEqual({ status: 'succeeded', error: null, outputs: { out: 'Draft about lighthouses' } });

  const info = await docker.getContainer(done.containerId).inspect();
  expectConfined(info);
  expect(info.HostConfig.NetworkMode).toBe('none');
  expect(Object.keys(info.NetworkSettings.Networks)).toEqual(['none']);
  await remove(closed.session, done.id);
  expect(await partsOf(done.id)).toEqual({ containers: [], networks: [] });
});

it('a service of a tenant without egress answers Tessera on its loopback port but reaches no host address; a tenant allowed egress does', async () => {
  const addresses = await hostAddresses();
  expect(addresses.length).toBeGreaterThan(0);
  const [shut, free] = await Promise.all([runningService(closed), runningService(open)]);

  // Tessera (this host) reaches both on their published loopback ports.
  for (const [service, topic] of [[shut, 'owls'], [free, 'bats']] as const) {
    const answer = await postRun(service.url, topic);
    expect(answer.status).toBe(200);
    expect(await answer.json()).toEqual({ outputs: { out: `Draft about ${topic}` } });
  }

  // Both confined alike; the closed one sits alone on an internal network without the host's address, its gate
  // (on the default bridge, publishing the port) confined too.
  const shutInfo = await docker.getContainer(shut.containerId).inspect();
  expectConfined(shutInfo);
  expectConfined(await docker.getContainer(free.containerId).inspect());
  const parts = await partsOf(shut.id);
  expect(parts.networks).toHaveLength(1);
  const network = await docker.getNetwork(parts.networks[0]!.Id).inspect();
  expect({ internal: network.Internal, inhibitIpv4: network.Options?.['com.docker.network.bridge.inhibit_ipv4'] }).toEqual({ internal: true, inhibitIpv4: 'true' });
  expect(Object.keys(shutInfo.NetworkSettings.Networks)).toEqual([network.Name]);
  const gate = parts.containers.find((c) => c.Id !== shut.containerId);
  expect(gate).toBeDefined();
  expectConfined(await docker.getContainer(gate!.Id).inspect());

  // From inside: the egress tenant's container reaches this host's target, the closed one reaches no address of it.
  const targets = [...addresses, '127.0.0.1'];
  const fromFree = await probeFrom(free.containerId, targets);
  const fromShut = await probeFrom(shut.containerId, targets);
  expect(addresses.some((a) => fromFree[a] === 'reached')).toBe(true);
  expect(fromShut).toEqual(Object.fromEntries(targets.map((a) => [a, 'blocked'])));

  // Another tenant's id is a 404, and DELETE leaves nothing of the deployment behind: container, gate, network.
  expect((await stack.request('GET', `/api/v1/deployments/${shut.id}`, { token: open.session.token })).status).toBe(404);
  expect((await stack.request('DELETE', `/api/v1/deployments/${shut.id}`, { token: open.session.token })).status).toBe(404);
  await remove(closed.session, shut.id);
  await remove(open.session, free.id);
  expect(await partsOf(shut.id)).toEqual({ containers: [], networks: [] });
  expect(await partsOf(free.id)).toEqual({ containers: [], networks: [] });
});

it('a tenant at DEPLOY_MAX_RUNNING_PER_TENANT gets a 409 until one of its deployments is deleted; another tenant is not counted', async () => {
  const first = await runningService(closed);
  const second = await deploy(closed, { mode: 'service' });
  expect(second.status).toBe(202);
  const over = await deploy(closed, { mode: 'service' });
  expect(over.status).toBe(409);
  expect(over.body.error).toMatchObject({ code: 'DEPLOYMENT_LIMIT_REACHED', details: { limit: 2 } });
  expect(over.body.error.message).toContain('DEPLOY_MAX_RUNNING_PER_TENANT');

  const elsewhere = await deploy(open, { mode: 'oneshot', inputs: { topic: 'moths' } });
  expect(elsewhere.status).toBe(202);

  await remove(closed.session, first.id);
  const after = await deploy(closed, { mode: 'oneshot', inputs: { topic: 'again' } });
  expect(after.status).toBe(202);

  await waitForDeployment(open.session, elsewhere.body.id, ['succeeded']);
  await waitForDeployment(closed.session, after.body.id, ['succeeded']);
  await waitForDeployment(closed.session, second.body.id, ['running']);
  await Promise.all([remove(closed.session, second.body.id), remove(closed.session, after.body.id), remove(open.session, elsewhere.body.id)]);
});
