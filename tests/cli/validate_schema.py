#!/usr/bin/python3
"""Validate saebench JSON files against a JSON Schema.

usage: validate_schema.py SCHEMA FILE...

Checks that SCHEMA is itself a valid schema, then validates each FILE and
prints 'ok FILE', or 'FAIL FILE' followed by the first errors, each with the
JSON path where it occurred. Exit 0 when every file is valid, 1 when any is
not, cannot be read, or the schema itself is invalid; 2 on a usage error.
Needs Debian's python3-jsonschema (run with /usr/bin/python3).
"""
import json
import sys

import jsonschema

MAX_ERRORS = 5


def json_path(path):
    out = "$"
    for part in path:
        out += "[%d]" % part if isinstance(part, int) else ".%s" % part
    return out


def load(path):
    with open(path, "rb") as f:
        return json.loads(f.read().decode("utf-8"), parse_constant=reject_constant)


def reject_constant(name):
    # Python's json accepts NaN/Infinity; JSON does not, and neither do we.
    raise ValueError("non-JSON constant %s" % name)


def main(argv):
    if len(argv) < 3:
        sys.stderr.write("usage: validate_schema.py SCHEMA FILE...\n")
        return 2
    try:
        schema = load(argv[1])
        cls = jsonschema.validators.validator_for(schema, default=jsonschema.Draft202012Validator)
        cls.check_schema(schema)
    except (OSError, ValueError) as e:
        sys.stderr.write("validate_schema: cannot load schema %s: %s\n" % (argv[1], e))
        return 1
    except jsonschema.exceptions.SchemaError as e:
        sys.stderr.write("validate_schema: %s is not a valid schema: %s at %s\n"
                         % (argv[1], e.message, json_path(e.absolute_path)))
        return 1
    validator = cls(schema)
    failed = 0
    for path in argv[2:]:
        try:
            doc = load(path)
        except (OSError, ValueError) as e:
            print("FAIL %s: cannot load: %s" % (path, e))
            failed += 1
            continue
        try:
            errors = sorted(validator.iter_errors(doc), key=lambda e: list(map(str, e.absolute_path)))
        except jsonschema.exceptions.RefResolutionError as e:
            sys.stderr.write("validate_schema: %s: unresolvable $ref: %s\n" % (argv[1], e))
            return 1
        if not errors:
            print("ok %s" % path)
            continue
        failed += 1
        print("FAIL %s" % path)
        for e in errors[:MAX_ERRORS]:
            print("  %s: %s" % (json_path(e.absolute_path), e.message))
            # if/then and oneOf failures hide the real cause one level down.
            for sub in sorted(e.context or [], key=lambda s: list(map(str, s.absolute_path)))[:3]:
                print("    %s: %s" % (json_path(sub.absolute_path), sub.message))
        if len(errors) > MAX_ERRORS:
            print("  ... and %d more" % (len(errors) - MAX_ERRORS))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
