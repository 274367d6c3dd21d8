// Deployment activities over the Docker engine (dockerode): build an image from the exported project and its
// stored wheel (no network during the build), run it confined (docs/security.md "Hardened deployments") once
// (`--network none`) or as a service answering POST /run on a published loopback port, read its logs, and stop
// and remove it.
import { cp, mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { ApplicationFailure, Context } from '@temporalio/activity';
import type Docker from 'dockerode';
import { onEngine } from './docker-engine';
import { packImageContext } from './image-context';
import { renderProject, type RenderProjectInput } from './render-project';
import { artifactPath } from './store-artifact';
import { MAX_LOG_CHARS } from './logged-process';
import { DEFAULT_CONTAINER_SANDBOX, type ContainerSandbox } from '../../core/deployment-sandbox';

export const DEPLOY_FAILED = 'DeployFailed';

export interface DockerDeps {
  dataDir: string;
  docker: Docker;
}

export interface BuildImageInput {
  tenantId: string;
  deploymentId: string;
  storagePath: string;
  wheelFile: string;
  project: RenderProjectInput;
  baseImage: string;
}

export function deploymentImageTag(deploymentId: string): string {
  return `tessera-deployment:${deploymentId}`;
}

export async function buildDeploymentImage(deps: DockerDeps, input: BuildImageInput): Promise<{ imageTag: string; log: string }> {
  const imageTag = deploymentImageTag(input.deploymentId);
  const context = await renderImageContext(deps, input);
  const signal = cancellationSignal();
  const beat = setInterval(() => heartbeat(), 1000);
  try {
    const { log, error } = await onEngine(deps.docker, async () => {
      // A stream of bytes already in memory: nothing of it can fail or outlive the request.
      const stream = await deps.docker.buildImage(Readable.from([context], { objectMode: false }), {
        t: imageTag,
        networkmode: 'none',
        buildargs: { BASE_IMAGE: input.baseImage },
        labels: labels(input.tenantId, input.deploymentId),
        rm: true,
        forcerm: true,
        // A cancelled activity stops the build's request instead of leaving it to run on.
        ...(signal ? { abortSignal: signal } : {}),
      });
      return readBuildOutput(stream);
    });
    if (error !== null) {
      throw ApplicationFailure.create({ type: DEPLOY_FAILED, message: `the image build failed: ${error}`, details: [{ log }] });
    }
    return { imageTag, log };
  } finally {
    clearInterval(beat);
  }
}

/** The rendered project with its wheel, packed; the temporary directory is gone once the context is in memory. */
async function renderImageContext(deps: DockerDeps, input: BuildImageInput): Promise<Buffer> {
  const dir = await mkdtemp(path.join(tmpdir(), 'tessera-image-'));
  try {
    await renderProject({ ...input.project, baseImage: input.baseImage }, dir);
    await cp(artifactPath(deps.dataDir, input.storagePath), path.join(dir, 'dist', input.wheelFile), { recursive: true });
    return await packImageContext(dir, await listFiles(dir));
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/**
 * The engine's build answer: JSON lines of `{stream}` (the log) and `{error}`. Read with `for await`, so an
 * error of the response stream rejects here; a line that is not JSON is kept in the log as it is.
 */
async function readBuildOutput(stream: NodeJS.ReadableStream): Promise<{ log: string; error: string | null }> {
  let log = '';
  let error: string | null = null;
  let pending = '';
  const take = (line: string) => {
    if (!line.trim()) return;
    let event: { stream?: unknown; error?: unknown };
    try {
      event = JSON.parse(line) as typeof event;
    } catch {
      event = { stream: `${line}\n` };
    }
    if (typeof event.error === 'string') {
      error = event.error;
      log += `${event.error}\n`;
    } else if (typeof event.stream === 'string') log += event.stream;
    if (log.length > MAX_LOG_CHARS * 2) log = log.slice(-MAX_LOG_CHARS);
  };
  for await (const chunk of stream) {
    pending += chunk.toString();
    const lines = pending.split('\n');
    pending = lines.pop() ?? '';
    lines.forEach(take);
  }
  take(pending);
  return { log: bounded(log), error };
}

export interface StartContainerInput {
  tenantId: string;
  deploymentId: string;
  imageTag: string;
  mode: 'oneshot' | 'service';
  inputs: Record<string, unknown>;
  decision?: 'approve' | 'reject';
  containerPort: number;
  /** Absent only in workflows started before sandboxes existed: they get the defaults. */
  sandbox?: ContainerSandbox;
}

/** The command line a one-shot container runs: every input as --input (non-strings as JSON). */
export function oneShotArgs(inputs: Record<string, unknown>, decision?: 'approve' | 'reject'): string[] {
  const args: string[] = [];
  for (const [key, value] of Object.entries(inputs)) args.push('--input', `${key}=${typeof value === 'string' ? value : JSON.stringify(value)}`);
  if (decision) args.push(decision === 'approve' ? '--approve' : '--reject');
  return args;
}

/**
 * The confinement every container of a deployment gets: a non-root user, memory (without extra swap), CPU and
 * process limits, no capabilities, no privilege gained through setuid files, and a read-only root filesystem
 * (the package writes nothing; /tmp is a small tmpfs for libraries that want one).
 */
export function confinement(sandbox: ContainerSandbox): { User: string; HostConfig: Docker.HostConfig } {
  return {
    User: sandbox.user,
    HostConfig: {
      Memory: sandbox.memoryBytes,
      MemorySwap: sandbox.memoryBytes,
      NanoCpus: sandbox.nanoCpus,
      PidsLimit: sandbox.pidsLimit,
      CapDrop: ['ALL'],
      SecurityOpt: ['no-new-privileges'],
      ReadonlyRootfs: true,
      Tmpfs: { '/tmp': 'rw,noexec,nosuid,nodev,size=16m' },
    },
  };
}

/** The internal network of a service without egress: no route out, and no address of the host on it. */
export function deploymentNetworkName(deploymentId: string): string {
  return `tessera-deployment-${deploymentId}`;
}

/**
 * The gate of a service without egress: a TCP relay (run by the deployment image's python3) on the default
 * bridge, publishing the service's port on loopback and forwarding to the service on the internal network.
 * It only ever connects to that one service, so the service reaches nothing through it but itself.
 */
const GATE_RELAY = `
import asyncio, sys
host, port = sys.argv[1], int(sys.argv[2])
async def pipe(reader, writer):
    try:
        while True:
            data = await reader.read(65536)
            if not data:
                break
            writer.write(data)
            await writer.drain()
        if writer.can_write_eof():
            writer.write_eof()
    except OSError:
        writer.close()
async def relay(reader, writer):
    try:
        up_reader, up_writer = await asyncio.open_connection(host, port)
    except OSError:
        writer.close()
        return
    await asyncio.gather(pipe(reader, up_writer), pipe(up_reader, writer), return_exceptions=True)
    writer.close()
    up_writer.close()
async def main():
    server = await asyncio.start_server(relay, "0.0.0.0", port)
    async with server:
        await server.serve_forever()
asyncio.run(main())
`;

export async function startDeploymentContainer(deps: DockerDeps, input: StartContainerInput): Promise<{ containerId: string; hostPort: number | null }> {
  const sandbox = input.sandbox ?? DEFAULT_CONTAINER_SANDBOX;
  const confined = confinement(sandbox);
  const port = `${input.containerPort}/tcp`;
  const name = `tessera-deployment-${input.deploymentId}`;
  const Labels = labels(input.tenantId, input.deploymentId);
  // Loopback only: a deployment is reachable from this host, not from the network.
  const published = { ExposedPorts: { [port]: {} }, PortBindings: { [port]: [{ HostIp: '127.0.0.1', HostPort: '' }] } };
  const hostPortOf = async (container: Docker.Container) => {
    const binding = (await container.inspect()).NetworkSettings.Ports[port]?.[0]?.HostPort;
    return binding ? Number(binding) : null;
  };
  /** A container of the deployment's image, confined; `spec` adds its command, ports and network. */
  const confinedContainer = (spec: Omit<Docker.ContainerCreateOptions, 'Image' | 'User'>) =>
    deps.docker.createContainer({ name, Labels, ...spec, Image: input.imageTag, User: confined.User, HostConfig: { ...confined.HostConfig, ...spec.HostConfig } });
  return onEngine(deps.docker, async () => {
    // A retried attempt finds what the last one made: start from nothing (the names are the deployment's).
    await removeDeploymentParts(deps, input.deploymentId);
    if (input.mode === 'oneshot') {
      const container = await confinedContainer({ Cmd: oneShotArgs(input.inputs, input.decision), HostConfig: { NetworkMode: 'none' } });
      await container.start();
      return { containerId: container.id, hostPort: null };
    }
    const serve = ['--serve', '--host', '0.0.0.0', '--port', String(input.containerPort)];
    if (sandbox.egress) {
      const container = await confinedContainer({ Cmd: serve, ExposedPorts: published.ExposedPorts, HostConfig: { PortBindings: published.PortBindings } });
      await container.start();
      return { containerId: container.id, hostPort: await hostPortOf(container) };
    }
    const network = deploymentNetworkName(input.deploymentId);
    await deps.docker.createNetwork({
      Name: network,
      Driver: 'bridge',
      Internal: true,
      Labels,
      // No address of the host on this bridge: a container on it cannot reach a service listening on the host.
      Options: { 'com.docker.network.bridge.inhibit_ipv4': 'true' },
    });
    const container = await confinedContainer({ Cmd: serve, HostConfig: { NetworkMode: network } });
    await container.start();
    const gate = await confinedContainer({
      name: `${name}-gate`,
      Labels: { ...Labels, 'io.tessera.role': 'gate' },
      Entrypoint: ['python3', '-c', GATE_RELAY],
      Cmd: [name, String(input.containerPort)],
      ExposedPorts: published.ExposedPorts,
      HostConfig: { PortBindings: published.PortBindings },
    });
    await deps.docker.getNetwork(network).connect({ Container: gate.id });
    await gate.start();
    return { containerId: container.id, hostPort: await hostPortOf(gate) };
  });
}

export async function waitDeploymentContainer(deps: DockerDeps, input: { containerId: string }): Promise<{ exitCode: number; stdout: string; stderr: string }> {
  const container = deps.docker.getContainer(input.containerId);
  const beat = setInterval(() => heartbeat(), 1000);
  try {
    const result = (await onEngine(deps.docker, () => container.wait())) as { StatusCode: number };
    const { stdout, stderr } = await containerLogs(deps, input.containerId);
    return { exitCode: result.StatusCode, stdout, stderr };
  } finally {
    clearInterval(beat);
  }
}

export async function containerLogs(deps: DockerDeps, containerId: string): Promise<{ stdout: string; stderr: string }> {
  const raw = (await onEngine(deps.docker, () => deps.docker.getContainer(containerId).logs({ stdout: true, stderr: true, follow: false }))) as unknown as Buffer;
  return demux(raw);
}

/** Docker's multiplexed log stream (no TTY): frames of [stream, 0, 0, 0, size (uint32 BE)] + payload. */
export function demux(raw: Buffer): { stdout: string; stderr: string } {
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  let at = 0;
  while (at + 8 <= raw.length) {
    const kind = raw[at];
    const size = raw.readUInt32BE(at + 4);
    const payload = raw.subarray(at + 8, at + 8 + size);
    (kind === 2 ? err : out).push(payload);
    at += 8 + size;
  }
  return { stdout: bounded(Buffer.concat(out).toString('utf8')), stderr: bounded(Buffer.concat(err).toString('utf8')) };
}

export async function removeDeployment(deps: DockerDeps, input: { containerId: string | null; imageTag: string | null; deploymentId?: string }): Promise<void> {
  const { containerId, imageTag } = input;
  if (containerId) await onEngine(deps.docker, () => deps.docker.getContainer(containerId).remove({ force: true }).catch(gone));
  // A service without egress has a gate and a network too; workflows from before them pass no deploymentId.
  if (input.deploymentId) await onEngine(deps.docker, () => removeDeploymentParts(deps, input.deploymentId ?? ''));
  if (imageTag) await onEngine(deps.docker, () => deps.docker.getImage(imageTag).remove({ force: true }).catch(gone));
}

/** Every container and network labelled with the deployment (image aside), force-removed; none there is fine. */
async function removeDeploymentParts(deps: DockerDeps, deploymentId: string): Promise<void> {
  const filters = JSON.stringify({ label: [`io.tessera.deployment=${deploymentId}`] });
  const containers = await deps.docker.listContainers({ all: true, filters });
  await Promise.all(containers.map((c) => deps.docker.getContainer(c.Id).remove({ force: true }).catch(gone)));
  const networks = await deps.docker.listNetworks({ filters });
  await Promise.all(networks.map((n) => deps.docker.getNetwork(n.Id).remove().catch(gone)));
}

function gone(err: { statusCode?: number }): void {
  if (err.statusCode !== 404) throw err;
}

function labels(tenantId: string, deploymentId: string): Record<string, string> {
  return { 'io.tessera.tenant': tenantId, 'io.tessera.deployment': deploymentId };
}

async function listFiles(dir: string, prefix = ''): Promise<string[]> {
  const files: string[] = [];
  for (const entry of await readdir(path.join(dir, prefix), { withFileTypes: true })) {
    const rel = prefix ? `${prefix}/${entry.name}` : entry.name;
    if (entry.isDirectory()) files.push(...(await listFiles(dir, rel)));
    else files.push(rel);
  }
  return files;
}

function bounded(text: string): string {
  return text.length > MAX_LOG_CHARS ? `…${text.slice(-MAX_LOG_CHARS)}` : text;
}

function heartbeat(): void {
  try {
    Context.current().heartbeat();
  } catch {
    /* outside an activity */
  }
}

function cancellationSignal(): AbortSignal | null {
  try {
    return Context.current().cancellationSignal;
  } catch {
    return null; // outside an activity
  }
}
