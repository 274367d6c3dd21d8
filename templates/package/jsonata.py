"""Evaluates the JSONata subset Tessera exports, from the syntax tree jsonata() produced at export time:
literals, paths of plain names (with JSONata's sequence flattening), $ and $$, arithmetic, comparison,
=, !=, in, and, or, &, unary minus, array and object constructors, ?:, parentheses, and the functions in
FUNCTIONS. The export refuses any other expression, so every expression that gets here is evaluated the
way the platform's JSONata evaluates it (core/expression.ts)."""
import math
import re

from .jsvalues import UNDEFINED, is_number, js_deep_equal, js_strict_equal, to_json


class ExpressionError(Exception):
    def __init__(self, code, message):
        super().__init__(message)
        self.code = code


class Sequence(list):
    """A JSONata result sequence: flattened into paths and array constructors, unwrapped when single."""


def evaluate(ast, scope):
    return _eval(ast, scope, scope)


def _collapse(result):
    if isinstance(result, Sequence):
        if len(result) == 0:
            return UNDEFINED
        if len(result) == 1:
            return result[0]
    return result


def _eval(node, context, root):
    kind = node["type"]
    if kind == "string" or kind == "number" or kind == "value":
        return node["value"]
    if kind == "name":
        return _collapse(_lookup(context, node["value"]))
    if kind == "path":
        return _collapse(_path(node["steps"], context, root))
    if kind == "variable":
        if node["value"] == "":
            return context
        if node["value"] == "$":
            return root
        raise ExpressionError("T1005", "unsupported variable $" + node["value"])
    if kind == "binary":
        return _binary(node, context, root)
    if kind == "unary":
        return _unary(node, context, root)
    if kind == "condition":
        condition = _eval(node["condition"], context, root)
        if _boolean(condition) is True:
            return _eval(node["then"], context, root)
        if "else" in node:
            return _eval(node["else"], context, root)
        return UNDEFINED
    if kind == "block":
        result = UNDEFINED
        for expression in node["expressions"]:
            result = _eval(expression, context, root)
        return result
    if kind == "function":
        return _call(node, context, root)
    raise ExpressionError("S0000", "unsupported expression " + kind)


def _lookup(value, key):
    if isinstance(value, list):
        result = Sequence()
        for item in value:
            found = _lookup(item, key)
            if found is UNDEFINED:
                continue
            if isinstance(found, list):
                result.extend(found)
            else:
                result.append(found)
        return result
    if isinstance(value, dict):
        return value[key] if key in value else UNDEFINED
    return UNDEFINED


def _path(steps, context, root):
    first = steps[0]
    if isinstance(context, list) and first["type"] != "variable":
        sequence = context
    else:
        sequence = Sequence([context])
    result = sequence
    for index, step in enumerate(steps):
        last = index == len(steps) - 1
        if step["type"] == "variable":
            values = [_eval(step, item, root) for item in sequence]
        else:
            values = [_collapse(_lookup(item, step["value"])) for item in sequence]
        values = [v for v in values if v is not UNDEFINED]
        if last and len(values) == 1 and isinstance(values[0], list) and not isinstance(values[0], Sequence):
            result = values[0]
        else:
            result = Sequence()
            for value in values:
                if isinstance(value, list):
                    result.extend(value)
                else:
                    result.append(value)
        if len(result) == 0:
            break
        sequence = result
    return result


def _boolean(value):
    """JSONata's $boolean: UNDEFINED stays undefined."""
    if value is UNDEFINED:
        return UNDEFINED
    if isinstance(value, list):
        if len(value) == 1:
            return _boolean(value[0])
        return any(_boolean(v) is True for v in value)
    if isinstance(value, bool):
        return value
    if isinstance(value, str):
        return len(value) > 0
    if is_number(value):
        return value != 0
    if isinstance(value, dict):
        return len(value) > 0
    return False


def _boolize(value):
    result = _boolean(value)
    return False if result is UNDEFINED else result


def _string(value):
    if value is UNDEFINED:
        return UNDEFINED
    if isinstance(value, str):
        return value
    if is_number(value) and (value != value or value in (math.inf, -math.inf)):
        raise ExpressionError("D3001", "Attempting to invoke string function on Infinity or NaN")
    return to_json(value, number=_precision15)


def _precision15(number):
    if isinstance(number, int) and abs(number) < 10 ** 15:
        return number
    return float("%.15g" % number)


