"""LLM providers of the exported runner over the standard library's HTTP client, so the package installs
and runs offline: echo (the prompt back, as on the platform), openai (chat completions) and anthropic
(messages). Keys and base URLs come from OPENAI_API_KEY/OPENAI_BASE_URL and ANTHROPIC_API_KEY/ANTHROPIC_BASE_URL
(OPENAI_BASE_URL also reaches an OpenAI-compatible server: Ollama, vLLM, LM Studio). A request with `tools`
is one model call of the tool loop, over each API's native tool calling (Chat Completions tools/tool_calls,
Messages tool_use/tool_result), continuing the conversation in `turns` (core/tool-loop.ts LoopTurn); its
answer carries `toolCalls` when the model asked for any."""
import json
import os
import re
import time
import urllib.error
import urllib.request
from email.utils import parsedate_to_datetime

from .jsvalues import parse_json, to_json

JSON_REPLY_INSTRUCTION = "Reply with a single JSON object and nothing else."
_FENCED = re.compile(r"^```(?:json)?\s*\n([\s\S]*?)\n?```$", re.IGNORECASE)
_JS_WHITESPACE = re.compile(r"[\s\ufeff\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]+")


class ProviderError(Exception):
    """A failed turn: `retryable` says whether another attempt may help (429, 5xx, network), `retry_after_ms`
    is the provider's Retry-After, which beats the node's backoff (as in the platform's run machine)."""

    def __init__(self, message, retryable, retry_after_ms=None):
        super().__init__(message)
        self.retryable = retryable
        self.retry_after_ms = retry_after_ms


def parse_json_reply(text, provider, retryable):
    trimmed = _js_trim(text)
    match = _FENCED.match(trimmed)
    body = match.group(1) if match else trimmed
    try:
        return parse_json(body)
    except ValueError:
        preview = trimmed[:200] + "\u2026" if len(trimmed) > 200 else trimmed
        raise ProviderError("%s was asked for JSON but answered text that is not JSON: %s" % (provider, preview), retryable)


def _js_trim(text):
    return re.sub(r"^[\s\ufeff\u00a0]+|[\s\ufeff\u00a0]+$", "", text)


def count_words(text):
    trimmed = _js_trim(text)
    return 0 if trimmed == "" else len(_JS_WHITESPACE.split(trimmed))


def echo(request, stop=None):
    if request.get("delayMs"):
        if stop is None:
            time.sleep(request["delayMs"] / 1000)
        elif stop.wait(request["delayMs"] / 1000):
            raise ProviderError("the turn was stopped", False)
    text = request["prompt"]
    input_tokens = count_words(request.get("system") or "") + count_words(request["prompt"])
    output_tokens = count_words(text)
    result = {"text": text}
    if request.get("responseFormat") == "json":
        result["json"] = parse_json_reply(text, "echo", False)
    result["usage"] = {"inputTokens": input_tokens, "outputTokens": output_tokens, "totalTokens": input_tokens + output_tokens}
    result["model"] = request["model"]
    result["provider"] = "echo"
    return result


def _post(url, headers, body, timeout, provider):
    data = json.dumps(body).encode("utf-8")
    req = urllib.request.Request(url, data=data, headers={"content-type": "application/json", **headers}, method="POST")
    try:
        with urllib.request.urlopen(req, timeout=timeout) as response:
            return json.loads(response.read().decode("utf-8"))
    except urllib.error.HTTPError as err:
        detail = err.read().decode("utf-8", "replace")[:500]
        retryable = err.code == 429 or err.code >= 500
        retry_after = _retry_after_ms(err.headers) if retryable else None
        raise ProviderError("%s answered HTTP %d: %s" % (provider, err.code, detail), retryable, retry_after)
    except (urllib.error.URLError, TimeoutError, OSError) as err:
        raise ProviderError("%s is unreachable: %s" % (provider, err), True)


def _retry_after_ms(headers):
    """activities/llm/provider-failure.ts retryAfterMs: retry-after-ms, else Retry-After in seconds or as a date."""
    if headers is None:
        return None
    for name, scale in (("retry-after-ms", 1), ("retry-after", 1000)):
        value = headers.get(name)
        if value is None:
            continue
        try:
            number = float(value)
        except ValueError:
            number = None
        if number is not None and number >= 0 and number == number and number != float("inf"):
            return number * scale
        if name == "retry-after":
            try:
                return max(0.0, (parsedate_to_datetime(value).timestamp() - time.time()) * 1000)
            except (TypeError, ValueError):
                return None
    return None


def _system_prompt(request):
    """The node's system prompt, with the JSON instruction when a JSON reply is wanted."""
    system = request.get("system")
    if request.get("responseFormat") == "json":
        system = (system + "\n\n" if system else "") + JSON_REPLY_INSTRUCTION
    return system


