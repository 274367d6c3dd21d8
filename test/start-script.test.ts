// `npm start` itself (scripts/start.mjs, run as a child process the way npm runs it): from a state without a web
// build it builds the app and serves it at /; it supervises the worker and the api like a process manager (one
// killed comes back by itself, and a run in flight during the kill finishes); and SIGTERM stops everything.
// It runs against this test run's Temporal dev server (start.mjs reuses a Temporal that already listens), a
// throwaway database, a task queue and port of its own, and a web build directory of its own, so the real
// web/dist the browser tests use is never touched.
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { ensureWebBuilt } from './e2e/web-build';
import { singleAgentGraph } from './fixtures/graphs';
import { freePorts, isRunning } from './global-setup';
import { createTestDatabase, type TestDatabase } from './support/database';
import { writeWorkflowBundle } from './support/processes';
import { createWorkflow, registerTenant, startRun, waitForExecution } from './support/session';
import { apiClient, sharedWorkflowBundle, TEST_REDIS_URL, type ApiClient } from './support/stack';
import { testTemporalAddress } from './support/temporal';

jest.setTimeout(240_000);

const ROOT = path.resolve(__dirname, '..');
// A first start installs nothing here, but bundles nothing either (TESSERA_WORKFLOW_BUNDLE) and builds the app once.
const START_TIMEOUT_MS = 180_000;

/** `node scripts/start.mjs` in its own process group, with its output kept for the assertions. */
class StartScript {
  readonly child: ChildProcess;
  private text = '';
  private readonly listeners = new Set<() => void>();
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;

