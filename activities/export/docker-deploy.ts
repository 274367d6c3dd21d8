// Deployment activities over the Docker engine (dockerode): build an image from the exported project and its
// stored wheel (no network during the build), run it once (`--network none`) or as a service answering
// POST /run on a published loopback port, read its logs, and stop and remove it.
import { cp, mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { ApplicationFailure, Context } from '@temporalio/activity';
import type Docker from 'dockerode';
import { renderProject, type RenderProjectInput } from './render-project';
import { artifactPath } from './store-artifact';
import { MAX_LOG_CHARS } from './logged-process';

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
  const dir = await mkdtemp(path.join(tmpdir(), 'tessera-image-'));
  const imageTag = deploymentImageTag(input.deploymentId);
  try {
    await renderProject({ ...input.project, baseImage: input.baseImage }, dir);
    await cp(artifactPath(deps.dataDir, input.storagePath), path.join(dir, 'dist', input.wheelFile), { recursive: true });
    const src = await listFiles(dir);
    const stream = await deps.docker.buildImage(
      { context: dir, src },
      { t: imageTag, networkmode: 'none', buildargs: { BASE_IMAGE: input.baseImage }, labels: labels(input.tenantId, input.deploymentId), rm: true, forcerm: true },
    );
    let log = '';
    const beat = setInterval(() => heartbeat(), 1000);
    try {
      const events = await new Promise<{ stream?: string; error?: string; errorDetail?: { message?: string } }[]>((resolve, reject) => {
        deps.docker.modem.followProgress(stream, (err: Error | null, output: unknown[]) => (err ? reject(err) : resolve(output as never)), (event: { stream?: string; error?: string }) => {
          log += event.stream ?? (event.error ? `${event.error}\n` : '');
        });
      });
      const failed = events.find((e) => e.error);
      if (failed) {
        throw ApplicationFailure.create({ type: DEPLOY_FAILED, message: `the image build failed: ${failed.error ?? ''}`, details: [{ log: bounded(log) }] });
      }
    } finally {
      clearInterval(beat);
    }
    return { imageTag, log: bounded(log) };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

export interface StartContainerInput {
  tenantId: string;
  deploymentId: string;
  imageTag: string;
  mode: 'oneshot' | 'service';
  inputs: Record<string, unknown>;
  decision?: 'approve' | 'reject';
  containerPort: number;
}

/** The command line a one-shot container runs: every input as --input (non-strings as JSON). */
export function oneShotArgs(inputs: Record<string, unknown>, decision?: 'approve' | 'reject'): string[] {
  const args: string[] = [];
  for (const [key, value] of Object.entries(inputs)) args.push('--input', `${key}=${typeof value === 'string' ? value : JSON.stringify(value)}`);
  if (decision) args.push(decision === 'approve' ? '--approve' : '--reject');
  return args;
}

export async function startDeploymentContainer(deps: DockerDeps, input: StartContainerInput): Promise<{ containerId: string; hostPort: number | null }> {
  const port = `${input.containerPort}/tcp`;
  const container = await deps.docker.createContainer({
    Image: input.imageTag,
    name: `tessera-deployment-${input.deploymentId}`,
    Labels: labels(input.tenantId, input.deploymentId),
    ...(input.mode === 'oneshot'
      ? { Cmd: oneShotArgs(input.inputs, input.decision), HostConfig: { NetworkMode: 'none' } }
      : {
          Cmd: ['--serve', '--host', '0.0.0.0', '--port', String(input.containerPort)],
          ExposedPorts: { [port]: {} },
          // Loopback only: a deployment is reachable from this host, not from the network.
          HostConfig: { PortBindings: { [port]: [{ HostIp: '127.0.0.1', HostPort: '' }] } },
        }),
  });
  await container.start();
  if (input.mode === 'oneshot') return { containerId: container.id, hostPort: null };
  const info = await container.inspect();
  const binding = info.NetworkSettings.Ports[port]?.[0]?.HostPort;
  return { containerId: container.id, hostPort: binding ? Number(binding) : null };
}

export async function waitDeploymentContainer(deps: DockerDeps, input: { containerId: string }): Promise<{ exitCode: number; stdout: string; stderr: string }> {
  const container = deps.docker.getContainer(input.containerId);
  const beat = setInterval(() => heartbeat(), 1000);
  try {
    const result = (await container.wait()) as { StatusCode: number };
    const { stdout, stderr } = await containerLogs(deps, input.containerId);
    return { exitCode: result.StatusCode, stdout, stderr };
  } finally {
    clearInterval(beat);
  }
}

export async function containerLogs(deps: DockerDeps, containerId: string): Promise<{ stdout: string; stderr: string }> {
  const raw = (await deps.docker.getContainer(containerId).logs({ stdout: true, stderr: true, follow: false })) as unknown as Buffer;
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

export async function removeDeployment(deps: DockerDeps, input: { containerId: string | null; imageTag: string | null }): Promise<void> {
  if (input.containerId) {
    await deps.docker
      .getContainer(input.containerId)
      .remove({ force: true })
      .catch((err: { statusCode?: number }) => {
        if (err.statusCode !== 404) throw err;
      });
  }
  if (input.imageTag) {
    await deps.docker
      .getImage(input.imageTag)
      .remove({ force: true })
      .catch((err: { statusCode?: number }) => {
        if (err.statusCode !== 404) throw err;
      });
  }
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
