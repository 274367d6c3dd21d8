"""The exported workflow's interpreter: the driver of the run machine, as workflows/canvas-run.ts is the
platform's. machine.py (the mirror of core/run-machine.ts) decides every transition: what runs next, skips,
retries, failure fan-out, cancellation, approval timeouts. This file carries out its commands and feeds back
what happened:
  evaluate     -> the wave's texts, evaluated here (handlebars.py, jsonata.py), fed back before anything else
  callAgent    -> one provider call in a thread of its own (at most 8 at a time), after the retry's backoff
  callModel    -> the same for one model call of a tool-using agent (its tools offered, the rounds so far
                  replayed); the arguments of the calls it asks for are checked against each tool's schema
                  (tool_schema.py) before the machine sees them, as the platform's model-call activity does
  callTurn     -> one conversation turn (conversation.py builds what the speaker is sent), as a provider call
  selectSpeaker-> the first participant's model asked who speaks next (a conversation under auto)
  callTool     -> one http tool call in a thread of its own (http_tool.py), tried up to 3 times when the
                  failure may pass (a timeout, a refused connection), as the platform's callTool activity is
  waitApproval -> --approve/--reject/--decide NODE=approve|reject|timeout, or asked on a terminal (for at most
                  the node's timeoutSeconds, then its onTimeout policy)
  stopInFlight -> turns in flight are abandoned: their backoffs end, their late answers change nothing
  finish       -> the run's end: its outputs, or the error
Ctrl-C (KeyboardInterrupt) is the machine's cancelRequested: open nodes are cancelled and the run ends cancelled."""
import collections
import os
import queue
import re
import signal
import threading
import time
from datetime import datetime, timezone
from importlib import resources

from . import conversation, handlebars, http_tool, jsonata, machine, providers, tool_schema
from .jsvalues import is_number, js_truthy, number_to_string, parse_json

MAX_PARALLEL_TURNS = 8
# A speaker selection answers with a name (activities/conversation-turn.ts SELECTOR_MAX_TOKENS).
SELECTOR_MAX_TOKENS = 50
# The platform's callTool retry policy (workflows/canvas-run.ts): 3 attempts, 1 s then 2 s apart.
TOOL_ATTEMPTS = 3
TOOL_RETRY_DELAYS_S = (1.0, 2.0)


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
        elif kind == "conversation":
            values = {field: handlebars.render(compiled[field], scope) for field in conversation.evaluation_fields(data)}
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


def tool_specs(tools):
    """The tools a model is offered (core/tool-loop.ts toolSpecs): name, description and parameters."""
    specs = []
    for tool in tools:
        spec = {"name": tool["name"]}
        if "description" in tool:
            spec["description"] = tool["description"]
        spec["parameters"] = tool.get("parameters", tool_schema.DEFAULT_PARAMETERS)
        specs.append(spec)
    return specs


def conversation_request(node, command):
    """The provider request of a conversation turn (the speaker's) or speaker selection (the first participant's)."""
    data = node["data"]
    participants = data["participants"]
    texts = {"topic": command["topic"], "systems": command["systems"]}
    if command["type"] == "selectSpeaker":
        voice = participants[0]
        request = dict(conversation.selector_request(participants, texts, command["transcript"], command["candidates"]), maxTokens=SELECTOR_MAX_TOKENS, temperature=0)
    else:
        voice = next(p for p in participants if p["name"] == command["speaker"])
        request = conversation.turn_request(participants, command["speaker"], texts, command["transcript"])
    request.update(provider=voice["provider"], model=voice["model"])
    if "timeoutSeconds" in data:
        request["timeoutSeconds"] = data["timeoutSeconds"]
    return request


def model_request(node, texts, turns):
    request = agent_request(node, texts)
    request["tools"] = tool_specs(node["data"].get("tools") or [])
    request["turns"] = turns
    return request


def check_arguments(calls, specs):
    """Each call's arguments against its tool's schema (activities/agent-turn.ts checkArguments): a misfit
    goes back to the model as the call's error; a call of an unknown tool is the machine's to answer."""
    checked = []
    for call in calls:
        spec = next((t for t in specs if t["name"] == call["name"]), None)
        problem = None if "argumentError" in call or spec is None else tool_schema.argument_problems(spec["parameters"], call.get("arguments"))
        checked.append(call if problem is None else dict(call, argumentError=problem))
    return checked


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


_outbound = None


def _call_http_tool(command, compiled):
    """One attempt of a tool call with the package's environment (TOOL_ALLOWED_HOSTS and the rest, read once)."""
    global _outbound
    if _outbound is None:
        _outbound = http_tool.OutboundSettings.from_env(os.environ)
    return http_tool.run_http_tool(command["tool"], compiled, command["call"].get("arguments"), command["scope"], _outbound, os.environ)


