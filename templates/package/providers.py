"""LLM providers of the exported runner over the standard library's HTTP client, so the package installs
and runs offline: echo (the prompt back, as on the platform), openai (chat completions) and anthropic
(messages). Keys and base URLs come from OPENAI_API_KEY/OPENAI_BASE_URL and ANTHROPIC_API_KEY/ANTHROPIC_BASE_URL."""
import json
import os
import re
import time
import urllib.error
import urllib.request
from email.utils import parsedate_to_datetime

from .jsvalues import parse_json

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
    body = {"model": request["model"], "messages": messages}
    if "temperature" in request:
        body["temperature"] = request["temperature"]
    if "maxTokens" in request:
        body["max_tokens"] = request["maxTokens"]
    if request.get("responseFormat") == "json":
        body["response_format"] = {"type": "json_object"}
    answer = _post(base + "/chat/completions", {"authorization": "Bearer " + key}, body, request.get("timeoutSeconds", 300), "openai")
    text = (answer.get("choices") or [{}])[0].get("message", {}).get("content") or ""
    usage = answer.get("usage") or {}
    return _result(request, text, usage.get("prompt_tokens", 0), usage.get("completion_tokens", 0), answer.get("model", request["model"]), "openai")


def anthropic(request, stop=None):
    key = os.environ.get("ANTHROPIC_API_KEY")
    if not key:
        raise ProviderError("ANTHROPIC_API_KEY is not set", False)
    base = os.environ.get("ANTHROPIC_BASE_URL", "https://api.anthropic.com").rstrip("/")
    system = _system_prompt(request)
    body = {"model": request["model"], "max_tokens": request.get("maxTokens", 1024), "messages": [{"role": "user", "content": request["prompt"]}]}
    if system:
        body["system"] = system
    if "temperature" in request:
        body["temperature"] = request["temperature"]
    headers = {"x-api-key": key, "anthropic-version": "2023-06-01"}
    answer = _post(base + "/v1/messages", headers, body, request.get("timeoutSeconds", 300), "anthropic")
    text = "".join(part.get("text", "") for part in answer.get("content", []) if part.get("type") == "text")
    usage = answer.get("usage") or {}
    return _result(request, text, usage.get("input_tokens", 0), usage.get("output_tokens", 0), answer.get("model", request["model"]), "anthropic")


def _result(request, text, input_tokens, output_tokens, model, provider):
    result = {"text": text}
    if request.get("responseFormat") == "json":
        result["json"] = parse_json_reply(text, provider, True)
    result["usage"] = {"inputTokens": input_tokens, "outputTokens": output_tokens, "totalTokens": input_tokens + output_tokens}
    result["model"] = model
    result["provider"] = provider
    return result


PROVIDERS = {"echo": echo, "openai": openai, "anthropic": anthropic}


def call(request, stop=None):
    """One attempt of an agent turn. Retries are the run machine's (machine.py): it counts the attempts and
    waits the node's backoff, as on the platform. `stop` (a threading.Event) ends an echo delay early."""
    return PROVIDERS[request["provider"]](request, stop)
