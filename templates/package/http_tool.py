"""The `http` tool of an agent (the platform's activities/tools/http-tool.ts and outbound.ts), over the standard
library: the tool's url, headers and body rendered over {inputs, nodes, args} (handlebars.py, from the
templates the export compiled), the credential's secret from the environment as a header, and the request
sent safe against server-side request forgery: every address the host resolves to is checked
(address_policy.py) before the socket opens, the socket connects to exactly a checked address, and each
redirect hop is checked the same way. Timeouts and the response cap always apply. Answers {status, body}
(JSON parsed when the answer says it is JSON; a body cut at the cap is marked truncated).

Settings, with the platform's names and defaults: TOOL_ALLOWED_HOSTS (comma-separated hosts, addresses,
CIDRs; none by default), TOOL_TIMEOUT_MS (30000), TOOL_RESPONSE_MAX_BYTES (65536). A tool with a credential
reads its secret from TOOL_<NAME>_SECRET (the tool's name in capitals, - as _): the platform's vault stays
on the platform."""
import http.client
import re
import socket
import ssl
import time
import urllib.parse

from . import handlebars
from .address_policy import AllowedHosts, check_address, is_ip_literal, parse_ip
from .jsvalues import parse_json, to_json

DEFAULT_TIMEOUT_MS = 30000
DEFAULT_RESPONSE_MAX_BYTES = 64 * 1024
MAX_REDIRECTS = 5
DEFAULT_CREDENTIAL_HEADER = "authorization"
REDIRECT_STATUSES = (301, 302, 303, 307, 308)
# Sent to another origin, these would hand it what was meant for the first one.
ORIGIN_BOUND_HEADERS = ("authorization", "cookie", "proxy-authorization")
BODY_METHODS = ("POST", "PUT", "PATCH", "DELETE")
_TOKEN = re.compile(r"^[A-Za-z0-9!#$%&'*+.^_`|~-]+$")
_READ_CHUNK = 16 * 1024


class ToolError(Exception):
    """activities/tools/tool-error.ts: a code, a message a model can read, and whether another attempt may help."""

    RETRYABLE = ("OUTBOUND_TIMEOUT", "OUTBOUND_FAILED")

    def __init__(self, code, message):
        super().__init__(message)
        self.code = code
        self.retryable = code in self.RETRYABLE


class OutboundSettings:
    def __init__(self, allowed_hosts=None, timeout_ms=DEFAULT_TIMEOUT_MS, response_max_bytes=DEFAULT_RESPONSE_MAX_BYTES, resolve=None):
        self.allowed_hosts = allowed_hosts or AllowedHosts("")
        self.timeout_ms = timeout_ms
        self.response_max_bytes = response_max_bytes
        self.resolve = resolve or _resolve

    @classmethod
    def from_env(cls, env):
        return cls(
            AllowedHosts(env.get("TOOL_ALLOWED_HOSTS", "")),
            _int_setting(env, "TOOL_TIMEOUT_MS", DEFAULT_TIMEOUT_MS, 100, 600000),
            _int_setting(env, "TOOL_RESPONSE_MAX_BYTES", DEFAULT_RESPONSE_MAX_BYTES, 1024, 16 * 1024 * 1024),
        )


def _int_setting(env, name, default, low, high):
    raw = env.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ValueError("%s must be a whole number, got %r" % (name, raw))
    if not low <= value <= high:
        raise ValueError("%s must be between %d and %d" % (name, low, high))
    return value


def secret_variable(tool_name):
    """The environment variable a tool's credential secret is read from."""
    return "TOOL_%s_SECRET" % re.sub(r"[^A-Za-z0-9]", "_", tool_name).upper()


