"""The exported workflow's interpreter: the driver of the run machine, as workflows/canvas-run.ts is the
platform's. machine.py (the mirror of core/run-machine.ts) decides every transition: what runs next, skips,
retries, failure fan-out, cancellation, approval timeouts. This file carries out its commands and feeds back
what happened:
  evaluate     -> the wave's texts, evaluated here (handlebars.py, jsonata.py), fed back before anything else
  callAgent    -> one provider call in a thread of its own (at most 8 at a time), after the retry's backoff
  waitApproval -> --approve/--reject/--decide NODE=approve|reject|timeout, or asked on a terminal (for at most
                  the node's timeoutSeconds, then its onTimeout policy)
  stopInFlight -> turns in flight are abandoned: their backoffs end, their late answers change nothing
  finish       -> the run's end: its outputs, or the error
Ctrl-C (KeyboardInterrupt) is the machine's cancelRequested: open nodes are cancelled and the run ends cancelled."""
import collections
import queue
import re
import signal
import threading
from datetime import datetime, timezone
from importlib import resources

from . import handlebars, jsonata, machine, providers
from .jsvalues import is_number, js_truthy, number_to_string, parse_json

MAX_PARALLEL_TURNS = 8


class RunFailed(Exception):
    """A run that did not succeed: `status` is the run's end (failed, timed_out, cancelled), or failed for
    inputs the run never started with."""

    def __init__(self, code, message, node_id=None, status="failed"):
        super().__init__(message)
        self.code = code
        self.node_id = node_id
        self.status = status


def load_plan():
    return parse_json(resources.files(__package__).joinpath("plan.json").read_text(encoding="utf-8"))


_DECIMAL = re.compile(r"^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$")


def _is_plain_record(value):
    return isinstance(value, dict)


def coerce_input(kind, value):
    """core/inputs.ts coerceInput: "42" -> 42, "true" -> True, numbers and booleans -> strings for strings."""
    if kind == "string":
        if isinstance(value, str):
            return value
        if isinstance(value, bool):
            return "true" if value else "false"
        if is_number(value):
            return number_to_string(value)
        raise ValueError("must be a string")
    if kind == "number":
        if is_number(value):
            return value
        if isinstance(value, str) and _DECIMAL.match(value.strip()):
            return parse_json_number(value.strip())
        raise ValueError("must be a number")
    if kind == "boolean":
        if isinstance(value, bool):
            return value
        text = value.strip().lower() if isinstance(value, str) else None
        if text in ("true", "false"):
            return text == "true"
        raise ValueError("must be true or false")
    if kind == "object":
        if _is_plain_record(value):
            return value
        raise ValueError("must be an object")
    raise ValueError("has an unknown type")


def parse_json_number(text):
    number = float(text)
    if number != number or number in (float("inf"), float("-inf")):
        raise ValueError("must be a finite number")
    if number.is_integer() and abs(number) <= 2 ** 53:
        return int(number)
    return number


def check_inputs(spec, given):
    problems = []
    for name in given:
        if name not in spec:
            problems.append('unknown input "%s"' % name)
    inputs = {}
    for name, input_spec in spec.items():
        raw = given.get(name)
        value = input_spec.get("default") if raw is None else raw
        if value is None:
            if input_spec.get("required"):
                problems.append('input "%s" is required' % name)
            continue
        try:
            inputs[name] = coerce_input(input_spec["type"], value)
        except ValueError as err:
            problems.append('input "%s" %s' % (name, err))
    if problems:
        raise RunFailed("INPUTS_INVALID", "; ".join(problems))
    return inputs