def openai(request, stop=None):
    key = os.environ.get("OPENAI_API_KEY")
    if not key:
        raise ProviderError("OPENAI_API_KEY is not set", False)
    base = os.environ.get("OPENAI_BASE_URL", "https://api.openai.com/v1").rstrip("/")
    system = _system_prompt(request)
    messages = ([{"role": "system", "content": system}] if system else []) + [{"role": "user", "content": request["prompt"]}]
    # A conversation turn's transcript after the topic (core/conversation.ts turnRequest), then a tool loop's rounds.
    messages.extend({"role": m["role"], "content": m["text"]} for m in request.get("messages") or [])
    for turn in request.get("turns") or []:
        messages.extend(_openai_messages(turn))
    body = {"model": request["model"], "messages": messages}
    if request.get("tools"):
        body["tools"] = [{"type": "function", "function": _described(t, "parameters")} for t in request["tools"]]
    if "temperature" in request:
        body["temperature"] = request["temperature"]
    if "maxTokens" in request:
        body["max_tokens"] = request["maxTokens"]
    if request.get("responseFormat") == "json":
        body["response_format"] = {"type": "json_object"}
    answer = _post(base + "/chat/completions", {"authorization": "Bearer " + key}, body, request.get("timeoutSeconds", 300), "openai")
    message = (answer.get("choices") or [{}])[0].get("message", {})
    text = message.get("content") or ""
    usage = answer.get("usage") or {}
    calls = [_openai_call(c) for c in message.get("tool_calls") or [] if c.get("type", "function") == "function"]
    return _result(request, text, usage.get("prompt_tokens", 0), usage.get("completion_tokens", 0), answer.get("model", request["model"]), "openai", calls)


def anthropic(request, stop=None):
    key = os.environ.get("ANTHROPIC_API_KEY")
    if not key:
        raise ProviderError("ANTHROPIC_API_KEY is not set", False)
    base = os.environ.get("ANTHROPIC_BASE_URL", "https://api.anthropic.com").rstrip("/")
    system = _system_prompt(request)
    messages = [{"role": "user", "content": request["prompt"]}] + [{"role": m["role"], "content": m["text"]} for m in request.get("messages") or []]
    messages += [_anthropic_message(t) for t in request.get("turns") or []]
    body = {"model": request["model"], "max_tokens": request.get("maxTokens", 1024), "messages": messages}
    if request.get("tools"):
        body["tools"] = [_described(t, "input_schema") for t in request["tools"]]
    if system:
        body["system"] = system
    if "temperature" in request:
        body["temperature"] = request["temperature"]
    headers = {"x-api-key": key, "anthropic-version": "2023-06-01"}
    answer = _post(base + "/v1/messages", headers, body, request.get("timeoutSeconds", 300), "anthropic")
    content = answer.get("content", [])
    text = "".join(part.get("text", "") for part in content if part.get("type") == "text")
    calls = [{"id": p["id"], "name": p["name"], "arguments": p.get("input")} for p in content if p.get("type") == "tool_use"]
    usage = answer.get("usage") or {}
    input_tokens = usage.get("input_tokens", 0) + (usage.get("cache_creation_input_tokens") or 0) + (usage.get("cache_read_input_tokens") or 0)
    return _result(request, text, input_tokens, usage.get("output_tokens", 0), answer.get("model", request["model"]), "anthropic", calls)


def _described(tool, schema_key):
    """A tool as an API is told about it: its name, description and parameter schema under `schema_key`."""
    described = {"name": tool["name"]}
    if "description" in tool:
        described["description"] = tool["description"]
    described[schema_key] = tool["parameters"]
    return described


def _openai_messages(turn):
    """A round of the loop as Chat Completions messages: the assistant's tool_calls, then one `tool` message per call."""
    if turn["role"] == "assistant":
        calls = [
            {
                "id": c["id"],
                "type": "function",
                "function": {"name": c["name"], "arguments": c["arguments"] if isinstance(c["arguments"], str) else to_json(c["arguments"] if c["arguments"] is not None else {})},
            }
            for c in turn["toolCalls"]
        ]
        return [{"role": "assistant", "content": turn["text"] or None, "tool_calls": calls}]
    return [{"role": "tool", "tool_call_id": r["id"], "content": r["content"]} for r in turn["results"]]


def _openai_call(call):
    """OpenAI sends arguments as a JSON text the model wrote: one that does not parse goes back to the model."""
    function = call.get("function") or {}
    raw = function.get("arguments") or ""
    parsed = {"id": call.get("id", ""), "name": function.get("name", "")}
    try:
        parsed["arguments"] = parse_json(raw or "{}")
    except ValueError as err:
        parsed.update(arguments=raw, argumentError="the arguments are not JSON (%s)" % err)
    return parsed


def _anthropic_message(turn):
    """A round of the loop as Messages turns: the assistant's tool_use blocks, then the user's tool_result blocks."""
    if turn["role"] == "assistant":
        blocks = [{"type": "text", "text": turn["text"]}] if turn["text"] else []
        blocks += [{"type": "tool_use", "id": c["id"], "name": c["name"], "input": c["arguments"] if c["arguments"] is not None else {}} for c in turn["toolCalls"]]
        return {"role": "assistant", "content": blocks}
    results = []
    for r in turn["results"]:
        block = {"type": "tool_result", "tool_use_id": r["id"], "content": r["content"]}
        if r["isError"]:
            block["is_error"] = True
        results.append(block)
    return {"role": "user", "content": results}


def _result(request, text, input_tokens, output_tokens, model, provider, tool_calls=()):
    result = {"text": text}
    # A round that asks for tools is not the answer yet: its text is not parsed as JSON.
    if request.get("responseFormat") == "json" and not tool_calls:
        result["json"] = parse_json_reply(text, provider, True)
    if tool_calls:
        result["toolCalls"] = list(tool_calls)
    result["usage"] = {"inputTokens": input_tokens, "outputTokens": output_tokens, "totalTokens": input_tokens + output_tokens}
    result["model"] = model
    result["provider"] = provider
    return result


PROVIDERS = {"echo": echo, "openai": openai, "anthropic": anthropic}


def call(request, stop=None):
    """One attempt of an agent turn. Retries are the run machine's (machine.py): it counts the attempts and
    waits the node's backoff, as on the platform. `stop` (a threading.Event) ends an echo delay early."""
    return PROVIDERS[request["provider"]](request, stop)