def run_http_tool(tool, compiled, args, scope, settings, env):
    """One call of an http tool. `compiled` holds the tool's parsed url/headers/body templates (plan.json)."""
    context = {"inputs": scope["inputs"], "nodes": scope["nodes"], "args": {} if args is None else args}
    url = _render(compiled["url"], context, "url").strip()
    headers = {}
    for name, template in (compiled.get("headers") or {}).items():
        value = _render(template, context, "header %s" % name).strip(" \t\r\n")
        if not _TOKEN.match(name) or any(c in value for c in "\r\n\0"):
            # The value is not echoed: it may hold whatever the model put in its arguments.
            raise ToolError("TEMPLATE_FAILED", 'the header "%s" of tool %s is not a valid HTTP header (name or rendered value)' % (name, tool["name"]))
        headers[name.lower()] = value
    body = _request_body(tool, compiled, context)
    if body is not None and "content-type" not in headers:
        headers["content-type"] = "application/json" if _parses(body) else "text/plain; charset=utf-8"
    headers.setdefault("accept", "application/json, text/plain;q=0.9, */*;q=0.8")
    sensitive = []
    if tool.get("credentialId"):
        variable = secret_variable(tool["name"])
        secret = env.get(variable)
        if not secret:
            raise ToolError("CREDENTIAL_NOT_FOUND", "tool %s names a credential: set its secret in %s" % (tool["name"], variable))
        header = (tool.get("credentialHeader") or "").strip().lower() or DEFAULT_CREDENTIAL_HEADER
        headers[header] = "Bearer " + secret if header == DEFAULT_CREDENTIAL_HEADER else secret
        sensitive.append(header)
    status, content_type, data, truncated = request_capped(tool["method"], url, headers, body, sensitive, settings)
    text = data.decode("utf-8", "replace")
    parsed = _parse_json_answer(text) if _is_json_type(content_type) and not truncated else None
    result = {"status": status, "body": text if parsed is None else parsed[0]}
    if truncated:
        result["truncated"] = True
    return result


def _render(template, context, what):
    try:
        return handlebars.render(template, context)
    except Exception as err:
        raise ToolError("TEMPLATE_FAILED", "the %s template did not render: %s" % (what, err))


def _request_body(tool, compiled, context):
    """The body template rendered; without one, a POST/PUT/PATCH sends the model's arguments as JSON."""
    if tool["method"] not in BODY_METHODS:
        return None
    if "body" in compiled:
        return _render(compiled["body"], context, "body")
    if tool["method"] == "DELETE":
        return None
    return to_json(context["args"])


def _parses(text):
    try:
        parse_json(text)
        return True
    except ValueError:
        return False


def _parse_json_answer(text):
    try:
        return (parse_json(text),)
    except ValueError:
        return None


def _is_json_type(content_type):
    kind = (content_type or "").split(";")[0].strip().lower()
    return kind == "application/json" or kind.endswith("+json")


def request_capped(method, url, headers, body, sensitive, settings):
    """Sends a request, following redirects by hand (each hop checked before it is asked), and reads at most
    the response cap of the answer: (status, content type, bytes, truncated)."""
    deadline = time.monotonic() + settings.timeout_ms / 1000.0
    method = method.upper()
    headers = dict(headers)
    start = url
    for hop in range(MAX_REDIRECTS + 1):
        target = _check_url(url, settings)
        connection = _connect(target, settings, deadline)
        try:
            path = target.path or "/"
            if target.query:
                path += "?" + target.query
            sent = body.encode("utf-8") if body is not None and method not in ("GET", "HEAD") else None
            try:
                connection.request(method, path, body=sent, headers=headers)
                response = connection.getresponse()
            except socket.timeout:
                raise _timeout(settings)
            except (OSError, http.client.HTTPException) as err:
                raise ToolError("OUTBOUND_FAILED", "the request failed: %s" % err)
            location = response.getheader("location")
            if response.status not in REDIRECT_STATUSES or location is None:
                data, truncated = _read_capped(response, settings, deadline)
                return response.status, response.getheader("content-type"), data, truncated
        finally:
            connection.close()
        if hop >= MAX_REDIRECTS:
            raise ToolError("OUTBOUND_FAILED", "more than %d redirects, starting at %s" % (MAX_REDIRECTS, redact_url(start)))
        following = urllib.parse.urljoin(url, location)
        if _origin(urllib.parse.urlsplit(following)) != _origin(target):
            for name in ORIGIN_BOUND_HEADERS + tuple(sensitive):
                headers.pop(name, None)
        # As browsers do: 303 always, and 301/302 after a POST, go on as a GET without the body.
        if (method != "HEAD") if response.status == 303 else (response.status in (301, 302) and method == "POST"):
            method = "GET"
            body = None
            headers.pop("content-type", None)
            headers.pop("content-length", None)
        url = following
    raise ToolError("OUTBOUND_FAILED", "more than %d redirects, starting at %s" % (MAX_REDIRECTS, redact_url(start)))


def _check_url(url, settings):
    """Refuses a URL that is not http(s), carries a user name, or names a refused address literally."""
    try:
        target = urllib.parse.urlsplit(url)
        target.port  # a port that is no number raises here
    except ValueError:
        raise ToolError("OUTBOUND_REFUSED", '"%s" is not a URL' % url[:200])
    if target.scheme not in ("http", "https") or not target.hostname:
        if target.scheme in ("http", "https"):
            raise ToolError("OUTBOUND_REFUSED", '"%s" is not a URL' % url[:200])
        raise ToolError("OUTBOUND_REFUSED", "only http and https URLs are allowed, not %s:" % target.scheme)
    if target.username or target.password:
        raise ToolError("OUTBOUND_REFUSED", "URLs with a user name or password are not allowed; use a credential")
    if is_ip_literal(target.hostname):
        _check_or_raise(target.hostname, target.hostname, settings)
    return target


