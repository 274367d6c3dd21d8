"""The run machine of the exported runner: a line-by-line mirror of Tessera's core/run-machine.ts (and of the
scheduler it uses, core/scheduler.ts), so the package decides every transition exactly as the platform does.

`step(plan, state, happening)` answers `{"state", "commands", "ledger"}` and changes nothing it was given.
Happenings (dicts with a "type" and an "at"): started, evaluated, nodeSucceeded, nodeFailed, modelAnswered,
toolDone, turnAnswered, speakerSelected, approvalDecided, approvalTimedOut, cancelRequested, runFailed.
Commands: evaluate, callAgent, callModel, callTool, callTurn, selectSpeaker, waitApproval, stopInFlight,
finish. A conversation node speaks turn by turn (conversation.py decides who and when it ends). An agent with tools runs the platform's tool loop
(core/tool-loop.ts): model call, its tool calls all at once, the next model call with their results, until
the model answers without tools or asks once more after maxToolRounds. The ledger holds the events and node rows of each transition, with the platform's event types and
idempotency keys (core/run-ledger.ts), without the sizes and previews only the platform's views need.
Skips, retries, failure fan-out to siblings, cancellation and approval timeouts are decided here only;
runner.py carries out the commands. What the platform's machine does and this one leaves out: byte budgets
(core/limits.ts), deferred evaluations and the approval context (the package has no database to protect),
and tool approvals (core/export-plan.ts refuses an agent whose tool calls wait for a person).
"""
from . import conversation as talk
from .jsvalues import to_json

DEFAULT_AGENT_ATTEMPTS = 3
DEFAULT_MAX_TOOL_ROUNDS = 8
TOOL_ROUNDS_EXCEEDED = "TOOL_ROUNDS_EXCEEDED"
# Temporal's own cap of a retry interval when a node gives none (run-machine.ts MAX_RETRY_INTERVAL_MS).
MAX_RETRY_INTERVAL_MS = 120000

TERMINAL_NODE_STATUSES = ("succeeded", "skipped", "failed", "cancelled")
# on_error (core/node-failure.ts): what a fallible node's final failure does; "fail" (the default) ends the run.
ON_ERROR_HANDLED = ("continue", "branch")
ERROR_HANDLE = "error"
EVALUATION_ERROR = "EVALUATION_ERROR"


# --- core/scheduler.ts ------------------------------------------------------------------------------------

def is_node_terminal(node_state):
    return node_state is not None and node_state.get("status") in TERMINAL_NODE_STATUSES


def is_edge_active(edge, states):
    source = states.get(edge["source"]) or {}
    if source.get("status") != "succeeded":
        return False
    # on_error: a node that failed into its "error" handle (onError branch) takes only its error edges.
    if source.get("handle") == ERROR_HANDLE:
        return edge["sourceHandle"] == ERROR_HANDLE
    return edge["sourceHandle"] is None or edge["sourceHandle"] == source.get("handle")


def next_steps(plan, states):
    """scheduler.ts nextSteps: pending nodes to start now, and those that can never run, in plan order."""
    scratch = dict(states)
    ready, skip = set(), set()
    changed = True
    while changed:
        changed = False
        for node in plan["nodes"]:
            node_id = node["id"]
            if node_id in ready or node_id in skip:
                continue
            if (scratch.get(node_id) or {}).get("status", "pending") != "pending":
                continue
            if not node["incoming"]:
                ready.add(node_id)
                continue
            if not all(is_node_terminal(scratch.get(e["source"])) for e in node["incoming"]):
                continue
            if any(is_edge_active(e, scratch) for e in node["incoming"]):
                ready.add(node_id)
            else:
                skip.add(node_id)
                scratch[node_id] = {"status": "skipped"}
                changed = True
    order = [n["id"] for n in plan["nodes"]]
    return [i for i in order if i in ready], [i for i in order if i in skip]


def is_run_complete(plan, states):
    return all(is_node_terminal(states.get(n["id"])) for n in plan["nodes"])


# --- core/run-ledger.ts -------------------------------------------------------------------------------------

def _event(kind, at, key, node_id=None, data=None):
    event = {"type": kind, "at": at, "key": key}
    if node_id is not None:
        event["nodeId"] = node_id
    if data is not None:
        event["data"] = data
    return event


