// The deployment activities against an engine that is not there: every call fails with DockerEngineUnreachable
// naming the address, and nothing is left to fail later (the image build once killed the worker with an
// unhandled ENOENT from the tar stream it left reading a directory that was already removed).
import { mkdtempSync, mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { ApplicationFailure } from '@temporalio/common';
import Docker from 'dockerode';
import { compileGraph } from '../../core/compile';
import { compileExportPlan } from '../../core/export-plan';
import { exportNames } from '../../core/export-names';
import type { CanvasGraph } from '../../core/graph';
import { buildDeploymentImage, removeDeployment, startDeploymentContainer, waitDeploymentContainer } from './docker-deploy';
import { DOCKER_ENGINE_UNREACHABLE, engineAddress } from './docker-engine';
import { packImageContext } from './image-context';
import { freePorts } from '../../test/global-setup';

const graph = {
  nodes: [
    { id: 'start', type: 'trigger', position: { x: 0, y: 0 }, data: { inputs: {} } },
    { id: 'out', type: 'output', position: { x: 0, y: 0 }, data: { value: 'hello' } },
  ],
  edges: [{ id: 'e1', source: 'start', target: 'out' }],
} as unknown as CanvasGraph;

let dataDir: string;
const storagePath = 'artifacts/sha256/fixture.whl';

beforeAll(() => {
  dataDir = mkdtempSync(path.join(tmpdir(), 'tessera-deploy-unit-'));
  mkdirSync(path.join(dataDir, 'artifacts', 'sha256'), { recursive: true });
  // A wheel-sized file: large enough that packing it takes longer than a refused connection.
  writeFileSync(path.join(dataDir, storagePath), Buffer.alloc(8 * 1024 * 1024, 7));
});

afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

function buildInput(deploymentId: string) {
  const plan = compileExportPlan(compileGraph(graph, { workflowId: '00000000-0000-4000-8000-000000000001', workflowVersion: 1 }));
  return {
    tenantId: '00000000-0000-4000-8000-000000000002',
    deploymentId,
    storagePath,
    wheelFile: 'fixture-1-py3-none-any.whl',
    project: { tenantId: '00000000-0000-4000-8000-000000000002', exportId: '00000000-0000-4000-8000-000000000003', plan, names: exportNames('Fixture'), baseImage: 'python:3.12-slim' },
    baseImage: 'python:3.12-slim',
  };
}

async function failureOf(work: Promise<unknown>): Promise<ApplicationFailure> {
  const err = await work.then(
    () => null,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(ApplicationFailure);
  return err as ApplicationFailure;
}

function imageDirs(): string[] {
  return readdirSync(tmpdir()).filter((name) => name.startsWith('tessera-image-'));
}

it('an image build against a tcp address where nothing listens fails naming the address, and leaves no stream behind', async () => {
  const [port] = (await freePorts(1)) as [number]; // nothing listens there once it is released
  const docker = new Docker({ host: '127.0.0.1', port, protocol: 'http' });
  const before = new Set(imageDirs());
  const failure = await failureOf(buildDeploymentImage({ dataDir, docker }, buildInput('00000000-0000-4000-8000-000000000010')));
  expect(failure.type).toBe(DOCKER_ENGINE_UNREACHABLE);
  expect(failure.message).toContain(`tcp://127.0.0.1:${port}`);
  expect(failure.message).toContain('ECONNREFUSED');
  // The temporary context directory is gone; an unhandled stream error would fail this test file.
  expect(imageDirs().filter((d) => !before.has(d))).toEqual([]);
});

it('every engine call against a unix socket that does not exist fails naming the socket path', async () => {
  const socketPath = path.join(dataDir, 'no-engine.sock');
  const deps = { dataDir, docker: new Docker({ socketPath }) };
  const calls: (() => Promise<unknown>)[] = [
    () => buildDeploymentImage(deps, buildInput('00000000-0000-4000-8000-000000000011')),
    () => startDeploymentContainer(deps, { tenantId: 't', deploymentId: 'd', imageTag: 'x', mode: 'service', inputs: {}, containerPort: 8000 }),
    () => waitDeploymentContainer(deps, { containerId: 'abc' }),
    () => removeDeployment(deps, { containerId: 'abc', imageTag: 'x' }),
  ];
  for (const call of calls) {
    const failure = await failureOf(call());
    expect({ type: failure.type, names: failure.message.includes(`unix://${socketPath}`) }).toEqual({ type: DOCKER_ENGINE_UNREACHABLE, names: true });
  }
});

it('names the engine address dockerode really dials', async () => {
  expect(await engineAddress(new Docker({ socketPath: '/run/docker.sock' }))).toBe('unix:///run/docker.sock');
  expect(await engineAddress(new Docker({ host: '10.0.0.5', port: 2376, protocol: 'https' }))).toBe('tcp://10.0.0.5:2376 (TLS)');
});

it('packs a context completely before its directory may go', async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'tessera-context-'));
  try {
    writeFileSync(path.join(dir, 'a.txt'), 'a');
    mkdirSync(path.join(dir, 'sub'));
    writeFileSync(path.join(dir, 'sub', 'b.txt'), 'b');
    const packed = await packImageContext(dir, ['a.txt', 'sub/b.txt']);
    expect(packed.subarray(0, 2)).toEqual(Buffer.from([0x1f, 0x8b])); // gzip
    await expect(packImageContext(dir, ['missing.txt'])).rejects.toMatchObject({ code: 'ENOENT' });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
