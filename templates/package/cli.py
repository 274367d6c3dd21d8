"""The command line of the exported workflow: `--input key=value` / `--inputs-file`, approvals by flag or on
the terminal, the outputs printed as JSON on stdout; `--serve` answers POST /run over HTTP instead."""
import argparse
import json
import select
import signal
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from . import PACKAGE_TITLE, __version__
from .jsvalues import parse_json, to_json
from .runner import RunFailed, load_plan, run_workflow

MAX_BODY_BYTES = 10 * 1024 * 1024


def parse_args(argv):
    parser = argparse.ArgumentParser(
        prog=__package__.replace("_", "-"),
        description="Runs the exported Tessera workflow %s (version %s) and prints its outputs as JSON." % (json.dumps(PACKAGE_TITLE, ensure_ascii=False), __version__),
    )
    parser.add_argument("--input", action="append", default=[], metavar="KEY=VALUE", help="a run input (repeatable); values are coerced to the declared type")
    parser.add_argument("--inputs-file", metavar="PATH", help="a JSON object of inputs (merged under --input)")
    decision = parser.add_mutually_exclusive_group()
    decision.add_argument("--approve", action="store_true", help="approve every approval node")
    decision.add_argument("--reject", action="store_true", help="reject every approval node")
    parser.add_argument("--decide", action="append", default=[], metavar="NODE=approve|reject|timeout", help="decide one approval node (timeout: as if its timeoutSeconds had passed, per its onTimeout)")
    parser.add_argument("--serve", action="store_true", help="serve POST /run instead of running once")
    parser.add_argument("--host", default="0.0.0.0", help="address to serve on (with --serve)")
    parser.add_argument("--port", type=int, default=8080, help="port to serve on (with --serve)")
    parser.add_argument("--verbose", action="store_true", help="log the run's events on stderr, one JSON object a line")
    return parser.parse_args(argv)


def gather_inputs(args):
    inputs = {}
    if args.inputs_file:
        with open(args.inputs_file, encoding="utf-8") as handle:
            loaded = parse_json(handle.read())
        if not isinstance(loaded, dict):
            raise SystemExit("--inputs-file must hold a JSON object")
        inputs.update(loaded)
    spec = load_plan()["inputs"]
    for item in args.input:
        key, sep, value = item.partition("=")
        if not sep:
            raise SystemExit("--input takes KEY=VALUE, got %r" % item)
        kind = spec.get(key, {}).get("type")
        inputs[key] = parse_json(value) if kind == "object" else value
    return inputs


def decider(args):
    per_node = {}
    for item in args.decide:
        node, _, verdict = item.partition("=")
        if verdict not in ("approve", "reject", "timeout"):
            raise SystemExit("--decide takes NODE=approve, NODE=reject or NODE=timeout, got %r" % item)
        per_node[node] = verdict

    def decide(node, shown):
        if node["id"] in per_node:
            return per_node[node["id"]]
        if args.approve:
            return "approve"
        if args.reject:
            return "reject"
        if sys.stdin.isatty():
            return ask(node, shown)
        return None

    return decide


def ask(node, shown):
    """Asks on the terminal; an approval with timeoutSeconds waits that long, then its onTimeout policy applies."""
    if shown.get("instructions"):
        sys.stderr.write(shown["instructions"] + "\n")
    sys.stderr.write("%s [approve/reject]: " % shown["title"])
    sys.stderr.flush()
    seconds = node["data"].get("timeoutSeconds")
    if seconds and not select.select([sys.stdin], [], [], seconds)[0]:
        sys.stderr.write("\n(no answer within %s s)\n" % seconds)
        return "timeout"
    answer = sys.stdin.readline().strip().lower()
    return {"a": "approve", "approve": "approve", "y": "approve", "yes": "approve"}.get(answer, "reject")


def print_events(happening, result):
    for event in result["ledger"]["events"]:
        sys.stderr.write(to_json(event) + "\n")
    sys.stderr.flush()


def _cancel_on_sigterm():
    """`docker stop` sends SIGTERM: the run is cancelled as by Ctrl-C."""

    def handler(signum, frame):
        raise KeyboardInterrupt()

    signal.signal(signal.SIGTERM, handler)


def serve(args):
    class Handler(BaseHTTPRequestHandler):
        def _send(self, status, body):
            payload = to_json(body).encode("utf-8")
            self.send_response(status)
            self.send_header("content-type", "application/json")
            self.send_header("content-length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def do_GET(self):
            if self.path == "/health":
                self._send(200, {"status": "ok"})
            else:
                self._send(404, {"error": {"code": "NOT_FOUND", "message": "POST /run"}})

        def do_POST(self):
            if self.path != "/run":
                self._send(404, {"error": {"code": "NOT_FOUND", "message": "POST /run"}})
                return
            length = int(self.headers.get("content-length") or 0)
            if length > MAX_BODY_BYTES:
                self._send(413, {"error": {"code": "TOO_LARGE", "message": "body too large"}})
                return
            try:
                body = parse_json(self.rfile.read(length).decode("utf-8") or "{}")
                if not isinstance(body, dict) or not isinstance(body.get("inputs", {}), dict):
                    raise ValueError("expected {inputs: {...}, decision?: approve|reject|timeout}")
            except ValueError as err:
                self._send(400, {"error": {"code": "BAD_REQUEST", "message": str(err)}})
                return
            verdict = body.get("decision")
            try:
                outputs = run_workflow(body.get("inputs", {}), decide=lambda node, shown: verdict)
            except RunFailed as err:
                status = 400 if err.code == "INPUTS_INVALID" else 422
                self._send(status, {"error": {"code": err.code, "message": str(err), "nodeId": err.node_id}})
                return
            self._send(200, {"outputs": outputs})

        def log_message(self, format, *args):
            sys.stderr.write("%s\n" % (format % args))

    server = ThreadingHTTPServer((args.host, args.port), Handler)
    sys.stderr.write("serving POST /run on %s:%d\n" % (args.host, args.port))
    sys.stderr.flush()
    server.serve_forever()


def main(argv=None):
    args = parse_args(sys.argv[1:] if argv is None else argv)
    if args.serve:
        serve(args)
        return 0
    _cancel_on_sigterm()
    try:
        outputs = run_workflow(gather_inputs(args), decide=decider(args), on_step=print_events if args.verbose else None)
    except RunFailed as err:
        sys.stderr.write(to_json({"error": {"code": err.code, "message": str(err), "nodeId": err.node_id}}) + "\n")
        # 130: what a shell reports for a program ended by Ctrl-C.
        return 130 if err.status == "cancelled" else 1
    sys.stdout.write(to_json(outputs) + "\n")
    return 0