def _node_data(status, attempt, handle=None):
    """What every node event carries: the node's status, attempt and handle (None but for a condition or a
    decided approval); a skip says attempt 0."""
    return {"status": status, "attempt": attempt, "handle": handle}


def _ledger(events=(), nodes=()):
    return {"events": list(events), "nodes": list(nodes)}


class entry:
    """run-ledger.ts `entry`: what each transition records, and its idempotency key."""

    @staticmethod
    def execution_started(at):
        return _ledger([_event("execution.started", at, "execution:started")])

    @staticmethod
    def pure_succeeded(node_id, handle, started_at, at):
        return _ledger(
            [
                _event("node.started", started_at, "node:%s:started" % node_id, node_id, _node_data("running", 1)),
                _event("node.succeeded", at, "node:%s:succeeded" % node_id, node_id, _node_data("succeeded", 1, handle)),
            ],
            [{"nodeId": node_id, "status": "succeeded", "attempts": 1}],
        )

    @staticmethod
    def agent_running(node_id, attempt, at):
        events = [_event("node.started", at, "node:%s:started" % node_id, node_id, _node_data("running", attempt))] if attempt == 1 else []
        return _ledger(events, [{"nodeId": node_id, "status": "running", "attempts": attempt}])

    @staticmethod
    def node_retrying(node_id, attempt, error, at):
        data = dict(_node_data("running", attempt), nextAttempt=attempt + 1, error=error)
        return _ledger([_event("node.retrying", at, "node:%s:retrying:%d" % (node_id, attempt), node_id, data)])

    @staticmethod
    def agent_succeeded(node_id, attempt, at):
        return _ledger(
            [_event("node.succeeded", at, "node:%s:succeeded" % node_id, node_id, _node_data("succeeded", attempt))],
            [{"nodeId": node_id, "status": "succeeded", "attempts": attempt}],
        )

    @staticmethod
    def model_call_succeeded(node_id, call, at):
        """A model call of round `round` answered (the tools it asked for by name)."""
        data = {"status": "running", "round": call["round"], "attempt": call["attempt"], "usage": call["usage"], "model": call["model"], "toolCalls": call["toolCalls"]}
        return _ledger([_event("model_call.succeeded", at, "node:%s:round:%d:model" % (node_id, call["round"]), node_id, data)])

    @staticmethod
    def model_call_retrying(node_id, round_, attempt, error, at):
        data = {"status": "running", "round": round_, "attempt": attempt, "nextAttempt": attempt + 1, "error": error}
        key = "node:%s:round:%d:retrying:%d" % (node_id, round_, attempt)
        return _ledger([_event("node.retrying", at, key, node_id, data)], [{"nodeId": node_id, "attempts": attempt + 1}])

    @staticmethod
    def tool_call_started(node_id, call, at, call_status="running"):
        data = {"status": "running", "callStatus": call_status, "round": call["round"], "callId": call["id"], "tool": call["name"], "arguments": call["arguments"]}
        key = "node:%s:round:%d:tool:%s:started" % (node_id, call["round"], call["id"])
        return _ledger([_event("tool_call.started", at, key, node_id, data)])

    @staticmethod
    def tool_call_ended(node_id, call, at):
        failed = "error" in call
        data = {
            # `status` is the node's, as on every node event: the agent runs on.
            "status": "running",
            "callStatus": "failed" if failed else "succeeded",
            "round": call["round"],
            "callId": call["id"],
            "tool": call["name"],
            "arguments": call["arguments"],
            "durationMs": call["durationMs"],
        }
        if failed:
            data["error"] = call["error"]
        key = "node:%s:round:%d:tool:%s:ended" % (node_id, call["round"], call["id"])
        return _ledger([_event("tool_call.failed" if failed else "tool_call.succeeded", at, key, node_id, data)])

    @staticmethod
    def conversation_turn(node_id, turn, at):
        """A conversation's turn was spoken: who, which turn, its text and usage."""
        data = {"status": "running", "round": turn["round"], "attempt": turn["attempt"], "speaker": turn["speaker"], "text": turn["text"], "usage": turn["usage"], "model": turn["model"]}
        return _ledger([_event("conversation.turn", at, "node:%s:turn:%d" % (node_id, turn["round"]), node_id, data)])

    @staticmethod
    def conversation_speaker_selected(node_id, selection, at):
        data = dict({"status": "running"}, **selection)
        return _ledger([_event("conversation.speaker_selected", at, "node:%s:turn:%d:speaker" % (node_id, selection["round"]), node_id, data)])

    @staticmethod
    def conversation_retrying(node_id, round_, call, attempt, error, at):
        # `turn`, not `round`: a view reads a retrying event with a round as a tool-using agent's.
        data = {"status": "running", "turn": round_, "call": call, "attempt": attempt, "nextAttempt": attempt + 1, "error": error}
        key = "node:%s:turn:%d:%s:retrying:%d" % (node_id, round_, call, attempt)
        return _ledger([_event("node.retrying", at, key, node_id, data)], [{"nodeId": node_id, "attempts": attempt + 1}])

    @staticmethod
    def node_waiting(node_id, at):
        return _ledger(
            [_event("node.waiting", at, "node:%s:waiting" % node_id, node_id, _node_data("waiting", 1))],
            [{"nodeId": node_id, "status": "waiting", "attempts": 1}],
        )

    @staticmethod
    def approval_succeeded(node_id, decision, at):
        data = _node_data("succeeded", 1, decision)
        return _ledger([_event("node.succeeded", at, "node:%s:succeeded" % node_id, node_id, data)], [{"nodeId": node_id, "status": "succeeded"}])

    @staticmethod
    def node_failed(node_id, error, attempts, at):
        data = dict(_node_data("failed", attempts), error=error["message"], code=error["code"])
        return _ledger([_event("node.failed", at, "node:%s:failed" % node_id, node_id, data)], [{"nodeId": node_id, "status": "failed", "attempts": attempts}])

    @staticmethod
    def failure_handled(node_id, error, attempts, handle, at):
        """on_error: the node failed and its onError handled it; it succeeded with {"error"} as its output."""
        data = dict(_node_data("succeeded", attempts, handle), handled=True, code=error["code"], error=error["message"])
        return _ledger([_event("node.succeeded", at, "node:%s:succeeded" % node_id, node_id, data)], [{"nodeId": node_id, "status": "succeeded", "attempts": attempts}])

    @staticmethod
    def node_skipped(node_id, at):
        return _ledger([_event("node.skipped", at, "node:%s:skipped" % node_id, node_id, _node_data("skipped", 0))], [{"nodeId": node_id, "status": "skipped"}])

    @staticmethod
    def node_cancelled(node_id):
        """A node stopped by the run's end: a row only, as on the platform."""
        return _ledger(nodes=[{"nodeId": node_id, "status": "cancelled"}])

    @staticmethod
    def execution_ended(status, outputs, error, at):
        data = {"outputs": outputs} if status == "succeeded" else ({"error": error} if error else None)
        return _ledger([_event("execution." + status, at, "execution:final", data=data)])


