"""A model's tool arguments checked against the tool's `parameters` JSON Schema, as the platform's ajv does
(core/tool-schema.ts: allErrors, no formats), for the subset core/export-tool-schema.ts lets into a package:
type, properties, required, enum, items, minimum, maximum, minLength, maxLength, minItems, maxItems and
additionalProperties true/false (description, title, default, examples and format only annotate). The
problems read as ajv's (`/q must be string`), in ajv's order, so the model is told the same words."""
from .jsvalues import is_number, number_to_string

DEFAULT_PARAMETERS = {"type": "object", "properties": {}}

# ajv's order: keywords that apply to any type, then those of number, string, array and object values; a type
# with keywords of its own is checked in its group (after the first), any other type before everything.
_TYPE_GROUPS = {
    "number": ("maximum", "minimum"),
    "string": ("maxLength", "minLength"),
    "array": ("maxItems", "minItems", "items"),
    "object": ("required", "additionalProperties", "properties"),
}
_GROUP_ORDER = ("number", "string", "array", "object")


def argument_problems(parameters, args):
    """None when `args` fits the schema, else what is wrong, for the model to read (tool-schema.ts argumentProblems)."""
    errors = []
    _check(parameters if parameters is not None else DEFAULT_PARAMETERS, args, "", errors)
    if not errors:
        return None
    return "; ".join("%s %s" % (path or "(arguments)", message) for path, message in errors)


def _type_matches(kind, value):
    if kind == "string":
        return isinstance(value, str)
    if kind == "number":
        return is_number(value)
    if kind == "integer":
        return is_number(value) and (isinstance(value, int) or value.is_integer())
    if kind == "boolean":
        return isinstance(value, bool)
    if kind == "null":
        return value is None
    if kind == "object":
        return isinstance(value, dict)
    if kind == "array":
        return isinstance(value, list)
    return False


def _group_of(value):
    if is_number(value):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    if isinstance(value, dict):
        return "object"
    return None


def _uses_group(schema, group):
    return any(keyword in schema for keyword in _TYPE_GROUPS[group])


def _check(schema, value, path, errors):
    types = schema.get("type")
    types = [] if types is None else (types if isinstance(types, list) else [types])
    type_error = "must be " + ",".join(types)
    in_group = len(types) == 1 and types[0] in _TYPE_GROUPS and _uses_group(schema, types[0])
    if types and not in_group and not any(_type_matches(t, value) for t in types):
        errors.append((path, type_error))
    if "enum" in schema and not any(_json_equal(value, option) for option in schema["enum"]):
        errors.append((path, "must be equal to one of the allowed values"))
    group = _group_of(value)
    for name in _GROUP_ORDER:
        if not _uses_group(schema, name):
            continue
        if name == group:
            _check_group(name, schema, value, path, errors)
        elif in_group and types[0] == name:
            errors.append((path, type_error))


def _check_group(group, schema, value, path, errors):
    if group == "number":
        if "maximum" in schema and value > schema["maximum"]:
            errors.append((path, "must be <= " + number_to_string(schema["maximum"])))
        if "minimum" in schema and value < schema["minimum"]:
            errors.append((path, "must be >= " + number_to_string(schema["minimum"])))
    elif group == "string":
        if "maxLength" in schema and len(value) > schema["maxLength"]:
            errors.append((path, "must NOT have more than %s characters" % number_to_string(schema["maxLength"])))
        if "minLength" in schema and len(value) < schema["minLength"]:
            errors.append((path, "must NOT have fewer than %s characters" % number_to_string(schema["minLength"])))
    elif group == "array":
        if "maxItems" in schema and len(value) > schema["maxItems"]:
            errors.append((path, "must NOT have more than %s items" % number_to_string(schema["maxItems"])))
        if "minItems" in schema and len(value) < schema["minItems"]:
            errors.append((path, "must NOT have fewer than %s items" % number_to_string(schema["minItems"])))
        if isinstance(schema.get("items"), dict):
            for index, item in enumerate(value):
                _check(schema["items"], item, "%s/%d" % (path, index), errors)
    else:
        for name in schema.get("required") or []:
            if name not in value:
                errors.append((path, "must have required property '%s'" % name))
        properties = schema.get("properties") or {}
        if schema.get("additionalProperties") is False:
            for name in value:
                if name not in properties:
                    errors.append((path, "must NOT have additional properties"))
        for name, sub in properties.items():
            if name in value and isinstance(sub, dict):
                _check(sub, value[name], "%s/%s" % (path, _pointer_token(name)), errors)


def _pointer_token(name):
    return name.replace("~", "~0").replace("/", "~1")


def _json_equal(a, b):
    """fast-deep-equal on JSON values: true is not 1 here, as in JavaScript."""
    if isinstance(a, bool) or isinstance(b, bool):
        return isinstance(a, bool) and isinstance(b, bool) and a == b
    if is_number(a) and is_number(b):
        return a == b
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(_json_equal(x, y) for x, y in zip(a, b))
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_json_equal(a[k], b[k]) for k in a)
    return type(a) is type(b) and a == b