def _check_or_raise(hostname, address, settings):
    reason = check_address(hostname, address, settings.allowed_hosts)
    if reason is not None:
        raise ToolError("OUTBOUND_REFUSED", "refused to connect to %s: %s" % (hostname, reason))


def _resolve(hostname, port):
    """Every address of a host name, in the resolver's order."""
    infos = socket.getaddrinfo(hostname, port, type=socket.SOCK_STREAM)
    return [info[4][0] for info in infos]


def _connect(target, settings, deadline):
    """A connection to a checked address of the target: the name is resolved once, every address it has is
    checked (one refused address refuses the name), and the socket connects to the first, never asking DNS again."""
    hostname = target.hostname
    port = target.port or (443 if target.scheme == "https" else 80)
    if is_ip_literal(hostname):
        addresses = [str(parse_ip(hostname))]
    else:
        try:
            addresses = settings.resolve(hostname, port)
        except (OSError, UnicodeError) as err:
            raise ToolError("OUTBOUND_FAILED", "the request failed: %s could not be resolved (%s)" % (hostname, err))
        if not addresses:
            raise ToolError("OUTBOUND_FAILED", "%s has no address" % hostname)
        for address in addresses:
            _check_or_raise(hostname, address, settings)
    remaining = deadline - time.monotonic()
    if remaining <= 0:
        raise _timeout(settings)
    if target.scheme == "https":
        connection = _PinnedHTTPSConnection(addresses[0], hostname, port, timeout=remaining, context=ssl.create_default_context())
    else:
        connection = _PinnedHTTPConnection(addresses[0], hostname, port, timeout=remaining)
    connection.timeout_error = lambda: _timeout(settings)
    return connection


class _PinnedHTTPConnection(http.client.HTTPConnection):
    """Connects to `address` while the Host header names the URL's host."""

    def __init__(self, address, hostname, port, timeout):
        super().__init__(hostname, port, timeout=timeout)
        self._address = address

    def connect(self):
        self.sock = _open_socket(self._address, self.port, self.timeout, self.timeout_error)


class _PinnedHTTPSConnection(http.client.HTTPSConnection):
    """The same over TLS: the certificate is checked against the URL's host name."""

    def __init__(self, address, hostname, port, timeout, context):
        super().__init__(hostname, port, timeout=timeout, context=context)
        self._address = address
        self._context = context

    def connect(self):
        sock = _open_socket(self._address, self.port, self.timeout, self.timeout_error)
        self.sock = self._context.wrap_socket(sock, server_hostname=self.host)


def _open_socket(address, port, timeout, timeout_error):
    try:
        return socket.create_connection((address, port), timeout=timeout)
    except socket.timeout:
        raise timeout_error()
    except OSError as err:
        raise ToolError("OUTBOUND_FAILED", "the request failed: %s" % err)


def _read_capped(response, settings, deadline):
    """Reads the body up to the cap; what lies beyond is not downloaded."""
    chunks, size = [], 0
    cap = settings.response_max_bytes
    while True:
        if time.monotonic() > deadline:
            raise _timeout(settings)
        try:
            chunk = response.read(min(_READ_CHUNK, cap - size + 1))
        except socket.timeout:
            raise _timeout(settings)
        except (OSError, http.client.HTTPException) as err:
            raise ToolError("OUTBOUND_FAILED", "the answer could not be read: %s" % err)
        if not chunk:
            return b"".join(chunks), False
        if size + len(chunk) > cap:
            chunks.append(chunk[: cap - size])
            return b"".join(chunks), True
        chunks.append(chunk)
        size += len(chunk)


def _timeout(settings):
    return ToolError("OUTBOUND_TIMEOUT", "no answer within %d ms (TOOL_TIMEOUT_MS)" % settings.timeout_ms)


def _origin(parts):
    return (parts.scheme, (parts.hostname or "").lower(), parts.port or (443 if parts.scheme == "https" else 80))


def redact_url(url):
    """A URL for messages: no query string (it may carry a key) and no user info."""
    parts = urllib.parse.urlsplit(url)
    host = parts.hostname or ""
    if ":" in host:
        host = "[%s]" % host
    return "%s://%s%s%s" % (parts.scheme, host, ":%d" % parts.port if parts.port else "", parts.path)