def evaluate_node(node, scope):
    """The texts `node` needs (core/evaluation-protocol.ts nodeEvaluation) evaluated over the run's scope,
    as the platform's evaluateNodes activity answers them: {status: evaluated, values} or {status: failed}."""
    kind = node["type"]
    compiled = node["compiled"]
    data = node["data"]
    try:
        if kind == "agent":
            values = {"prompt": handlebars.render(compiled["prompt"], scope)}
            if "system" in compiled:
                values["system"] = handlebars.render(compiled["system"], scope)
        elif kind == "approval":
            # Shown on a terminal only: rendered when the export compiled them (in the subset), else as written.
            values = {}
            for field in ("title", "instructions"):
                if field in compiled:
                    values[field] = handlebars.render(compiled[field], scope)
                elif field in data:
                    values[field] = data[field]
        elif kind == "transform" and "template" in compiled:
            values = {"value": handlebars.render(compiled["template"], scope)}
        elif kind == "transform":
            values = {"value": jsonata.evaluate(compiled["expression"], scope)}
        elif kind == "condition":
            values = {"value": js_truthy(jsonata.evaluate(compiled["expression"], scope))}
        elif kind == "output":
            values = {"value": handlebars.render(compiled["value"], scope)}
        else:
            raise ValueError("node type %s has no texts" % kind)
    except Exception as err:
        return {"status": "failed", "code": machine.EVALUATION_ERROR, "message": str(err)}
    return {"status": "evaluated", "values": values}


def agent_request(node, texts):
    data = node["data"]
    request = {"provider": data["provider"], "model": data["model"], "prompt": texts["prompt"]}
    if "system" in texts:
        request["system"] = texts["system"]
    for key in ("temperature", "maxTokens", "responseFormat", "timeoutSeconds", "delayMs"):
        if key in data:
            request[key] = data[key]
    return request


def approval_output(decision, decided_by, at):
    """The platform's approval output (workflows/approval-desk.ts): decided on the command line, or by the
    node's timeout policy, so {{nodes.review.decision}} and {{nodes.review.decidedBy}} render the same."""
    decisions = []
    if decided_by == "timeout":
        verdict = "approve" if decision == "approved" else "reject"
        decisions.append({"decision": verdict, "comment": None, "data": {}, "at": at, "by": "timeout", "userId": None, "email": None, "name": None})
    return {"decision": decision, "decidedBy": decided_by, "decisions": decisions, "comment": None, "data": {}, "at": at}


def _call_provider(node_id, attempt, request, stop):
    return providers.call(request, stop)


