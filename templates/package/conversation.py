"""The `conversation` node of the exported runner, a line-by-line mirror of the platform's core/conversation.ts:
who speaks next (round robin, or a model asked among everyone but the last speaker), when the conversation
ends (maxRounds, or a turn containing terminateOn), what each speaker and the speaker selection are sent, and
the node's output {transcript, text, rounds, usage}. Pure: machine.py decides with it, runner.py builds the
providers' requests with it."""
import re

SELECTOR_SYSTEM_CHARS = 300
DEFAULT_MAX_ROUNDS = 10
_ZERO_USAGE = {"inputTokens": 0, "outputTokens": 0, "totalTokens": 0}
_QUOTES = re.compile(r"^[\"'`*]+|[\"'`*.!]+$")


def _add_usage(a, b):
    return {key: a[key] + b[key] for key in ("inputTokens", "outputTokens", "totalTokens")}


def evaluation_fields(data):
    """The texts to evaluate when the node starts: its topic, and `system.<index>` for each participant with one."""
    fields = {"topic": data["topic"]}
    for index, participant in enumerate(data["participants"]):
        if "system" in participant:
            fields["system.%d" % index] = participant["system"]
    return fields


def conversation_texts(data, values):
    systems = {}
    for index, participant in enumerate(data["participants"]):
        if "system" in participant:
            systems[participant["name"]] = _js_string(values.get("system.%d" % index, ""))
    return {"topic": _js_string(values.get("topic", "")), "systems": systems}


def start_conversation(data, texts):
    """The first participant speaks first, in either mode (it opens the topic; no model is asked)."""
    speaker = data["participants"][0]["name"]
    progress = {"texts": texts, "transcript": [], "usage": dict(_ZERO_USAGE), "round": 1, "speaker": speaker, "candidates": []}
    return progress, {"kind": "turn", "speaker": speaker}


def after_turn(data, progress, turn):
    """A turn answered: it joins the transcript; the conversation ends, or the next speaker is known or chosen."""
    speaker = progress["speaker"] if progress["speaker"] is not None else data["participants"][0]["name"]
    transcript = progress["transcript"] + [{"speaker": speaker, "text": turn["text"]}]
    usage = _add_usage(progress["usage"], turn["usage"])
    spoken = dict(progress, transcript=transcript, usage=usage, round=progress["round"] + 1, speaker=None, candidates=[])
    terminate_on = data.get("terminateOn")
    terminated = terminate_on is not None and terminate_on in turn["text"]
    if terminated or len(transcript) >= data.get("maxRounds", DEFAULT_MAX_ROUNDS):
        return spoken, {"kind": "done", "output": conversation_output(transcript, usage), "reason": "terminated" if terminated else "max_rounds"}
    if data.get("speakerSelection", "round_robin") == "round_robin":
        following = _round_robin_after(data["participants"], speaker)
        return dict(spoken, speaker=following), {"kind": "turn", "speaker": following}
    candidates = _candidates_after(data["participants"], speaker)
    if len(candidates) == 1:
        return dict(spoken, speaker=candidates[0]), {"kind": "turn", "speaker": candidates[0]}
    return dict(spoken, candidates=candidates), {"kind": "select", "candidates": candidates}


def after_selection(progress, answer):
    """The model named the next speaker: the candidate it named, or, when it named none, the next in order."""
    named = chosen_speaker(answer["text"], progress["candidates"])
    speaker = named if named is not None else progress["candidates"][0]
    chosen = dict(progress, usage=_add_usage(progress["usage"], answer["usage"]), speaker=speaker, candidates=[])
    return chosen, speaker, "model" if named is not None else "fallback"


def chosen_speaker(answer, candidates):
    bare = _QUOTES.sub("", answer.strip()).strip().lower()
    for candidate in candidates:
        if candidate.lower() == bare:
            return candidate
    lower = answer.lower()
    best = None
    for name in candidates:
        at = lower.find(name.lower())
        # A longer name found at the same place wins ("Ann" inside "Anna").
        if at >= 0 and (best is None or at < best[1] or (at == best[1] and len(name) > len(best[0]))):
            best = (name, at)
    return best[0] if best else None


def conversation_output(transcript, usage):
    return {"transcript": transcript, "text": transcript[-1]["text"] if transcript else "", "rounds": len(transcript), "usage": usage}


def turn_request(participants, speaker, texts, transcript):
    """What `speaker` is sent for its turn: who it is among whom (then its own system prompt), the topic as the
    first user message, the transcript with its own turns as the assistant's; roles alternate."""
    others = [p["name"] for p in participants if p["name"] != speaker]
    intro = "You are %s, one of the participants in a group conversation with %s. The others' messages begin with their name. Answer as %s only, without your name in front." % (speaker, ", ".join(others), speaker)
    own = texts["systems"].get(speaker)
    messages = [{"role": "user", "text": texts["topic"]}]
    for turn in transcript:
        message = {"role": "assistant", "text": turn["text"]} if turn["speaker"] == speaker else {"role": "user", "text": "%s: %s" % (turn["speaker"], turn["text"])}
        last = messages[-1]
        if last["role"] == message["role"]:
            messages[-1] = {"role": last["role"], "text": "%s\n\n%s" % (last["text"], message["text"])}
        else:
            messages.append(message)
    if messages[-1]["role"] == "assistant":
        messages.append({"role": "user", "text": "(%s, please continue.)" % speaker})
    first, rest = messages[0], messages[1:]
    return {"system": "%s\n\n%s" % (intro, own) if own else intro, "prompt": first["text"], "messages": rest}


def selector_request(participants, texts, transcript, candidates):
    """What the speaker selection asks the first participant's model: the participants, topic and transcript."""
    described = []
    for p in participants:
        system = (texts["systems"].get(p["name"]) or "").strip()
        if system:
            shown = system[:SELECTOR_SYSTEM_CHARS] + "\u2026" if len(system) > SELECTOR_SYSTEM_CHARS else system
            described.append("- %s: %s" % (p["name"], shown))
        else:
            described.append("- %s" % p["name"])
    names = ", ".join(candidates)
    system = "\n".join(["You choose who speaks next in a group conversation. The participants:"] + described + ["Answer with the name of the next speaker only: one of %s." % names])
    lines = ["%s: %s" % (t["speaker"], t["text"]) for t in transcript]
    prompt = "Topic: %s\n\nThe conversation so far:\n%s\n\nWho speaks next? Answer with one name: %s." % (texts["topic"], "\n\n".join(lines), names)
    return {"system": system, "prompt": prompt}


def _round_robin_after(participants, speaker):
    index = next(i for i, p in enumerate(participants) if p["name"] == speaker)
    return participants[(index + 1) % len(participants)]["name"]


def _candidates_after(participants, speaker):
    index = next(i for i, p in enumerate(participants) if p["name"] == speaker)
    count = len(participants)
    names = [participants[(index + 1 + i) % count]["name"] for i in range(count)]
    return [n for n in names if n != speaker]


def _js_string(value):
    return value if isinstance(value, str) else str(value)