def merge_ledgers(parts):
    merged = _ledger()
    for part in parts:
        merged["events"].extend(part["events"])
        merged["nodes"].extend(part["nodes"])
    return merged


# --- core/run-machine.ts ------------------------------------------------------------------------------------

def initial_state(plan, inputs):
    """The state before `started`."""
    return {
        "status": "running",
        "inputs": inputs,
        "nodes": {n["id"]: {"status": "pending", "attempts": 0, "handle": None} for n in plan["nodes"]},
        "nodeOutputs": {},
        "outputs": {},
        # The rendered texts of agents in flight, so a retry sends the same prompt.
        "agentTexts": {},
        # Agents with tools in their loop: the conversation so far and the round's calls (run-machine.ts AgentLoop).
        "loops": {},
        # Conversation nodes under way (core/conversation.ts): the transcript so far and the call in flight.
        "conversations": {},
        "evaluating": [],
        "evaluationAt": None,
        "error": None,
    }


def is_finished(state):
    return state["status"] != "running"


def step(plan, previous, happening):
    """One transition (run-machine.ts `step`). The input state is not changed."""
    run = _Transition(plan, _copy_state(previous), happening["at"])
    # Whatever arrives once the run has ended (a stopped turn reporting back) changes nothing.
    if is_finished(previous):
        return run.result()
    kind = happening["type"]
    if kind == "started":
        run.ledger.append(entry.execution_started(happening["at"]))
    elif kind == "evaluated":
        run.evaluated(happening["results"])
    elif kind == "nodeSucceeded":
        if run.is_in_flight(happening["nodeId"]):
            run.agent_succeeded(happening["nodeId"], happening["output"], happening["attempt"])
    elif kind == "nodeFailed":
        if run.is_in_flight(happening["nodeId"]):
            run.agent_failed(happening)
    elif kind == "modelAnswered":
        if run.is_in_flight(happening["nodeId"]):
            run.model_answered(happening)
    elif kind in ("turnAnswered", "speakerSelected"):
        if run.is_in_flight(happening["nodeId"]):
            run.conversation_answered(happening)
    elif kind == "toolDone":
        if run.is_in_flight(happening["nodeId"]):
            run.tool_done(happening)
    elif kind == "approvalDecided":
        if run.is_in_flight(happening["nodeId"]):
            run.approval_decided(happening["nodeId"], happening["output"])
    elif kind == "approvalTimedOut":
        if run.is_in_flight(happening["nodeId"]):
            node_id, seconds = happening["nodeId"], happening["timeoutSeconds"]
            message = "approval %s was not decided within %s s" % (node_id, _js_number(seconds))
            run.fail({"code": "APPROVAL_TIMED_OUT", "message": message, "nodeId": node_id}, "timed_out")
    elif kind == "cancelRequested":
        run.end("cancelled")
    elif kind == "runFailed":
        run.fail({"code": "RUN_ERROR", "message": happening["message"]})
    else:
        raise ValueError("unknown happening %r" % kind)
    if not is_finished(run.state):
        run.advance()
    return run.result()