def _check_number_result(value):
    if is_number(value) and (value != value or value in (math.inf, -math.inf)):
        raise ExpressionError("D1001", "Number out of range")
    return value


def _binary(node, context, root):
    op = node["value"]
    lhs = _eval(node["lhs"], context, root)
    if op == "and":
        return _boolize(lhs) and _boolize(_eval(node["rhs"], context, root))
    if op == "or":
        return _boolize(lhs) or _boolize(_eval(node["rhs"], context, root))
    rhs = _eval(node["rhs"], context, root)
    if op in ("+", "-", "*", "/", "%"):
        if lhs is not UNDEFINED and not is_number(lhs):
            raise ExpressionError("T2001", "The left side of the %s operator must evaluate to a number" % op)
        if rhs is not UNDEFINED and not is_number(rhs):
            raise ExpressionError("T2002", "The right side of the %s operator must evaluate to a number" % op)
        if lhs is UNDEFINED or rhs is UNDEFINED:
            return UNDEFINED
        if op == "+":
            return _check_number_result(lhs + rhs)
        if op == "-":
            return _check_number_result(lhs - rhs)
        if op == "*":
            return _check_number_result(lhs * rhs)
        if rhs == 0:
            raise ExpressionError("D1001", "Number out of range")
        if op == "/":
            return _check_number_result(lhs / rhs)
        return _check_number_result(math.fmod(lhs, rhs) if isinstance(lhs, float) or isinstance(rhs, float) or lhs < 0 or rhs < 0 else lhs % rhs)
    if op in ("=", "!="):
        if lhs is UNDEFINED or rhs is UNDEFINED:
            return False
        equal = js_deep_equal(lhs, rhs)
        return equal if op == "=" else not equal
    if op in ("<", "<=", ">", ">="):
        for side in (lhs, rhs):
            if not (side is UNDEFINED or isinstance(side, str) or is_number(side)):
                raise ExpressionError("T2010", "The expressions either side of operator %s must evaluate to numeric or string values" % op)
        if lhs is UNDEFINED or rhs is UNDEFINED:
            return False
        if isinstance(lhs, str) != isinstance(rhs, str):
            raise ExpressionError("T2009", "The values either side of operator %s must be of the same data type" % op)
        if isinstance(lhs, str):
            lhs, rhs = _utf16(lhs), _utf16(rhs)
        return {"<": lhs < rhs, "<=": lhs <= rhs, ">": lhs > rhs, ">=": lhs >= rhs}[op]
    if op == "&":
        left = "" if lhs is UNDEFINED else _string(lhs)
        right = "" if rhs is UNDEFINED else _string(rhs)
        return left + right
    if op == "in":
        if lhs is UNDEFINED or rhs is UNDEFINED:
            return False
        items = rhs if isinstance(rhs, list) else [rhs]
        return any(js_strict_equal(item, lhs) for item in items)
    raise ExpressionError("S0000", "unsupported operator " + op)


def _utf16(text):
    # JavaScript compares strings by UTF-16 code units.
    return text.encode("utf-16-be")


def _unary(node, context, root):
    op = node["value"]
    if op == "-":
        value = _eval(node["expression"], context, root)
        if value is UNDEFINED:
            return UNDEFINED
        if not is_number(value):
            raise ExpressionError("D1002", "Cannot negate a non-numeric value")
        return -value
    if op == "[":
        result = []
        for item in node["expressions"]:
            value = _eval(item, context, root)
            if value is UNDEFINED:
                continue
            if item.get("value") == "[" and item["type"] == "unary":
                result.append(value)
            elif isinstance(value, list):
                result.extend(value)
            else:
                result.append(value)
        return result
    if op == "{":
        result = {}
        for key_node, value_node in node["lhs"]:
            key = _eval(key_node, context, root)
            if not isinstance(key, str):
                raise ExpressionError("T1003", "Key in object structure must evaluate to a string")
            if key in result:
                raise ExpressionError("D1009", "Multiple key definitions evaluate to same key: " + key)
            value = _eval(value_node, context, root)
            if value is not UNDEFINED:
                result[key] = value
        return result
    raise ExpressionError("S0000", "unsupported operator " + op)


_WHITESPACE = re.compile(r"[ \t\n\r]+")
_NUMBER = re.compile(r"^-?(0|([1-9][0-9]*))(\.[0-9]+)?([Ee][-+]?[0-9]+)?$")


def _code_points(text):
    return list(text)


def _fn_string(value):
    return _string(value)


