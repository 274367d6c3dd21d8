// Runs the exported package's runner (templates/package/runner.py and machine.py) in Debian's Python on a
// plan with a scripted agent in place of the providers, the same script test/support/scripted-run.ts feeds
// the platform's run machine, and answers what it decided in the same shape. The scripted agent lives here,
// in the test: the package has no test mode. `runInPython` drives the runner through its Python API (with the
// command line's own decider, so `--decide` flags are what decides approvals); `spawnPythonCli` runs the
// command line itself (`cli.main`), for what only a process shows: Ctrl-C, exit statuses, --verbose events.
import { spawn, execFile, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { ExportPlan } from '../../core/export-plan';
import type { RunScript, ScriptedRunResult } from './scripted-run';
import { SYSTEM_PYTHON, stagePackage } from './python-evaluators';

export interface PythonRunJob {
  plan: ExportPlan;
  inputs: Record<string, unknown>;
  /** Command-line arguments: the approvals' --decide flags, --verbose, --inputs-file. */
  argv: string[];
  script: RunScript;
  /** The package's own providers instead of the scripted agent (e.g. openai against test/fake-llm). */
  realProviders?: boolean;
  /** Added to the process's environment (OPENAI_BASE_URL, OPENAI_API_KEY). */
  env?: Record<string, string>;
  /** The command line's stdin is a terminal (a pty) on which this text has been typed ('' for nothing). */
  tty?: string;
  /** Answer every node's output (`nodeOutputs`) and the ledger's whole events (`ledgerEvents`) too. */
  details?: boolean;
}

export interface LedgerEvent {
  type: string;
  key: string;
  nodeId?: string;
  data?: Record<string, unknown>;
}

export type PythonRunResult = ScriptedRunResult & {
  raised?: { code: string; message: string; nodeId: string | null };
  nodeOutputs?: Record<string, unknown>;
  ledgerEvents?: LedgerEvent[];
};

const DRIVER = `
import os, signal, sys, threading
from probe import cli, providers, runner
from probe.jsvalues import number_to_string, parse_json, to_json

# A process started from a test runner may inherit SIGINT ignored; Ctrl-C is part of what is tested.
signal.signal(signal.SIGINT, signal.default_int_handler)
mode, job_file = sys.argv[1], sys.argv[2]
with open(job_file, encoding="utf-8") as handle:
    job = parse_json(handle.read())
script = job["script"]
ended = {}
lock = threading.Lock()


def ended_event(node_id):
    with lock:
        return ended.setdefault(node_id, threading.Event())


def scripted(node_id, attempt, request, stop):
    outcomes = script.get("agents", {}).get(node_id, [])
    outcome = outcomes[attempt - 1] if attempt <= len(outcomes) else {}
    if outcome.get("after"):
        while not ended_event(outcome["after"]).wait(0.02):
            if stop.is_set():
                raise providers.ProviderError("the turn was stopped", False)
    if outcome.get("hang"):
        if script.get("cancelWhen") == node_id and mode == "api":
            os.kill(os.getpid(), signal.SIGINT)  # Ctrl-C while this turn is in flight
        stop.wait()
        raise providers.ProviderError("the turn was stopped", False)
    if "fail" in outcome:
        raise providers.ProviderError(outcome["fail"], outcome.get("retryable", False), outcome.get("retryAfterMs"))
    return {"text": outcome.get("text", request["prompt"])}


def mark_ended(result):
    for event in result["ledger"]["events"]:
        if event["type"] in ("node.succeeded", "node.failed"):
            ended_event(event["nodeId"]).set()


def event_view(event):
    view = {"type": event["type"], "key": event["key"]}
    if event.get("nodeId"):
        view["nodeId"] = event["nodeId"]
    data = event.get("data") or {}
    for field in ("status", "attempt", "nextAttempt", "handle", "handled", "code", "error"):
        if field in data and not isinstance(data[field], (dict, list)):
            view[field] = data[field]
    return view


def command_view(command):
    kind = command["type"]
    if kind == "evaluate":
        return "evaluate:" + ",".join(command["nodes"])
    if kind == "callAgent":
        return "callAgent:%s#%d@%s" % (command["nodeId"], command["attempt"], number_to_string(command["delayMs"]))
    if kind == "waitApproval":
        return "waitApproval:" + command["nodeId"]
    if kind == "finish":
        return "finish:" + command["status"]
    return kind


if mode == "cli":
    runner._call_provider = scripted
    printing = cli.print_events

    def print_and_mark(happening, result):
        printing(happening, result)
        mark_ended(result)

    cli.print_events = print_and_mark
    if job.get("tty") is not None:
        import pty
        terminal, stdin = pty.openpty()
        os.dup2(stdin, 0)
        if job["tty"]:
            os.write(terminal, job["tty"].encode("utf-8"))
    sys.exit(cli.main(job["argv"]))

events, rows, commands = [], [], []


ledger_events = []


def collect(happening, result):
    ledger_events.extend(result["ledger"]["events"])
    events.extend(event_view(e) for e in result["ledger"]["events"])
    for row in result["ledger"]["nodes"]:
        rows.append(" ".join([row["nodeId"], row.get("status", "-")] + ([str(row["attempts"])] if "attempts" in row else [])))
    commands.extend(command_view(c) for c in result["commands"])
    # Last: a turn waiting for this may send Ctrl-C at once, and the step must be recorded whole first.
    mark_ended(result)


flags = cli.decider(cli.parse_args(job["argv"]))


def decide(node, shown):
    if script.get("approvals", {}).get(node["id"]) == "interrupt":
        raise KeyboardInterrupt()  # Ctrl-C at the approval's prompt
    return flags(node, shown)


plan = runner.load_plan()
agent = None if job.get("realProviders") else scripted
run = runner.Run(plan, runner.check_inputs(plan["inputs"], job["inputs"]), decide=decide, on_step=collect, call_agent=agent)
out = {}
try:
    runner.outcome(run.execute())
except runner.RunFailed as err:
    out["raised"] = {"code": err.code, "message": str(err), "nodeId": err.node_id}
state = run.state
out.update({
    "status": state["status"],
    "outputs": state["outputs"],
    "error": state["error"],
    "nodes": state["nodes"],
    "events": events,
    "rows": rows,
    "commands": commands,
})
if job.get("details"):
    out["nodeOutputs"] = state["nodeOutputs"]
    out["ledgerEvents"] = ledger_events
sys.stdout.write(to_json(out))
`;

interface Staged {
  dir: string;
  jobFile: string;
}

function stage(job: PythonRunJob): Staged {
  const dir = mkdtempSync(path.join(tmpdir(), 'tessera-runner-'));
  const pkg = stagePackage(dir);
  writeFileSync(path.join(pkg, 'plan.json'), JSON.stringify(job.plan));
  writeFileSync(path.join(dir, 'driver.py'), DRIVER);
  const jobFile = path.join(dir, 'job.json');
  writeFileSync(jobFile, JSON.stringify(job));
  return { dir, jobFile };
}

const ENV = { PATH: '/usr/bin:/bin', LANG: 'C.UTF-8' };

/** One run through the runner's Python API; rejects when Python itself fails or takes over 60 s. */
export async function runInPython(job: PythonRunJob): Promise<PythonRunResult> {
  const { dir, jobFile } = stage(job);
  try {
    const stdout = await new Promise<string>((resolve, reject) => {
      execFile(SYSTEM_PYTHON, ['driver.py', 'api', jobFile], { cwd: dir, env: { ...ENV, ...job.env }, timeout: 60_000, encoding: 'utf8' }, (err, out, stderr) =>
        err ? reject(new Error(`python runner failed: ${err.message}\n${stderr}`)) : resolve(out),
      );
    });
    return JSON.parse(stdout) as PythonRunResult;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export interface PythonCli {
  child: ChildProcess;
  /** The stderr lines so far (with --verbose, one event per line). */
  lines: () => string[];
  exited: Promise<{ code: number | null; stdout: string; stderr: string }>;
}

/** The command line (`cli.main(argv)`) with the scripted agent, as a process the test can signal. */
export function spawnPythonCli(job: PythonRunJob): PythonCli {
  const { dir, jobFile } = stage(job);
  const child = spawn(SYSTEM_PYTHON, ['driver.py', 'cli', jobFile], { cwd: dir, env: { ...ENV, ...job.env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')));
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
  const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
  const exited = new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
    child.on('close', (code) => {
      clearTimeout(timer);
      rmSync(dir, { recursive: true, force: true });
      resolve({ code, stdout, stderr });
    });
  });
  return { child, lines: () => stderr.split('\n').filter((l) => l.length > 0), exited };
}
