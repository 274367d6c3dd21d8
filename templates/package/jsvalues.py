"""JavaScript's view of JSON values, so the exported runner prints exactly what the Tessera platform prints:
number formatting (Number#toString), JSON.stringify (key order, escapes, indent) and truthiness."""
import json
import math
import re
from decimal import Decimal


class Undefined:
    """JavaScript's `undefined`: what a missing path yields; distinct from JSON null (None)."""

    _instance = None

    def __new__(cls):
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self):
        return "undefined"

    def __bool__(self):
        return False


UNDEFINED = Undefined()

MAX_SAFE_INTEGER = 2 ** 53


def is_number(value):
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def parse_json(text):
    """JSON.parse: integers beyond 2**53 lose precision in JavaScript, so they become floats here too."""

    def parse_int(literal):
        number = int(literal)
        return number if abs(number) <= MAX_SAFE_INTEGER else float(literal)

    return json.loads(text, parse_int=parse_int)


def number_to_string(value):
    """Number.prototype.toString() for finite and non-finite numbers."""
    if isinstance(value, int):
        if abs(value) <= MAX_SAFE_INTEGER:
            return str(value)
        value = float(value)
    if value != value:
        return "NaN"
    if value in (math.inf, -math.inf):
        return "Infinity" if value > 0 else "-Infinity"
    if value == 0:
        return "0"
    sign = "-" if value < 0 else ""
    digits_tuple, exponent = _shortest_digits(abs(value))
    digits = "".join(str(d) for d in digits_tuple)
    k = len(digits)
    n = exponent + k
    if k <= n <= 21:
        text = digits + "0" * (n - k)
    elif 0 < n <= 21:
        text = digits[:n] + "." + digits[n:]
    elif -6 < n <= 0:
        text = "0." + "0" * (-n) + digits
    else:
        e = n - 1
        mantissa = digits if k == 1 else digits[0] + "." + digits[1:]
        text = mantissa + "e" + ("+" if e >= 0 else "-") + str(abs(e))
    return sign + text


def _shortest_digits(value):
    # repr() is the shortest string that round-trips, the same digits ECMAScript's Number::toString picks.
    sign, digits, exponent = Decimal(repr(value)).as_tuple()
    digits = list(digits)
    while len(digits) > 1 and digits[-1] == 0:
        digits.pop()
        exponent += 1
    return digits, exponent


_LONE_SURROGATE = re.compile("[\ud800-\udfff]")


def _string_literal(text):
    encoded = json.dumps(text, ensure_ascii=False)
    # JSON.stringify is well-formed: it escapes lone surrogates, which json.dumps would pass through raw.
    return _LONE_SURROGATE.sub(lambda m: "\\u%04x" % ord(m.group(0)), encoded)


_ARRAY_INDEX = re.compile(r"^(0|[1-9][0-9]*)$")


def js_key_order(keys):
    """Property order of a JavaScript object: array-index keys ascending first, then insertion order."""
    indexes = [k for k in keys if _ARRAY_INDEX.match(k) and int(k) < 2 ** 32 - 1]
    index_set = set(indexes)
    return sorted(indexes, key=int) + [k for k in keys if k not in index_set]


def to_json(value, indent=None, number=None, _level=0):
    """JSON.stringify(value, null, indent); returns UNDEFINED where JavaScript returns undefined.
    `number` optionally maps each number first (JSONata's $string rounds to 15 significant digits)."""
    if value is UNDEFINED or callable(value):
        return UNDEFINED
    if value is None:
        return "null"
    if value is True:
        return "true"
    if value is False:
        return "false"
    if is_number(value):
        if number is not None:
            value = number(value)
        if isinstance(value, float) and (value != value or value in (math.inf, -math.inf)):
            return "null"
        return number_to_string(value)
    if isinstance(value, str):
        return _string_literal(value)
    gap = " " * indent if indent else ""
    inner = "\n" + gap * (_level + 1) if gap else ""
    outer = "\n" + gap * _level if gap else ""
    if isinstance(value, (list, tuple)):
        if not value:
            return "[]"
        items = []
        for item in value:
            encoded = to_json(item, indent, number, _level + 1)
            items.append("null" if encoded is UNDEFINED else encoded)
        return "[" + inner + ("," + inner).join(items) + outer + "]"
    if isinstance(value, dict):
        members = []
        for key in js_key_order(list(value.keys())):
            encoded = to_json(value[key], indent, number, _level + 1)
            if encoded is UNDEFINED:
                continue
            members.append(_string_literal(key) + (": " if gap else ":") + encoded)
        if not members:
            return "{}"
        return "{" + inner + ("," + inner).join(members) + outer + "}"
    return _string_literal(str(value))


def to_display_string(value):
    """String(value) as Handlebars appends it under Tessera's rendering: objects and arrays as JSON."""
    if value is UNDEFINED or value is None:
        return ""
    if value is True:
        return "true"
    if value is False:
        return "false"
    if is_number(value):
        return number_to_string(value)
    if isinstance(value, str):
        return value
    encoded = to_json(value)
    return "" if encoded is UNDEFINED else encoded


def js_truthy(value):
    """Boolean(value) in JavaScript: empty arrays and objects are true."""
    if value is UNDEFINED or value is None or value is False:
        return False
    if is_number(value):
        return value == value and value != 0
    if isinstance(value, str):
        return value != ""
    return True


def js_strict_equal(a, b):
    """a === b for JSON values (objects compare by identity, as in JavaScript)."""
    if isinstance(a, bool) or isinstance(b, bool):
        return isinstance(a, bool) and isinstance(b, bool) and a == b
    if is_number(a) and is_number(b):
        return a == b
    if isinstance(a, str) and isinstance(b, str):
        return a == b
    return a is b


def js_deep_equal(a, b):
    if isinstance(a, (list, tuple)) and isinstance(b, (list, tuple)):
        return len(a) == len(b) and all(js_deep_equal(x, y) for x, y in zip(a, b))
    if isinstance(a, dict) and isinstance(b, dict):
        return set(a.keys()) == set(b.keys()) and all(js_deep_equal(a[k], b[k]) for k in a)
    if isinstance(a, (list, tuple, dict)) or isinstance(b, (list, tuple, dict)):
        return False
    return js_strict_equal(a, b)