def _fn_number(value):
    if value is UNDEFINED:
        return UNDEFINED
    if is_number(value):
        return value
    if isinstance(value, bool):
        return 1 if value else 0
    if isinstance(value, str) and _NUMBER.match(value):
        number = float(value)
        if not math.isfinite(number):
            raise ExpressionError("D3030", "Unable to cast value to a number: " + value)
        return int(number) if number.is_integer() and abs(number) <= 2 ** 53 and "." not in value and "e" not in value.lower() else number
    raise ExpressionError("D3030", "Unable to cast value to a number: " + to_json(value))


def _require_string(value, name):
    if not isinstance(value, str):
        raise ExpressionError("T0410", "Argument 1 of function %s does not match function signature" % name)


def _fn_length(value):
    if value is UNDEFINED:
        return UNDEFINED
    _require_string(value, "length")
    return len(_code_points(value))


def _fn_uppercase(value):
    if value is UNDEFINED:
        return UNDEFINED
    _require_string(value, "uppercase")
    return value.upper()


def _fn_lowercase(value):
    if value is UNDEFINED:
        return UNDEFINED
    _require_string(value, "lowercase")
    return value.lower()


def _fn_trim(value):
    if value is UNDEFINED:
        return UNDEFINED
    _require_string(value, "trim")
    result = _WHITESPACE.sub(" ", value)
    if result.startswith(" "):
        result = result[1:]
    if result.endswith(" "):
        result = result[:-1]
    return result


def _fn_contains(value, pattern):
    if value is UNDEFINED:
        return UNDEFINED
    _require_string(value, "contains")
    _require_string(pattern, "contains")
    return pattern in value


def _fn_substring(value, start, length=UNDEFINED):
    if value is UNDEFINED:
        return UNDEFINED
    _require_string(value, "substring")
    chars = _code_points(value)
    start = int(start)
    if len(chars) + start < 0:
        start = 0
    if length is not UNDEFINED:
        if length <= 0:
            return ""
        end = start + int(length) if start >= 0 else len(chars) + start + int(length)
        begin = start if start >= 0 else len(chars) + start
        return "".join(chars[begin:max(end, begin)])
    return "".join(chars[start:] if start >= 0 else chars[len(chars) + start:])


def _fn_join(value, separator=""):
    if value is UNDEFINED:
        return UNDEFINED
    items = value if isinstance(value, list) else [value]
    for item in items:
        if not isinstance(item, str):
            raise ExpressionError("T0412", "Argument 1 of function join must be an array of strings")
    return separator.join(items)


def _fn_count(value):
    if value is UNDEFINED:
        return 0
    return len(value) if isinstance(value, list) else 1


def _fn_sum(value):
    if value is UNDEFINED:
        return UNDEFINED
    items = value if isinstance(value, list) else [value]
    total = 0
    for item in items:
        if not is_number(item):
            raise ExpressionError("T0412", "Argument 1 of function sum must be an array of numbers")
        total += item
    return total


def _fn_exists(value):
    return value is not UNDEFINED


def _fn_boolean(value):
    return _boolean(value)


def _fn_not(value):
    if value is UNDEFINED:
        return UNDEFINED
    return not _boolean(value)


def _fn_abs(value):
    if value is UNDEFINED:
        return UNDEFINED
    return abs(value)


def _fn_floor(value):
    if value is UNDEFINED:
        return UNDEFINED
    return math.floor(value)


def _fn_ceil(value):
    if value is UNDEFINED:
        return UNDEFINED
    return math.ceil(value)


FUNCTIONS = {
    "string": _fn_string,
    "number": _fn_number,
    "boolean": _fn_boolean,
    "not": _fn_not,
    "exists": _fn_exists,
    "length": _fn_length,
    "uppercase": _fn_uppercase,
    "lowercase": _fn_lowercase,
    "trim": _fn_trim,
    "contains": _fn_contains,
    "substring": _fn_substring,
    "join": _fn_join,
    "count": _fn_count,
    "sum": _fn_sum,
    "abs": _fn_abs,
    "floor": _fn_floor,
    "ceil": _fn_ceil,
}


def _call(node, context, root):
    name = node["procedure"]["value"]
    function = FUNCTIONS.get(name)
    if function is None:
        raise ExpressionError("T1006", "Attempted to invoke a non-function: $" + name)
    args = [_eval(argument, context, root) for argument in node["arguments"]]
    return function(*args)