  constructor(env: Record<string, string>) {
    this.child = spawn(process.execPath, [path.join(ROOT, 'scripts', 'start.mjs')], {
      cwd: ROOT,
      env: { ...process.env, NO_COLOR: '1', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    });
    const append = (chunk: Buffer) => {
      this.text += chunk.toString();
      for (const listener of this.listeners) listener();
    };
    this.child.stdout!.on('data', append);
    this.child.stderr!.on('data', append);
    this.exited = new Promise((resolve) => this.child.once('exit', (code, signal) => resolve({ code, signal })));
    void this.exited.then(() => {
      for (const listener of this.listeners) listener();
    });
  }

  output(): string {
    return this.text;
  }

  /** Resolves with the first match of `pattern` in the output; rejects when start.mjs exits first or after `timeoutMs`. */
  waitFor(pattern: RegExp, timeoutMs: number): Promise<RegExpMatchArray> {
    return new Promise((resolve, reject) => {
      const done = (settle: () => void) => {
        clearTimeout(timer);
        this.listeners.delete(check);
        settle();
      };
      const check = () => {
        const match = pattern.exec(this.text);
        if (match) return done(() => resolve(match));
        if (this.child.exitCode !== null || this.child.signalCode !== null) {
          done(() => reject(new Error(`start.mjs exited before ${pattern} appeared:\n${this.text}`)));
        }
      };
      const timer = setTimeout(() => done(() => reject(new Error(`${pattern} did not appear within ${timeoutMs} ms:\n${this.text}`))), timeoutMs);
      this.listeners.add(check);
      check();
    });
  }

  /** Every pid start.mjs reported for its children, latest last. */
  childPids(name: string): number[] {
    return [...this.text.matchAll(new RegExp(`\\[start\\] ${name} (?:started \\(pid|restarted \\(pid) (\\d+)`, 'g'))].map((m) => Number(m[1]));
  }

  /** Stops it the way Ctrl-C would; if it does not go, kills its group and every child group it reported. */
  async stop(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    process.kill(-this.child.pid!, 'SIGTERM');
    const stopped = await Promise.race([this.exited.then(() => true), new Promise<boolean>((r) => setTimeout(() => r(false), 30_000))]);
    if (stopped) return;
    for (const pid of [this.child.pid!, ...this.childPids('worker'), ...this.childPids('api')]) {
      try {
        process.kill(-pid, 'SIGKILL');
      } catch {
        // That group is gone already.
      }
    }
    await this.exited;
  }
}

const UP = /\[start\]\s+app\s+http:\/\/localhost:\d+\//;

let workDir: string;
let webDir: string;
let bundlePath: string;

/** The environment of one start.mjs: its database, port, task queue and data dir; the shared web build and bundle. */
async function startEnv(db: TestDatabase, overrides: Record<string, string> = {}): Promise<Record<string, string>> {
  const [port] = (await freePorts(1)) as [number];
  return {
    PORT: String(port),
    DATABASE_URL: db.url,
    REDIS_URL: TEST_REDIS_URL,
    TEMPORAL_ADDRESS: testTemporalAddress(),
    TEMPORAL_TASK_QUEUE: `tessera-start-${randomBytes(4).toString('hex')}`,
    DATA_DIR: mkdtempSync(path.join(workDir, 'data-')),
    WEB_DIST_DIR: webDir,
    TESSERA_WORKFLOW_BUNDLE: bundlePath,
    ...overrides,
  };
}

beforeAll(async () => {
  workDir = mkdtempSync(path.join(tmpdir(), 'tessera-start-'));
  webDir = path.join(workDir, 'web-dist'); // not there yet: the state of a fresh clone
  bundlePath = writeWorkflowBundle(await sharedWorkflowBundle(), path.join(workDir, 'workflow-bundle.js'));
});

afterAll(() => {
  if (workDir) rmSync(workDir, { recursive: true, force: true });
});

describe('npm start from a fresh clone', () => {
  let db: TestDatabase;
  let start: StartScript;
  let api: ApiClient;
  let baseUrl: string;

  beforeAll(async () => {
    db = await createTestDatabase();
    const env = await startEnv(db);
    baseUrl = `http://127.0.0.1:${env.PORT}`;
    api = apiClient(baseUrl);
    start = new StartScript(env);
    await start.waitFor(UP, START_TIMEOUT_MS);
  });

  afterAll(async () => {
    await start?.stop();
    await db?.drop();
  });

  it('builds the web app when there is no build, says so, and serves the app at the URL it prints', async () => {
    expect(start.output()).toContain(`[start] building the web app (${webDir} is missing)`);
    expect(start.output()).toMatch(/\[start\] built the web app into .+ in \d+\.\ds/);
    expect(start.output()).toContain(`app          http://localhost:${new URL(baseUrl).port}/`);
    expect(existsSync(path.join(webDir, 'index.html'))).toBe(true);

    const page = await fetch(`${baseUrl}/`);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toMatch(/text\/html/);
    const html = await page.text();
    expect(html).toContain('<div id="app"></div>');
    expect(html).not.toContain('not built yet');
    const assets = [...html.matchAll(/(?:src|href)="(\/assets\/[^"]+)"/g)].map((m) => m[1]!);
    expect(assets.some((a) => a.endsWith('.js'))).toBe(true);
    for (const asset of assets) {
      const res = await fetch(`${baseUrl}${asset}`);
      expect({ asset, status: res.status }).toEqual({ asset, status: 200 });
    }
    // A client-side route gets the app too (history mode).
    const route = await fetch(`${baseUrl}/workflows`);
    expect(route.status).toBe(200);
    expect(await route.text()).toContain('<div id="app"></div>');
  });

  it('restarts a worker killed with SIGKILL, and a run started before the kill finishes', async () => {
    await start.waitFor(/\[worker\] .*"msg":"worker started"/, 120_000);
    const [workerPid] = start.childPids('worker');
    const [apiPid] = start.childPids('api');
    const owner = await registerTenant(api);
    const workflowId = await createWorkflow(api, owner, singleAgentGraph({ provider: 'echo', model: 'echo-1', delayMs: 4_000 }));
    const executionId = await startRun(api, owner, workflowId, { topic: 'lighthouses' });
    await waitForExecution(api, owner, executionId, (e) => e.nodes.some((n: any) => n.nodeId === 'ask' && n.status === 'running'), 60_000);

    process.kill(workerPid!, 'SIGKILL');
    await start.waitFor(new RegExp(`\\[start\\] worker \\(pid ${workerPid}\\) exited unexpectedly \\(signal SIGKILL\\) after .+; restarting it in 1\\.0s, at \\d\\d:\\d\\d:\\d\\d`), 30_000);
    const [, restartedPid] = await start.waitFor(/\[start\] worker restarted \(pid (\d+), restart 1\)/, 30_000);
    expect(Number(restartedPid)).not.toBe(workerPid);

    const done = await waitForExecution(api, owner, executionId, undefined, 120_000);
    expect(done.status).toBe('succeeded');
    expect(done.outputs).toEqual({ out: 'Tell me about lighthouses' });
    expect(done.nodes.find((n: any) => n.nodeId === 'ask').attempts).toBeGreaterThanOrEqual(2);
    // The others stayed up: the api is the same process, and start.mjs did not stop anything.
    expect(start.childPids('api')).toEqual([apiPid]);
    expect(isRunning(apiPid!)).toBe(true);
    expect(start.output()).not.toContain('stopping');
  });

  it('restarts an api killed with SIGKILL, and the app answers again', async () => {
    const [apiPid] = start.childPids('api').slice(-1);
    const workerPid = start.childPids('worker').at(-1)!;
    process.kill(apiPid!, 'SIGKILL');
    await start.waitFor(new RegExp(`\\[start\\] api \\(pid ${apiPid}\\) exited unexpectedly \\(signal SIGKILL\\)`), 30_000);
    await start.waitFor(/\[start\] api restarted \(pid \d+, restart 1\)/, 30_000);
    const deadline = Date.now() + 60_000;
    let status = 0;
    while (Date.now() < deadline && status !== 200) {
      status = await fetch(`${baseUrl}/health/ready`).then((r) => r.status, () => 0);
      if (status !== 200) await new Promise((r) => setTimeout(r, 250));
    }
    expect(status).toBe(200);
    expect(start.childPids('worker').at(-1)).toBe(workerPid);
    expect(isRunning(workerPid)).toBe(true);
  });

  it('stops the worker and the api and exits 0 on SIGTERM', async () => {
    const children = [start.childPids('worker').at(-1)!, start.childPids('api').at(-1)!];
    process.kill(start.child.pid!, 'SIGTERM');
    const { code } = await start.exited;
    expect(code).toBe(0);
    expect(start.output()).toContain('[start] stopping (SIGTERM)');
    expect(children.filter(isRunning)).toEqual([]);
  });
});

describe('what stops the stack', () => {
  let db: TestDatabase;
  let start: StartScript | undefined;

  beforeAll(() => {
    // Built already when the describe above ran; built here when this one runs alone.
    ensureWebBuilt(webDir);
  });

  beforeEach(async () => {
    db = await createTestDatabase();
  });

  afterEach(async () => {
    await start?.stop();
    await db?.drop();
  });

  it('stops everything with the reason when the Temporal dev server it started exits', async () => {
    // A Temporal address nothing listens on: start.mjs starts (and owns) a dev server there.
    const [temporalPort, uiPort] = (await freePorts(2)) as [number, number];
    start = new StartScript(await startEnv(db, { TEMPORAL_ADDRESS: `127.0.0.1:${temporalPort}`, TEMPORAL_UI_PORT: String(uiPort) }));
    await start.waitFor(UP, START_TIMEOUT_MS);
    // The build is fresh: nothing is built again.
    expect(start.output()).not.toContain('building the web app');
    const [, temporalPid] = await start.waitFor(/starting the Temporal dev server on 127\.0\.0\.1:\d+ \(pid (\d+)/, 1_000);
    const children = [start.childPids('worker').at(-1)!, start.childPids('api').at(-1)!];

    process.kill(Number(temporalPid), 'SIGKILL');
    const { code } = await start.exited;
    expect(code).toBe(1);
    expect(start.output()).toContain('[start] the Temporal dev server exited (signal SIGKILL); stopping the stack');
    expect(start.output()).not.toMatch(/(worker|api) restarted/);
    expect(children.filter(isRunning)).toEqual([]);
  });

  it('stops everything with the reason when Postgres becomes unreachable', async () => {
    start = new StartScript(await startEnv(db));
    await start.waitFor(UP, START_TIMEOUT_MS);
    const children = [start.childPids('worker').at(-1)!, start.childPids('api').at(-1)!];

    // Its database going away is what this stack can see of a lost server without stopping the shared one.
    await db.drop();
    const { code } = await start.exited;
    expect(code).toBe(1);
    expect(start.output()).toMatch(/\[start\] Postgres at postgres:\/\/\S+ is unreachable \(.+; 3 checks in a row\); stopping the stack/);
    expect(children.filter(isRunning)).toEqual([]);
  });
});