class Run:
    """One run: the machine's state, and the commands it asked for carried out.

    `decide(node, shown)` answers approve, reject, timeout or None (`shown`: the rendered title and instructions); `call_agent(node_id, attempt, request, stop)`
    makes one agent attempt (the providers by default); `on_step(happening, result)` sees every transition
    (the CLI's --verbose prints its events)."""

    def __init__(self, plan, inputs, decide=None, on_step=None, call_agent=None, clock=None, call_tool=None):
        self.plan = plan
        self.decide = decide
        self.on_step = on_step or (lambda happening, result: None)
        self.call_agent = call_agent or _call_provider
        self.call_tool = call_tool or _call_http_tool
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
        elif kind in ("callAgent", "callModel", "callTurn", "selectSpeaker"):
            threading.Thread(target=self.turn, args=(command,), name="tessera-turn-%s" % command["nodeId"], daemon=True).start()
        elif kind == "callTool":
            threading.Thread(target=self.tool_call, args=(command,), name="tessera-tool-%s" % command["call"]["id"], daemon=True).start()
        elif kind == "waitApproval":
            self.local.append(self.approval(command))
        elif kind == "stopInFlight":
            self.stop.set()
        elif kind == "finish":
            self.end = command

    def turn(self, command):
        """One agent attempt (or one model call of a tool loop), after its backoff; reports nodeSucceeded (or
        modelAnswered) or nodeFailed."""
        node_id, attempt = command["nodeId"], command["attempt"]
        node = self.nodes[node_id]
        looping = command["type"] == "callModel"
        if hasattr(signal, "pthread_sigmask"):
            # Ctrl-C and SIGTERM are for the main thread, which turns them into cancelRequested.
            signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT, signal.SIGTERM})
        if self.stop.wait(command["delayMs"] / 1000.0):
            return
        with self.slots:
            if self.stop.is_set():
                return
            try:
                if command["type"] in ("callTurn", "selectSpeaker"):
                    request = conversation_request(node, command)
                elif looping:
                    request = model_request(node, command["texts"], command["turns"])
                else:
                    request = agent_request(node, command["texts"])
                output = self.call_agent(node_id, attempt, request, self.stop)
                if looping and output.get("toolCalls"):
                    output = dict(output, toolCalls=check_arguments(output["toolCalls"], request["tools"]))
            except providers.ProviderError as err:
                failure = {"retryable": err.retryable, "message": str(err)}
                if err.retryable and err.retry_after_ms is not None:
                    failure["retryAfterMs"] = err.retry_after_ms
            except Exception as err:  # not the provider's answer (a bug, a reply that is not JSON): worth another attempt
                failure = {"retryable": True, "message": str(err)}
            else:
                if command["type"] == "callTurn":
                    answer = {"text": output["text"], "usage": output["usage"], "model": output["model"]}
                    self.inbox.put({"type": "turnAnswered", "at": self.clock(), "nodeId": node_id, "round": command["round"], "attempt": attempt, "answer": answer})
                elif command["type"] == "selectSpeaker":
                    answer = {"text": output["text"], "usage": output["usage"]}
                    self.inbox.put({"type": "speakerSelected", "at": self.clock(), "nodeId": node_id, "round": command["round"], "attempt": attempt, "answer": answer})
                elif looping:
                    self.inbox.put({"type": "modelAnswered", "at": self.clock(), "nodeId": node_id, "round": command["round"], "attempt": attempt, "answer": output})
                else:
                    self.inbox.put({"type": "nodeSucceeded", "at": self.clock(), "nodeId": node_id, "output": output, "attempt": attempt})
                return
        self.inbox.put(dict(failure, type="nodeFailed", at=self.clock(), nodeId=node_id, attempt=attempt, code="AGENT_FAILED"))

    def tool_call(self, command):
        """One tool call, with the platform's retries of a failure that may pass; reports toolDone with its
        result, or with the error the model is told."""
        if hasattr(signal, "pthread_sigmask"):
            signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT, signal.SIGTERM})
        node_id, call = command["nodeId"], command["call"]
        compiled = self.nodes[node_id]["compiled"]["tools"][command["tool"]["name"]]
        started = time.monotonic()
        done = {"type": "toolDone", "nodeId": node_id, "round": command["round"], "callId": call["id"]}
        for attempt in range(1, TOOL_ATTEMPTS + 1):
            try:
                result = self.call_tool(command, compiled)
            except Exception as err:  # the tool's words go to the model; a bug in a tool is the call's failure too
                retryable = getattr(err, "retryable", False)
                if retryable and attempt < TOOL_ATTEMPTS and not self.stop.wait(TOOL_RETRY_DELAYS_S[attempt - 1]):
                    continue
                if self.stop.is_set():
                    return
                done["error"] = str(err)
            else:
                done["result"] = result
            break
        done.update(at=self.clock(), durationMs=int((time.monotonic() - started) * 1000))
        self.inbox.put(done)

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
