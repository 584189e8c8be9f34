#!/usr/bin/python3
"""Generate tests/data/ecs_fields.tsv: ECS field names and Elasticsearch types.

Source: the npm package @elastic/ecs, version 8.11.5 (license Apache-2.0,
upstream https://github.com/elastic/ecs-typescript, generated from
https://github.com/elastic/ecs). It carries ECS 8.11.0's own flat field
definitions -- ECS's generated ecs_flat.yml, turned into a TypeScript object
literal -- in package/generated/ecs_flat.ts (a compiled copy is in
package/build/commonjs/ecs_flat.js). Each entry there has ECS's own
`type:` (the Elasticsearch field type), so no type in the output is guessed
or derived: it is copied verbatim from that file. The ECS version is read
from `EcsVersion` in package/generated/index.ts.

What is listed: every entry of EcsFlat, i.e. every ECS field, including the
field sets ECS reuses in place (source.geo.*, destination.as.*,
observer.egress.interface.*, process.parent.*, ...) already expanded to full
dotted names, and the ECS fields of type object/nested (dns.answers,
email.attachments, labels, ...). Multi-fields (e.g. user_agent.original.text,
type match_only_text) are not separate ECS fields and are left out.
Nothing is added by hand: unlike the package's TypeScript interfaces (which
collapse e.g. dns.answers to Record<string, unknown>), EcsFlat lists
dns.answers (object) and dns.answers.{class,data,name,type} (keyword),
dns.answers.ttl (long) itself. The package's ecs_nested also describes a
beta `volume` field set that ECS 8.11.0's flat list does not carry; this
script follows the flat list, so volume.* is absent.

Regenerate:
    cd /tmp && npm pack @elastic/ecs@8.11.5 && tar xzf elastic-ecs-8.11.5.tgz
    /usr/bin/python3 tests/data/make_ecs_fields.py /tmp/package \\
        > tests/data/ecs_fields.tsv

Standard library only; the object literal is read by a small tokenizer for
the subset of JavaScript it uses (strings, numbers, true/false/null,
identifiers, objects, arrays, comments), no JavaScript is executed.
"""

import os
import re
import sys

PACKAGE = "@elastic/ecs"
PACKAGE_VERSION = "8.11.5"

_TOKEN = re.compile(
    r"""
      (?P<ws>\s+)
    | (?P<comment>//[^\n]*|/\*.*?\*/)
    | (?P<str>'(?:[^'\\\n]|\\.)*'|"(?:[^"\\\n]|\\.)*")
    | (?P<num>-?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?)
    | (?P<ident>[A-Za-z_$@][A-Za-z0-9_$]*)
    | (?P<punct>[{}\[\]:,])
    """,
    re.VERBOSE | re.DOTALL,
)

_ESC = {"n": "\n", "t": "\t", "r": "\r", "b": "\b", "f": "\f", "v": "\v",
        "0": "\0"}


def _unquote(s):
    body, out, i = s[1:-1], [], 0
    while i < len(body):
        c = body[i]
        if c != "\\":
            out.append(c)
            i += 1
            continue
        n = body[i + 1]
        if n == "u":
            out.append(chr(int(body[i + 2:i + 6], 16)))
            i += 6
        elif n == "x":
            out.append(chr(int(body[i + 2:i + 4], 16)))
            i += 4
        else:
            out.append(_ESC.get(n, n))
            i += 2
    return "".join(out)


def _tokens(text):
    pos = 0
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if not m:
            raise ValueError("cannot parse at offset %d: %r"
                             % (pos, text[pos:pos + 40]))
        pos = m.end()
        kind = m.lastgroup
        if kind in ("ws", "comment"):
            continue
        yield kind, m.group(kind)


