"""The exported workflow's interpreter: the same plan, scheduling and node semantics as Tessera's canvasRun
workflow. Ready agent nodes run in parallel threads; a node whose incoming edges are all inactive is skipped;
approvals are decided by --approve/--reject (or --decide NODE=approve|reject), or asked on the terminal."""
import re
from datetime import datetime, timezone
from concurrent.futures import FIRST_COMPLETED, ThreadPoolExecutor, wait
from importlib import resources

from . import handlebars, jsonata, providers
from .jsvalues import is_number, js_truthy, number_to_string, parse_json

TERMINAL = ("succeeded", "skipped", "failed", "cancelled")


class RunFailed(Exception):
    def __init__(self, code, message, node_id=None):
        super().__init__(message)
        self.code = code
        self.node_id = node_id


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


def _edge_active(edge, states):
    source = states.get(edge["source"], {})
    if source.get("status") != "succeeded":
        return False
    return edge["sourceHandle"] is None or edge["sourceHandle"] == source.get("handle")


def next_steps(plan, states):
    """core/scheduler.ts nextSteps."""
    scratch = dict(states)
    ready, skip = [], []
    changed = True
    while changed:
        changed = False
        for node in plan["nodes"]:
            node_id = node["id"]
            if node_id in ready or node_id in skip:
                continue
            if scratch.get(node_id, {}).get("status", "pending") != "pending":
                continue
            if not node["incoming"]:
                ready.append(node_id)
                continue
            if not all(scratch.get(e["source"], {}).get("status") in TERMINAL for e in node["incoming"]):
                continue
            if any(_edge_active(e, scratch) for e in node["incoming"]):
                ready.append(node_id)
            else:
                skip.append(node_id)
                scratch[node_id] = {"status": "skipped"}
                changed = True
    order = [n["id"] for n in plan["nodes"]]
    return [i for i in order if i in ready], [i for i in order if i in skip]


class Run:
    def __init__(self, plan, inputs, decide=None, log=None):
        self.plan = plan
        self.inputs = inputs
        self.decide = decide
        self.log = log or (lambda message: None)
        self.states = {n["id"]: {"status": "pending"} for n in plan["nodes"]}
        self.node_outputs = {}
        self.outputs = {}

    def scope(self):
        return {"inputs": self.inputs, "nodes": self.node_outputs}

    def render(self, compiled):
        return handlebars.render(compiled, self.scope())

    def pure(self, node):
        kind = node["type"]
        compiled = node["compiled"]
        handle = None
        if kind == "trigger":
            output = self.inputs
        elif kind == "transform":
            if "template" in compiled:
                output = self.render(compiled["template"])
            else:
                output = jsonata.evaluate(compiled["expression"], self.scope())
        elif kind == "condition":
            result = js_truthy(jsonata.evaluate(compiled["expression"], self.scope()))
            handle = "true" if result else "false"
            output = {"result": result}
        elif kind == "output":
            output = self.render(compiled["value"])
            self.outputs[node["id"]] = output
        elif kind == "approval":
            output, handle = self.approval(node)
        else:
            raise RunFailed("NODE_ERROR", "node type %s cannot run here" % kind, node["id"])
        self.node_outputs[node["id"]] = output
        self.states[node["id"]] = {"status": "succeeded", "handle": handle}

    def approval(self, node):
        decision = self.decide(node) if self.decide else None
        if decision not in ("approve", "reject"):
            raise RunFailed("APPROVAL_UNDECIDED", "approval node %s needs a decision: pass --approve or --reject" % node["id"], node["id"])
        handle = "approved" if decision == "approve" else "rejected"
        # The platform's approval output (workflows/approval-desk.ts), decided here by the command line.
        output = {"decision": handle, "decidedBy": "cli", "decisions": [], "comment": None, "data": {}, "at": _now()}
        return output, handle

    def agent_request(self, node):
        data = node["data"]
        compiled = node["compiled"]
        request = {"provider": data["provider"], "model": data["model"], "prompt": self.render(compiled["prompt"])}
        if "system" in compiled:
            request["system"] = self.render(compiled["system"])
        for key in ("temperature", "maxTokens", "responseFormat", "timeoutSeconds", "delayMs"):
            if key in data:
                request[key] = data[key]
        return request

    def execute(self):
        nodes = {n["id"]: n for n in self.plan["nodes"]}
        with ThreadPoolExecutor(max_workers=8) as pool:
            running = {}
            while True:
                if all(s["status"] in TERMINAL for s in self.states.values()) and not running:
                    break
                ready, skip = next_steps(self.plan, self.states)
                for node_id in skip:
                    self.states[node_id] = {"status": "skipped"}
                    self.log("skipped %s" % node_id)
                pure = [nodes[i] for i in ready if nodes[i]["type"] != "agent"]
                for node in pure:
                    try:
                        self.pure(node)
                    except RunFailed:
                        raise
                    except Exception as err:
                        raise RunFailed("NODE_ERROR", "%s node %s: %s" % (node["type"], node["id"], err), node["id"])
                    self.log("succeeded %s" % node["id"])
                if pure or skip:
                    continue
                for node_id in ready:
                    node = nodes[node_id]
                    self.states[node_id] = {"status": "running"}
                    request = self.agent_request(node)
                    self.log("started %s" % node_id)
                    running[pool.submit(providers.complete, request, node["data"].get("retry"))] = node_id
                if not running:
                    raise RunFailed("RUN_ERROR", "the run cannot make progress: no node is ready or running")
                done, _ = wait(list(running), return_when=FIRST_COMPLETED)
                for future in done:
                    node_id = running.pop(future)
                    try:
                        self.node_outputs[node_id] = future.result()
                    except Exception as err:
                        for other in running:
                            other.cancel()
                        raise RunFailed("AGENT_FAILED", str(err), node_id)
                    self.states[node_id] = {"status": "succeeded"}
                    self.log("succeeded %s" % node_id)
        return self.outputs


def _now():
    return datetime.now(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def run_workflow(inputs, decide=None, log=None, plan=None):
    plan = plan or load_plan()
    checked = check_inputs(plan["inputs"], inputs)
    return Run(plan, checked, decide, log).execute()