class Run:
    """One run: the machine's state, and the commands it asked for carried out.

    `decide(node, shown)` answers approve, reject, timeout or None (`shown`: the rendered title and instructions); `call_agent(node_id, attempt, request, stop)`
    makes one agent attempt (the providers by default); `on_step(happening, result)` sees every transition
    (the CLI's --verbose prints its events)."""

    def __init__(self, plan, inputs, decide=None, on_step=None, call_agent=None, clock=None):
        self.plan = plan
        self.decide = decide
        self.on_step = on_step or (lambda happening, result: None)
        self.call_agent = call_agent or _call_provider
        self.clock = clock or _now
        self.nodes = {n["id"]: n for n in plan["nodes"]}
        self.state = machine.initial_state(plan, inputs)
        # What this thread found out (evaluations, decisions) is fed before what the turns report.
        self.local = collections.deque()
        self.inbox = queue.Queue()
        self.stop = threading.Event()
        self.slots = threading.BoundedSemaphore(MAX_PARALLEL_TURNS)
        self.end = None

    def execute(self):
        """Runs to the end and answers the machine's finish command {status, outputs, error}."""
        try:
            try:
                self.feed({"type": "started", "at": self.clock()})
                while self.end is None:
                    self.feed(self.local.popleft() if self.local else self.next_report())
            except KeyboardInterrupt:
                if self.end is None:
                    self.feed({"type": "cancelRequested", "at": self.clock()})
        finally:
            self.stop.set()
        return self.end

    def next_report(self):
        """What a turn reports next. Waits in short slices: a signal handled by another thread does not wake a
        blocked wait, and Ctrl-C must reach this thread within a moment."""
        while True:
            try:
                return self.inbox.get(timeout=0.2)
            except queue.Empty:
                continue

    def feed(self, happening):
        """One step of the machine: keep its state, carry out its commands."""
        result = machine.step(self.plan, self.state, happening)
        self.state = result["state"]
        self.on_step(happening, result)
        for command in result["commands"]:
            self.carry_out(command)

    def carry_out(self, command):
        kind = command["type"]
        if kind == "evaluate":
            scope = {"inputs": self.state["inputs"], "nodes": self.state["nodeOutputs"]}
            results = {node_id: evaluate_node(self.nodes[node_id], scope) for node_id in command["nodes"]}
            self.local.append({"type": "evaluated", "at": self.clock(), "results": results})
        elif kind == "callAgent":
            threading.Thread(target=self.turn, args=(command,), name="tessera-turn-%s" % command["nodeId"], daemon=True).start()
        elif kind == "waitApproval":
            self.local.append(self.approval(command))
        elif kind == "stopInFlight":
            self.stop.set()
        elif kind == "finish":
            self.end = command

    def turn(self, command):
        """One agent attempt, after its backoff; reports nodeSucceeded or nodeFailed."""
        node_id, attempt = command["nodeId"], command["attempt"]
        if hasattr(signal, "pthread_sigmask"):
            # Ctrl-C and SIGTERM are for the main thread, which turns them into cancelRequested.
            signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT, signal.SIGTERM})
        if self.stop.wait(command["delayMs"] / 1000.0):
            return
        with self.slots:
            if self.stop.is_set():
                return
            try:
                output = self.call_agent(node_id, attempt, agent_request(self.nodes[node_id], command["texts"]), self.stop)
            except providers.ProviderError as err:
                failure = {"retryable": err.retryable, "message": str(err)}
                if err.retryable and err.retry_after_ms is not None:
                    failure["retryAfterMs"] = err.retry_after_ms
            except Exception as err:  # not the provider's answer (a bug, a reply that is not JSON): worth another attempt
                failure = {"retryable": True, "message": str(err)}
            else:
                self.inbox.put({"type": "nodeSucceeded", "at": self.clock(), "nodeId": node_id, "output": output, "attempt": attempt})
                return
        self.inbox.put(dict(failure, type="nodeFailed", at=self.clock(), nodeId=node_id, attempt=attempt, code="AGENT_FAILED"))

    def approval(self, command):
        node = self.nodes[command["nodeId"]]
        data = node["data"]
        verdict = self.decide(node, command) if self.decide else None
        at = self.clock()
        if verdict == "timeout" and data.get("timeoutSeconds"):
            policy = data.get("onTimeout", "reject")
            if policy == "fail":
                return {"type": "approvalTimedOut", "at": at, "nodeId": node["id"], "timeoutSeconds": data["timeoutSeconds"]}
            decision = "approved" if policy == "approve" else "rejected"
            return {"type": "approvalDecided", "at": at, "nodeId": node["id"], "output": approval_output(decision, "timeout", at)}
        if verdict == "timeout":
            raise RunFailed("APPROVAL_UNDECIDED", "approval node %s has no timeoutSeconds: decide it with approve or reject" % node["id"], node["id"])
        if verdict not in ("approve", "reject"):
            raise RunFailed("APPROVAL_UNDECIDED", "approval node %s needs a decision: pass --approve or --reject" % node["id"], node["id"])
        decision = "approved" if verdict == "approve" else "rejected"
        return {"type": "approvalDecided", "at": at, "nodeId": node["id"], "output": approval_output(decision, "cli", at)}


def _now():
    return datetime.now(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def run_workflow(inputs, decide=None, on_step=None, plan=None, call_agent=None):
    """Checks the inputs, runs the plan and answers its outputs; raises RunFailed when it does not succeed."""
    plan = plan or load_plan()
    checked = check_inputs(plan["inputs"], inputs)
    return outcome(Run(plan, checked, decide, on_step, call_agent).execute())


def outcome(end):
    """The outputs of a run that succeeded; RunFailed with the run's error (RUN_CANCELLED when cancelled)."""
    if end["status"] == "succeeded":
        return end["outputs"]
    if end["status"] == "cancelled":
        raise RunFailed("RUN_CANCELLED", "the run was cancelled", None, "cancelled")
    error = end["error"] or {"code": "RUN_ERROR", "message": "the run ended %s" % end["status"]}
    raise RunFailed(error["code"], error["message"], error.get("nodeId"), end["status"])
