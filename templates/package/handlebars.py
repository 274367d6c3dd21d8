"""Renders the Handlebars subset Tessera exports, from the syntax tree Handlebars.parse produced at export
time (whitespace control already applied): text, {{path}}, {{json x indent=N}}, {{lookup x key}},
#if/#unless/#each/#with with else, comments, @index/@key/@first/@last/@root, ../ paths. No HTML escaping;
objects and arrays render as JSON — the platform's semantics (core/template.ts)."""
import re

from .jsvalues import UNDEFINED, is_number, js_truthy, to_display_string, to_json, js_key_order

_INDEX = re.compile(r"^(0|[1-9][0-9]*)$")


class TemplateError(Exception):
    pass


def lookup_property(parent, name):
    """Handlebars' lookupProperty with prototype access off: own properties only."""
    if isinstance(parent, dict):
        return parent.get(name, UNDEFINED) if name in parent else UNDEFINED
    if isinstance(parent, (list, str)):
        if name == "length":
            # JavaScript counts a string's length in UTF-16 code units.
            return len(parent.encode("utf-16-le")) // 2 if isinstance(parent, str) else len(parent)
        if _INDEX.match(name) and int(name) < len(parent):
            return parent[int(name)]
    return UNDEFINED


class _Frame:
    def __init__(self, data, parent=None):
        self.data = data
        self.parent = parent


def render(program, scope):
    """Renders a parsed template (a Program node) over `scope` ({"inputs": ..., "nodes": ...})."""
    root = _Frame({"root": scope})
    return _program(program, [scope], root)


def _program(program, contexts, frame):
    out = []
    for statement in program.get("body", []):
        kind = statement["type"]
        if kind == "ContentStatement":
            out.append(statement["value"])
        elif kind == "CommentStatement":
            continue
        elif kind == "MustacheStatement":
            out.append(_mustache(statement, contexts, frame))
        elif kind == "BlockStatement":
            out.append(_block(statement, contexts, frame))
        else:
            raise TemplateError("unsupported template statement " + kind)
    return "".join(out)


def _evaluate(node, contexts, frame):
    kind = node["type"]
    if kind == "PathExpression":
        return _path(node, contexts, frame)
    if kind in ("StringLiteral", "NumberLiteral", "BooleanLiteral"):
        return node["value"]
    if kind == "NullLiteral":
        return None
    if kind == "UndefinedLiteral":
        return UNDEFINED
    raise TemplateError("unsupported template expression " + kind)


def _path(node, contexts, frame):
    parts = node["parts"]
    if node.get("data"):
        current = frame.data.get(parts[0], UNDEFINED) if parts else UNDEFINED
        rest = parts[1:]
    else:
        depth = node.get("depth", 0)
        current = contexts[max(len(contexts) - 1 - depth, 0)]
        rest = parts
    for part in rest:
        if current is UNDEFINED or current is None:
            return current
        current = lookup_property(current, part)
    return current


def _helper_name(node):
    path = node["path"]
    if path["type"] == "PathExpression" and not path.get("data") and path.get("depth", 0) == 0 and len(path["parts"]) == 1:
        return path["parts"][0]
    return None


def _hash(node, contexts, frame):
    pairs = (node.get("hash") or {}).get("pairs", [])
    return {pair["key"]: _evaluate(pair["value"], contexts, frame) for pair in pairs}


def _mustache(node, contexts, frame):
    name = _helper_name(node)
    params = [_evaluate(p, contexts, frame) for p in node.get("params", [])]
    if name == "json":
        if not params:
            return ""
        indent = _hash(node, contexts, frame).get("indent", UNDEFINED)
        indent = min(max(indent, 0), 10) if is_number(indent) else None
        encoded = to_json(params[0], indent)
        return "" if encoded is UNDEFINED else encoded
    if name == "lookup" and params:
        if params[0] is UNDEFINED or params[0] is None:
            return to_display_string(params[0])
        return to_display_string(lookup_property(params[0], to_display_string(params[1]) if len(params) > 1 else "undefined"))
    if params:
        raise TemplateError("Missing helper: \"%s\"" % (name or node["path"].get("original")))
    return to_display_string(_evaluate(node["path"], contexts, frame))


def _block(node, contexts, frame):
    name = _helper_name(node)
    params = [_evaluate(p, contexts, frame) for p in node.get("params", [])]
    program = node.get("program") or {"body": []}
    inverse = node.get("inverse") or {"body": []}
    value = params[0] if params else UNDEFINED
    if name in ("if", "unless"):
        include_zero = _hash(node, contexts, frame).get("includeZero") is True
        falsy = (not include_zero and not js_truthy(value)) or _empty(value)
        take = not falsy if name == "if" else falsy
        return _program(program if take else inverse, contexts, frame)
    if name == "with":
        if _empty(value):
            return _program(inverse, contexts, frame)
        return _program(program, contexts + [value], frame)
    if name == "each":
        return _each(value, program, inverse, contexts, frame)
    raise TemplateError("unsupported block helper " + str(name))


def _empty(value):
    # Handlebars' Utils.isEmpty: falsy except 0, or an empty array.
    if isinstance(value, list):
        return len(value) == 0
    if is_number(value) and not isinstance(value, bool):
        return value != value
    return not js_truthy(value)


def _each(value, program, inverse, contexts, frame):
    out = []
    if isinstance(value, list):
        last = len(value) - 1
        for i, item in enumerate(value):
            data = dict(frame.data)
            data.update({"index": i, "key": i, "first": i == 0, "last": i == last})
            out.append(_program(program, contexts + [item], _Frame(data, frame)))
    elif isinstance(value, dict):
        keys = js_key_order(list(value.keys()))
        last = len(keys) - 1
        for i, key in enumerate(keys):
            data = dict(frame.data)
            data.update({"index": i, "key": key, "first": i == 0, "last": i == last})
            out.append(_program(program, contexts + [value[key]], _Frame(data, frame)))
    if not out:
        return _program(inverse, contexts, frame)
    return "".join(out)