class _Transition:
    """Builds one step's state, commands and ledger; each method is one kind of transition."""

    def __init__(self, plan, state, at):
        self.plan = plan
        self.state = state
        self.at = at
        self.commands = []
        self.ledger = []
        self.nodes_by_id = {n["id"]: n for n in plan["nodes"]}

    def result(self):
        return {"state": self.state, "commands": self.commands, "ledger": merge_ledgers(self.ledger)}

    def is_in_flight(self, node_id):
        return (self.state["nodes"].get(node_id) or {}).get("status") in ("running", "waiting")

    def advance(self):
        """Skips what can never run, completes triggers, asks for the texts of ready nodes, or ends the run."""
        s = self.state
        while True:
            ready, skip = next_steps(self.plan, s["nodes"])
            for node_id in skip:
                s["nodes"][node_id] = {"status": "skipped", "attempts": 0, "handle": None}
                self.ledger.append(entry.node_skipped(node_id, self.at))
            to_evaluate = [i for i in ready if i not in s["evaluating"]]
            triggers = [i for i in to_evaluate if self.node(i)["type"] == "trigger"]
            for node_id in triggers:
                self.pure_succeeded(self.node(node_id), s["inputs"], self.at)
            if skip or triggers:
                continue
            if to_evaluate and not s["evaluating"]:
                s["evaluating"] = to_evaluate
                s["evaluationAt"] = self.at
                self.commands.append({"type": "evaluate", "nodes": list(to_evaluate)})
            break
        if is_run_complete(self.plan, s["nodes"]):
            self.end("succeeded")
            return
        in_flight = any(self.is_in_flight(n["id"]) for n in self.plan["nodes"])
        if not in_flight and not s["evaluating"] and not self.commands:
            self.fail({"code": "RUN_ERROR", "message": "the run cannot make progress: no node is ready or running"})

    def evaluated(self, results):
        """The texts of a wave: pure nodes complete, agents and approvals start, a failed text fails the run."""
        s = self.state
        wave = s["evaluating"]
        started_at = s["evaluationAt"] or self.at
        s["evaluating"] = []
        s["evaluationAt"] = None
        for node_id in wave:
            node = self.node(node_id)
            result = results.get(node_id) or {}
            if result.get("status") == "deferred":
                continue
            if result.get("status") == "failed":
                code = "NODE_ERROR" if result["code"] == EVALUATION_ERROR else result["code"]
                self.fail({"code": code, "message": "%s node %s: %s" % (node["type"], node_id, result["message"]), "nodeId": node_id})
                return
            values = result.get("values") or {}
            if node["type"] == "agent":
                texts = {"prompt": values.get("prompt", "")}
                if "system" in node["data"]:
                    texts["system"] = values.get("system", "")
                if node["data"].get("tools"):
                    self.start_loop(node, texts)
                else:
                    self.start_agent(node, texts, 1, 0)
            elif node["type"] == "conversation":
                progress, following = talk.start_conversation(node["data"], talk.conversation_texts(node["data"], values))
                s["nodes"][node_id] = {"status": "running", "attempts": 1, "handle": None}
                self.ledger.append(entry.agent_running(node_id, 1, self.at))
                self.conversation_step(node, progress, following, 1, 0)
            elif node["type"] == "approval":
                s["nodes"][node_id] = {"status": "waiting", "attempts": 1, "handle": None}
                self.ledger.append(entry.node_waiting(node_id, self.at))
                instructions = values.get("instructions", "") if "instructions" in node["data"] else None
                self.commands.append({"type": "waitApproval", "nodeId": node_id, "title": values.get("title", ""), "instructions": instructions})
            else:
                self.pure_succeeded(node, values.get("value"), started_at)

    def agent_succeeded(self, node_id, output, attempt):
        self.keep_output(node_id, output)
        self.state["nodes"][node_id] = {"status": "succeeded", "attempts": attempt, "handle": None}
        self.ledger.append(entry.agent_succeeded(node_id, attempt, self.at))

    def agent_failed(self, h):
        """A retryable failure with attempts left is retried after the node's backoff; any other fails the run."""
        node = self.node(h["nodeId"])
        if node["type"] not in ("agent", "conversation"):
            return
        retry = node["data"].get("retry") or {}
        maximum_attempts = retry.get("maximumAttempts", DEFAULT_AGENT_ATTEMPTS)
        attempt = h["attempt"]
        if h["retryable"] and attempt < maximum_attempts:
            initial_ms = retry.get("initialIntervalSeconds", 1) * 1000
            backoff = min(initial_ms * retry.get("backoffCoefficient", 2) ** (attempt - 1), MAX_RETRY_INTERVAL_MS)
            delay = h.get("retryAfterMs")
            if node["type"] == "conversation":
                progress = self.state["conversations"].get(h["nodeId"])
                if progress is None:
                    return
                if progress["speaker"] is not None:
                    following = {"kind": "turn", "speaker": progress["speaker"]}
                else:
                    following = {"kind": "select", "candidates": progress["candidates"]}
                call = "turn" if following["kind"] == "turn" else "select"
                self.ledger.append(entry.conversation_retrying(h["nodeId"], progress["round"], call, attempt, h["message"], self.at))
                self.conversation_step(node, progress, following, attempt + 1, backoff if delay is None else delay)
                return
            loop = self.state["loops"].get(h["nodeId"])
            if loop is not None:
                self.ledger.append(entry.model_call_retrying(h["nodeId"], loop["round"], attempt, h["message"], self.at))
                self.call_model(node, attempt + 1, backoff if delay is None else delay)
                return
            self.ledger.append(entry.node_retrying(h["nodeId"], attempt, h["message"], self.at))
            self.start_agent(node, self.state["agentTexts"].get(h["nodeId"], {"prompt": ""}), attempt + 1, backoff if delay is None else delay)
            return
        self.state["nodes"][h["nodeId"]] = dict(self.state["nodes"][h["nodeId"]], attempts=attempt)
        self.node_failed({"code": h["code"], "message": h["message"], "nodeId": h["nodeId"]})

    def node_failed(self, error):
        """on_error: a fallible node failed for good. By its onError (core/node-failure.ts) the run fails, or the
        node succeeds with {"error": {code, message}} (taking "error" under branch) and its siblings run on."""
        node_id = error["nodeId"]
        mode = self.node(node_id)["data"].get("onError", "fail")
        if mode not in ON_ERROR_HANDLED:
            self.fail(error)
            return
        attempts = max(self.state["nodes"][node_id].get("attempts", 0), 1)
        handle = ERROR_HANDLE if mode == "branch" else None
        self.state["loops"] = {k: v for k, v in self.state["loops"].items() if k != node_id}
        self.state["conversations"] = {k: v for k, v in self.state["conversations"].items() if k != node_id}
        self.keep_output(node_id, {"error": {"code": error["code"], "message": error["message"]}})
        self.state["nodes"][node_id] = {"status": "succeeded", "attempts": attempts, "handle": handle}
        self.ledger.append(entry.failure_handled(node_id, error, attempts, handle, self.at))

    def model_answered(self, h):
        """A model call answered. Without tool calls the node succeeds with the whole loop's output; with them the
        round's calls start (all at once), except those the agent cannot make, which are answered at once with
        their error; a model still asking after maxToolRounds rounds fails the node."""
        node_id = h["nodeId"]
        node = self.node(node_id)
        loop = self.state["loops"].get(node_id)
        if node["type"] != "agent" or loop is None or loop["round"] != h["round"] or loop["running"]:
            return
        answer = h["answer"]
        usage = add_usage(loop["usage"], answer["usage"])
        calls = answer.get("toolCalls") or []
        self.ledger.append(
            entry.model_call_succeeded(
                node_id,
                {"round": h["round"], "attempt": h["attempt"], "usage": answer["usage"], "model": answer["model"], "toolCalls": [c["name"] for c in calls]},
                self.at,
            )
        )
        if not calls:
            output = {"text": answer["text"]}
            if "json" in answer:
                output["json"] = answer["json"]
            output.update(usage=usage, model=answer["model"], provider=answer["provider"], rounds=h["round"], toolCalls=loop["toolCalls"])
            self.state["loops"] = {k: v for k, v in self.state["loops"].items() if k != node_id}
            self.agent_succeeded(node_id, output, h["attempt"])
            return
        max_rounds = node["data"].get("maxToolRounds", DEFAULT_MAX_TOOL_ROUNDS)
        if h["round"] > max_rounds:
            self.state["nodes"][node_id] = dict(self.state["nodes"][node_id], attempts=h["attempt"])
            names = ", ".join(c["name"] for c in calls)
            message = "agent %s still asked for tools (%s) after %d tool round%s (maxToolRounds)" % (node_id, names, max_rounds, "" if max_rounds == 1 else "s")
            self.node_failed({"code": TOOL_ROUNDS_EXCEEDED, "message": message, "nodeId": node_id})
            return
        requests = [_call_request(c) for c in calls]
        turns = loop["turns"] + [{"role": "assistant", "text": answer["text"], "toolCalls": requests}]
        following = dict(loop, usage=usage, turns=turns, roundCalls=[], running=[])
        tools = node["data"].get("tools") or []
        scope = {"inputs": self.state["inputs"], "nodes": self.state["nodeOutputs"]}
        for call in calls:
            request = _call_request(call)
            tool = tool_for(tools, call["name"])
            if tool is None:
                refusal = 'there is no tool named "%s"' % call["name"]
            elif "argumentError" in call:
                refusal = "invalid arguments: %s" % call["argumentError"]
            else:
                refusal = None
            self.ledger.append(entry.tool_call_started(node_id, dict(request, round=h["round"]), self.at))
            if refusal is not None:
                record = dict(request, error=refusal)
                following["roundCalls"].append(record)
                self.ledger.append(entry.tool_call_ended(node_id, dict(record, round=h["round"], durationMs=0), self.at))
                continue
            following["roundCalls"].append(request)
            following["running"].append(call["id"])
            self.commands.append({"type": "callTool", "nodeId": node_id, "round": h["round"], "call": request, "tool": tool, "scope": scope})
        self.state["loops"] = dict(self.state["loops"], **{node_id: following})
        self.state["nodes"][node_id] = dict(self.state["nodes"][node_id], attempts=h["attempt"])
        if not following["running"]:
            self.close_round(node)

    def conversation_answered(self, h):
        """A conversation's turn was spoken, or its next speaker chosen: the next turn, selection, or the node's end."""
        node_id = h["nodeId"]
        node = self.node(node_id)
        progress = self.state["conversations"].get(node_id)
        if node["type"] != "conversation" or progress is None or progress["round"] != h["round"]:
            return
        if h["type"] == "speakerSelected":
            if progress["speaker"] is not None:
                return
            chosen, speaker, chosen_by = talk.after_selection(progress, h["answer"])
            selection = {"round": h["round"], "attempt": h["attempt"], "speaker": speaker, "chosenBy": chosen_by, "usage": h["answer"]["usage"]}
            self.ledger.append(entry.conversation_speaker_selected(node_id, selection, self.at))
            self.conversation_step(node, chosen, {"kind": "turn", "speaker": speaker}, 1, 0)
            return
        if progress["speaker"] is None:
            return
        answer = h["answer"]
        turn = {"round": h["round"], "attempt": h["attempt"], "speaker": progress["speaker"], "text": answer["text"], "usage": answer["usage"], "model": answer["model"]}
        self.ledger.append(entry.conversation_turn(node_id, turn, self.at))
        spoken, following = talk.after_turn(node["data"], progress, answer)
        self.conversation_step(node, spoken, following, 1, 0, h["attempt"])

    def conversation_step(self, node, progress, following, attempt, delay_ms, last_attempt=None):
        """Carries out what the conversation says comes next: a turn, a speaker selection, or the node's success."""
        s = self.state
        if following["kind"] == "done":
            s["conversations"] = {k: v for k, v in s["conversations"].items() if k != node["id"]}
            self.agent_succeeded(node["id"], following["output"], attempt if last_attempt is None else last_attempt)
            return
        s["conversations"] = dict(s["conversations"], **{node["id"]: progress})
        s["nodes"][node["id"]] = dict(s["nodes"][node["id"]], status="running", attempts=attempt)
        texts = progress["texts"]
        command = {"nodeId": node["id"], "round": progress["round"], "attempt": attempt, "delayMs": delay_ms, "topic": texts["topic"], "systems": texts["systems"], "transcript": progress["transcript"]}
        if following["kind"] == "turn":
            command.update(type="callTurn", speaker=following["speaker"])
        else:
            command.update(type="selectSpeaker", candidates=following["candidates"])
        self.commands.append(command)

    def tool_done(self, h):
        """A tool call ended; when it was the round's last, the model is called with every result."""
        node_id = h["nodeId"]
        node = self.node(node_id)
        loop = self.state["loops"].get(node_id)
        if node["type"] != "agent" or loop is None or loop["round"] != h["round"] or h["callId"] not in loop["running"]:
            return
        index = next((i for i, c in enumerate(loop["roundCalls"]) if c["id"] == h["callId"] and "result" not in c and "error" not in c), None)
        if index is None:
            return
        call = loop["roundCalls"][index]
        record = dict(call, error=h["error"]) if h.get("error") is not None else dict(call, result=h.get("result"))
        round_calls = [record if i == index else c for i, c in enumerate(loop["roundCalls"])]
        running = [i for i in loop["running"] if i != h["callId"]]
        self.state["loops"] = dict(self.state["loops"], **{node_id: dict(loop, roundCalls=round_calls, running=running)})
        self.ledger.append(entry.tool_call_ended(node_id, dict(record, round=h["round"], durationMs=h["durationMs"]), self.at))
        if not running:
            self.close_round(node)

    def approval_decided(self, node_id, output):
        self.keep_output(node_id, output)
        self.state["nodes"][node_id] = {"status": "succeeded", "attempts": 1, "handle": output["decision"]}
        self.ledger.append(entry.approval_succeeded(node_id, output["decision"], self.at))

    def fail(self, error, status="failed"):
        """The run fails: the node that failed is recorded, every other unfinished node is cancelled (fan-out)."""
        s = self.state
        s["error"] = error
        node_id = error.get("nodeId")
        if node_id:
            attempts = max((s["nodes"].get(node_id) or {}).get("attempts", 0), 1)
            s["nodes"][node_id] = {"status": "failed", "attempts": attempts, "handle": None}
            self.ledger.append(entry.node_failed(node_id, error, attempts, self.at))
        self.end(status)

    def end(self, status):
        """Ends the run: unfinished nodes are cancelled, what runs is stopped, and the end is recorded."""
        s = self.state
        stopping = any(self.is_in_flight(n["id"]) for n in self.plan["nodes"])
        for n in self.plan["nodes"]:
            ns = s["nodes"][n["id"]]
            if not is_node_terminal(ns):
                s["nodes"][n["id"]] = dict(ns, status="cancelled")
                self.ledger.append(entry.node_cancelled(n["id"]))
        s["status"] = status
        s["evaluating"] = []
        del self.commands[:]
        if stopping:
            self.commands.append({"type": "stopInFlight"})
        self.ledger.append(entry.execution_ended(status, s["outputs"], s["error"], self.at))
        self.commands.append({"type": "finish", "status": status, "outputs": s["outputs"], "error": s["error"]})

    def start_agent(self, node, texts, attempt, delay_ms):
        s = self.state
        s["nodes"][node["id"]] = {"status": "running", "attempts": attempt, "handle": None}
        s["agentTexts"][node["id"]] = texts
        self.ledger.append(entry.agent_running(node["id"], attempt, self.at))
        self.commands.append({"type": "callAgent", "nodeId": node["id"], "attempt": attempt, "delayMs": delay_ms, "texts": texts})

    def start_loop(self, node, texts):
        """The first model call of a tool-using agent: the node starts as any agent does."""
        s = self.state
        s["nodes"][node["id"]] = {"status": "running", "attempts": 1, "handle": None}
        s["agentTexts"][node["id"]] = texts
        loop = {"round": 1, "turns": [], "toolCalls": [], "roundCalls": [], "running": [], "usage": {"inputTokens": 0, "outputTokens": 0, "totalTokens": 0}}
        s["loops"] = dict(s["loops"], **{node["id"]: loop})
        self.ledger.append(entry.agent_running(node["id"], 1, self.at))
        self.call_model(node, 1, 0)

    def close_round(self, node):
        """The round's results go to the model: the next round's first model call."""
        loop = self.state["loops"][node["id"]]
        results = [{"id": c["id"], "name": c["name"], "content": tool_result_content(c), "isError": "error" in c} for c in loop["roundCalls"]]
        closed = dict(
            loop,
            round=loop["round"] + 1,
            turns=loop["turns"] + [{"role": "tool", "results": results}],
            toolCalls=loop["toolCalls"] + loop["roundCalls"],
            roundCalls=[],
            running=[],
        )
        self.state["loops"] = dict(self.state["loops"], **{node["id"]: closed})
        self.state["nodes"][node["id"]] = dict(self.state["nodes"][node["id"]], attempts=1)
        self.call_model(node, 1, 0)

    def call_model(self, node, attempt, delay_ms):
        s = self.state
        loop = s["loops"][node["id"]]
        s["nodes"][node["id"]] = dict(s["nodes"][node["id"]], status="running", attempts=attempt)
        texts = s["agentTexts"].get(node["id"], {"prompt": ""})
        self.commands.append({"type": "callModel", "nodeId": node["id"], "round": loop["round"], "attempt": attempt, "delayMs": delay_ms, "texts": texts, "turns": loop["turns"]})

    def pure_succeeded(self, node, value, started_at):
        s = self.state
        output = value
        handle = None
        if node["type"] == "condition":
            handle = "true" if value else "false"
            output = {"result": bool(value)}
        if node["type"] == "output":
            s["outputs"][node["id"]] = output
        self.keep_output(node["id"], output)
        s["nodes"][node["id"]] = {"status": "succeeded", "attempts": 1, "handle": handle}
        self.ledger.append(entry.pure_succeeded(node["id"], handle, started_at, self.at))

    def keep_output(self, node_id, output):
        self.state["agentTexts"].pop(node_id, None)
        self.state["nodeOutputs"][node_id] = output

    def node(self, node_id):
        node = self.nodes_by_id.get(node_id)
        if node is None:
            raise ValueError("node %s is not in the plan" % node_id)
        return node


def _copy_state(s):
    """A copy a step may change: every map is copied (values are replaced, never changed in place)."""
    copy = dict(s)
    for key in ("nodes", "nodeOutputs", "outputs", "agentTexts", "loops", "conversations"):
        copy[key] = dict(s[key])
    copy["evaluating"] = list(s["evaluating"])
    return copy


# --- core/tool-loop.ts ---------------------------------------------------------------------------------------

def tool_for(tools, name):
    """The tool a call names, if the agent has one by that name (the export refuses MCP tools)."""
    return next((t for t in tools if t.get("type") != "mcp" and t.get("name") == name), None)


def tool_result_content(record):
    """What the model reads back for a call: the result as JSON, or {error}."""
    if "error" in record:
        return to_json({"error": record["error"]})
    return to_json(record.get("result"))


def add_usage(a, b):
    return {key: a[key] + b[key] for key in ("inputTokens", "outputTokens", "totalTokens")}


def _call_request(call):
    return {"id": call["id"], "name": call["name"], "arguments": call.get("arguments")}


def _js_number(value):
    """`${n}` of an integer-valued number without the `.0` Python would print."""
    return str(int(value)) if isinstance(value, float) and value.is_integer() else str(value)