class _Parser:
    def __init__(self, text):
        self.toks = list(_tokens(text))
        self.i = 0

    def _next(self):
        tok = self.toks[self.i]
        self.i += 1
        return tok

    def _expect(self, value):
        kind, v = self._next()
        if kind != "punct" or v != value:
            raise ValueError("expected %r, got %r" % (value, v))

    def value(self):
        kind, v = self._next()
        if kind == "str":
            return _unquote(v)
        if kind == "num":
            return float(v) if re.search(r"[.eE]", v) else int(v)
        if kind == "ident":
            consts = {"true": True, "false": False, "null": None}
            if v not in consts:
                raise ValueError("unexpected identifier %r" % v)
            return consts[v]
        if v == "[":
            out = []
            while self.toks[self.i] != ("punct", "]"):
                out.append(self.value())
                if self.toks[self.i] == ("punct", ","):
                    self.i += 1
            self.i += 1
            return out
        if v == "{":
            out = {}
            while self.toks[self.i] != ("punct", "}"):
                kkind, key = self._next()
                if kkind == "str":
                    key = _unquote(key)
                elif kkind not in ("ident", "num"):
                    raise ValueError("bad object key %r" % key)
                self._expect(":")
                if key in out:
                    raise ValueError("duplicate key %r" % key)
                out[key] = self.value()
                if self.toks[self.i] == ("punct", ","):
                    self.i += 1
            self.i += 1
            return out
        raise ValueError("unexpected token %r" % v)


def _object_after(text, pattern):
    """Parse the object literal that starts where regex `pattern` ends."""
    m = re.search(pattern, text)
    if not m:
        raise ValueError("%r not found" % pattern)
    start = m.end() - 1
    end = text.rindex("}") + 1
    parser = _Parser(text[start:end])
    obj = parser.value()
    if parser.i != len(parser.toks):
        raise ValueError("trailing tokens after object literal")
    return obj


def load_flat(pkg):
    ts = os.path.join(pkg, "generated", "ecs_flat.ts")
    js = os.path.join(pkg, "build", "commonjs", "ecs_flat.js")
    if os.path.exists(ts):
        with open(ts, encoding="utf-8") as f:
            return _object_after(f.read(), r"export const EcsFlat\s*=\s*\{"), \
                "generated/ecs_flat.ts"
    with open(js, encoding="utf-8") as f:
        return _object_after(f.read(), r"exports\.EcsFlat\s*=\s*\{"), \
            "build/commonjs/ecs_flat.js"


def load_version(pkg):
    for rel in (("generated", "index.ts"), ("build", "commonjs", "index.js")):
        path = os.path.join(pkg, *rel)
        if os.path.exists(path):
            with open(path, encoding="utf-8") as f:
                m = re.search(r"EcsVersion\s*=\s*['\"]([^'\"]+)['\"]",
                              f.read())
            if m:
                return m.group(1)
    raise SystemExit("ECS version (EcsVersion) not found in %s" % pkg)


def main(argv):
    if len(argv) != 2:
        sys.stderr.write("usage: %s UNPACKED_NPM_PACKAGE_DIR\n" % argv[0])
        return 2
    pkg = argv[1]
    with open(os.path.join(pkg, "package.json"), encoding="utf-8") as f:
        meta = _Parser(f.read()).value()
    if meta.get("name") != PACKAGE:
        raise SystemExit("%s is not %s (package.json says %r)"
                         % (pkg, PACKAGE, meta.get("name")))
    flat, rel = load_flat(pkg)
    version = load_version(pkg)

    rows = []
    for key, field in flat.items():
        name = field.get("flat_name", key)
        ftype = field.get("type")
        if name != key:
            raise SystemExit("key %r has flat_name %r" % (key, name))
        if not isinstance(ftype, str) or not ftype or re.search(r"\s", ftype):
            raise SystemExit("field %r has no usable type: %r" % (key, ftype))
        if re.search(r"\s", name):
            raise SystemExit("field name with whitespace: %r" % name)
        rows.append((name, ftype))
    rows.sort()

    out = sys.stdout
    out.write("# ECS %s fields from %s@%s %s; regenerate with "
              "tests/data/make_ecs_fields.py\n"
              % (version, PACKAGE, meta.get("version"), rel))
    for name, ftype in rows:
        out.write("%s\t%s\n" % (name, ftype))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
