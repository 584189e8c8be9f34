#!/usr/bin/python3
"""The Logstash, Elasticsearch and Kibana files of deploy/ against what stash53 really writes.
None of the three can run here, so they are checked by structure: stash53 runs on the sample
capture, every shared one and the crafted ones (crafted_captures.py) in every mode and format,
as configured by default and with every optional field on (rrprint, server and ECS GeoIP), and
every field of every document must be in its format's index template with a type that takes
the value; for ecs, an ECS 8.11 field of ECS's own type (tests/data/ecs_fields.tsv) or one
under stash53.*. The templates must also cover the field catalogue (stash53 --list-fields).
Each Logstash pipeline must read its Redis list with the json codec and write to an index its
template matches; the Kibana saved objects must reference only fields of the ECS template that
can be aggregated, and only objects in the same file."""
import argparse
import datetime
import fnmatch
import glob
import ipaddress
import json
import os
import re
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import crafted_captures  # noqa: E402
from testlib import Failure, require  # noqa: E402

failures = []


def check(what, ok, detail=""):
    print(("ok   " if ok else "FAIL ") + what + ("" if ok else f"\n     {detail}"))
    if not ok:
        failures.append(what)
    return ok


SOURCE = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
DEPLOY = os.path.join(SOURCE, "deploy")
MODES = {"json": ["message", "transaction", "record"], "stash53": ["message"],
         "ecs": ["message", "transaction"]}
# What a JSON value of each kind may be mapped as.
STRING_TYPES = {"keyword", "constant_keyword", "wildcard", "text", "match_only_text", "ip", "date"}
INT_TYPES = {"long", "integer", "short", "byte", "unsigned_long"}
FLOAT_TYPES = {"float", "double", "half_float", "scaled_float"}
# Kibana can aggregate on these.
AGGREGATABLE = {"keyword", "constant_keyword", "ip", "date", "boolean", "geo_point"} | INT_TYPES | FLOAT_TYPES
RFC3339 = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,9})?(Z|[+-]\d\d:\d\d)")

p = argparse.ArgumentParser()
p.add_argument("--stash53", required=True)
p.add_argument("--workdir", required=True)
p.add_argument("--pcaps", default=os.path.join(SOURCE, "..", "shared", "pcaps"))
p.add_argument("--sample", default=os.path.join(SOURCE, "tests", "data", "sample.pcap"))
opts = p.parse_args()
os.makedirs(opts.workdir, exist_ok=True)
captures = [opts.sample] + sorted(glob.glob(os.path.join(opts.pcaps, "*.pcap")))
require(len(captures) > 1, f"no captures in {opts.pcaps}")
# And the crafted ones, for what the shared ones lack: EDNS options, mDNS, LLMNR, malformed.
captures += [str(c.path) for c in crafted_captures.build(os.path.join(opts.workdir, "crafted"))]
# And the servers' dnstap files, for the dnstap block.
dnstap_files = sorted(glob.glob(os.path.join(os.path.dirname(os.path.abspath(opts.pcaps)), "dnstap", "*", "*.dnstap")))
require(dnstap_files, "no dnstap files beside the shared pcaps")
captures += dnstap_files
# And dnsmasq's logs, for the dnsmasq, dhcp, log and alert fields.
dnsmasq_dir = os.path.join(os.path.dirname(os.path.abspath(opts.pcaps)), "dnsmasq")
dnsmasq_logs = [os.path.join(dnsmasq_dir, "dnsmasq.log")] + sorted(glob.glob(os.path.join(dnsmasq_dir, "syslog", "*")))
require(all(os.path.exists(f) for f in dnsmasq_logs) and len(dnsmasq_logs) == 4, f"dnsmasq logs in {dnsmasq_dir}")
captures += dnsmasq_logs


def load_json(path):
    with open(path) as f:
        return json.load(f)


def rfc3339(s):
    if not RFC3339.fullmatch(s):
        return False
    try:  # fromisoformat takes at most microseconds
        datetime.datetime.fromisoformat(re.sub(r"(\.\d{6})\d+", r"\1", s).replace("Z", "+00:00"))
        return True
    except ValueError:
        return False


# ---- the index templates ----
templates, patterns = {}, {}
for fmt in MODES:
    path = os.path.join(DEPLOY, "elasticsearch", f"stash53-{fmt}.template.json")
    t = load_json(path)
    mappings = t.get("template", {}).get("mappings", {})
    check(f"{fmt} template: a composable template body with index_patterns, dynamic mapping on",
          set(t) <= {"index_patterns", "template", "priority", "_meta", "version", "composed_of",
                     "data_stream", "allow_auto_create"}
          and isinstance(t.get("index_patterns"), list) and t["index_patterns"]
          and set(t["template"]) <= {"mappings", "settings", "aliases"}
          and mappings.get("dynamic", True) in (True, "true"), json.dumps(t)[:300])
    templates[fmt], patterns[fmt] = mappings.get("properties", {}), t.get("index_patterns", [])

    bad = []

    def walk_mapping(props, prefix):
        for name, m in props.items():
            full = prefix + name
            if name == "location" and m.get("type") != "geo_point":
                bad.append(f"{full}: a location is a geo_point, not {m.get('type', 'an object')}")
            # The Client Subnet address is hex for a family other than IPv4 and IPv6.
            if full.endswith("edns.ecs.address") and m.get("type") == "ip":
                bad.append(f"{full}: not always an address, so not an ip")
            if "properties" in m:
                if m.get("type", "object") != "object":  # "nested" would need nested queries
                    bad.append(f"{full}: object fields must be type object, not {m.get('type')}")
                walk_mapping(m["properties"], full + ".")
            elif "type" not in m:
                bad.append(f"{full}: neither type nor properties")
    walk_mapping(templates[fmt], "")
    check(f"{fmt} template: every mapping has a type or properties, objects are not nested, "
          "locations are geo_points, edns.ecs.address is no ip", not bad, "; ".join(bad))


def resolve(props, parts):
    """The mapping a document path lands on: (mapping, field name, what is left of the path)."""
    name = []
    for i, part in enumerate(parts):
        m = props.get(part)
        if m is None:
            return None, ".".join(name + [part]), parts[i + 1:]
        name.append(part)
        if "properties" not in m:
            return m, ".".join(name), parts[i + 1:]
        props = m["properties"]
    return {"type": "object"}, ".".join(name), []


def value_fits(m, rest, value):
    """Whether Elasticsearch takes `value` into mapping `m` (rest: the path below it)."""
    t = m.get("type")
    if rest:  # only a geo_point's lat and lon are below a field
        return t == "geo_point" and rest in (["lat"], ["lon"]) and isinstance(value, (int, float)) \
            and not isinstance(value, bool)
    if value is None:  # null: nothing indexed; the field only has to be mapped
        return True
    if isinstance(value, bool):
        return t == "boolean"
    if isinstance(value, (int, float)):
        if t == "date":
            return "epoch_" in m.get("format", "")
        return t in (INT_TYPES if isinstance(value, int) else set()) | FLOAT_TYPES
    if isinstance(value, str):
        if t == "ip":
            try:
                ipaddress.ip_address(value)
                return True
            except ValueError:
                return False
        if t == "date":
            if "epoch_" in m.get("format", ""):
                return re.fullmatch(r"\d+(\.\d+)?", value) is not None
            return rfc3339(value)
        return t in STRING_TYPES
    return False


def leaves(doc, prefix=()):
    """(path, value) of every value; dotted keys are paths, arrays give their members' paths."""
    if isinstance(doc, dict):
        if not doc and prefix:
            yield prefix, {}
        for k, v in doc.items():
            yield from leaves(v, prefix + tuple(k.split(".")))
    elif isinstance(doc, list):
        if not doc:
            yield prefix, []
        for v in doc:
            yield from leaves(v, prefix)
    else:
        yield prefix, doc


ecs_types = {}
with open(os.path.join(SOURCE, "tests", "data", "ecs_fields.tsv")) as f:
    for line in f:
        if line.strip() and not line.startswith("#"):
            name, typ = line.rstrip("\n").split("\t")
            ecs_types[name] = typ

# The fields stash53 documents but these captures may not show (MaxMind's country names, the
# LLMNR flags, EDNS options): the field catalogue for json, ECS itself for ecs.
r = subprocess.run([opts.stash53, "--list-fields"], capture_output=True, text=True, timeout=30)
catalogue = re.findall(r"^\| `([^`]+)` \| ([a-z ]+) \|", r.stdout, re.M)
fits = {"string": STRING_TYPES, "integer": INT_TYPES, "number": FLOAT_TYPES | {"geo_point"},
        "boolean": {"boolean"}, "list of strings": STRING_TYPES, "object": {"object"}, "array": {"object"}}
bad = []
for prefix in ("", "query.", "response."):
    for name, kind in catalogue:
        m, field, rest = resolve(templates["json"], (prefix + name).split("."))
        typ = m and ("geo_point" if m.get("type") == "geo_point" and rest else m.get("type", "object"))
        if m is None or typ not in fits.get(kind, set()) or (rest and typ != "geo_point"):
            bad.append(f"{prefix}{name} ({kind}): {json.dumps(m)}")
check(f"json template: the {len(catalogue)} fields of stash53 --list-fields, at the root and under "
      "query and response, each with a type that fits", len(catalogue) > 40 and not bad, "; ".join(bad))


def mapped_leaves(props, prefix=""):
    for name, m in props.items():
        if "properties" in m:
            yield from mapped_leaves(m["properties"], prefix + name + ".")
        else:
            yield prefix + name, m.get("type")


off = [f"{f} {t} (ECS: {ecs_types.get(f)})" for f, t in mapped_leaves(templates["ecs"])
       if not f.startswith("stash53.") and f != "@version" and ecs_types.get(f) != t]
check("ecs template: every field outside stash53.* (and Logstash's @version) is ECS's, with ECS's type",
      not off, "; ".join(off))

# ---- stash53's documents against them ----
full_cfg = os.path.join(opts.workdir, "all-fields.yml")
with open(full_cfg, "w") as f:  # every optional field on: zone-file lines, server and ECS GeoIP
    f.write("decode: {rrprint: true}\nenrich:\n  - {type: nsid}\n  - {type: tld}\n"
            "  - {type: public_suffix}\n  - {type: server_id}\n"
            "  - {type: geoip, server: true, use_ecs: true}\n  - {type: security}\n")
os.chmod(full_cfg, 0o644)
seen_geo = False
for fmt, modes in MODES.items():
    for mode in modes:
        problems, docs, paths = {}, 0, set()
        for cap in captures:
            for extra in ([], ["-c", full_cfg]):
                # From the source tree, where stash53 finds the GeoIP databases the build fetched.
                r = subprocess.run([opts.stash53, *extra, "-r", cap, "--format", fmt, "--mode", mode],
                                   capture_output=True, timeout=120, cwd=SOURCE)
                run = f"{os.path.basename(cap)} {' '.join(extra)}".strip()
                if r.returncode != 0:
                    problems[f"{run}: exit {r.returncode}"] = r.stderr.decode()[-500:]
                    continue
                for line in r.stdout.decode().splitlines():
                    try:
                        doc = json.loads(line)
                    except ValueError as e:
                        problems.setdefault(f"a document is not JSON ({e})",
                                            f"{line[max(e.pos - 80, 0):e.pos + 40]!r}, {run}")
                        continue
                    docs += 1
                    if fmt != "stash53":
                        ts = doc.get("@timestamp")
                        if not (isinstance(ts, str) and rfc3339(ts)):
                            problems.setdefault("@timestamp is not RFC 3339", f"{ts!r}, {run}")
                    for path, value in leaves(doc):
                        m, field, rest = resolve(templates[fmt], list(path))
                        dotted = ".".join(path)
                        paths.add(dotted)
                        seen_geo |= bool(m) and m.get("type") == "geo_point"
                        # One problem per path and kind, with its first value and capture.
                        where = f"{value!r}, {run}"
                        if m is None:
                            problems.setdefault(f"{dotted}: not in the template", where)
                        elif isinstance(value, (list, dict)):  # empty: only the path must exist
                            pass
                        elif not value_fits(m, rest, value):
                            problems.setdefault(f"{dotted}: does not fit {json.dumps(m)}", where)
                        elif fmt == "ecs" and not field.startswith("stash53."):
                            if field not in ecs_types:
                                problems.setdefault(f"{dotted}: neither an ECS field nor under stash53.",
                                                    where)
                            elif ecs_types[field] != m.get("type"):
                                problems.setdefault(f"{dotted}: mapped as {m.get('type')}, ECS has "
                                                    f"{ecs_types[field]}", where)
        detail = "\n     ".join(f"{k} (e.g. {v})" for k, v in list(problems.items())[:12])
        check(f"{fmt}/{mode}: {docs} documents from {len(captures)} captures, {len(paths)} field "
              "paths, each in the template with a type that takes its values", docs > 0 and not problems,
              detail or "no documents")
check("the documents carried GeoIP blocks, so the geo_point mappings were tried (the build's "
      "GeoIP databases were found)", seen_geo, "no geoip block: is build/geoip there?")


# ---- the Logstash pipelines ----
TOKEN = re.compile(r'\s+|#[^\n]*|"(?:\\.|[^"\\])*"|\'(?:\\.|[^\'\\])*\'|=>|[{}\[\],]|[^\s{}\[\],"\'#]+')


def tokenize(text):
    toks, pos = [], 0
    while pos < len(text):
        m = TOKEN.match(text, pos)
        require(m, f"cannot read at {text[pos:pos + 40]!r}")
        t, pos = m.group(), m.end()
        if t.strip() and not t.startswith("#"):
            toks.append(t)
    return toks


def parse_pipeline(text):
    """{section: [items]}; an item is ("plugin", name, {setting: value}) or ("if", cond, items,
    else-items). Values: str, list, dict."""
    toks, i = tokenize(text) + ["<end>"], 0

    def expect(t):
        nonlocal i
        require(toks[i] == t, f"expected {t!r}, found {toks[i]!r} (token {i})")
        i += 1

    def value():
        nonlocal i
        t = toks[i]
        i += 1
        if t == "[":
            out = []
            while toks[i] != "]":
                out.append(value())
                if toks[i] == ",":
                    i += 1
            i += 1
            return out
        if t == "{":
            out = {}
            while toks[i] != "}":
                k = value()
                expect("=>")
                out[k] = value()
                if toks[i] == ",":
                    i += 1
            i += 1
            return out
        require(t not in "{}[],=>" and t != "<end>", f"unexpected {t!r}")
        return t[1:-1] if t[0] in "\"'" else t

    def settings():
        out = {}
        while toks[i] != "}":
            k = value()
            expect("=>")
            out[k] = value()
        expect("}")
        return out

    def items():
        out = []
        while toks[i] != "}":
            if toks[i] == "if":
                out.append(conditional())
            else:
                name = value()
                expect("{")
                out.append(("plugin", name, settings()))
        expect("}")
        return out

    def conditional():  # at "if": the condition, its items, and its else or else-if chain
        nonlocal i
        i += 1
        cond = []
        while toks[i] != "{":
            require(toks[i] != "<end>", "unterminated condition")
            cond.append(toks[i])
            i += 1
        expect("{")
        branch = ["if", " ".join(cond), items(), []]
        if toks[i] == "else":
            i += 1
            if toks[i] == "if":
                branch[3] = [conditional()]
            else:
                expect("{")
                branch[3] = items()
        return branch

    sections = {}
    while toks[i] != "<end>":
        name = value()
        require(name in ("input", "filter", "output"), f"unknown section {name!r}")
        expect("{")
        sections.setdefault(name, []).extend(items())
    return sections


def plugins(its, name):
    """Every plugin `name` in these items, in every branch."""
    for it in its:
        if it[0] == "plugin":
            if it[1] == name:
                yield it[2]
        else:
            yield from plugins(it[2], name)
            yield from plugins(it[3], name)


ecs_index = ""  # what the ecs pipeline writes, for the Kibana data view
for fmt in MODES:
    path = os.path.join(DEPLOY, "logstash", f"stash53-{fmt}.conf")
    text = open(path).read()
    try:
        pipe = parse_pipeline(text)
    except Failure as e:
        check(f"logstash {fmt}: the pipeline parses", False, str(e))
        continue
    redis = list(plugins(pipe.get("input", []), "redis"))
    r = redis[0] if len(redis) == 1 else {}
    check(f"logstash {fmt}: one redis input, data_type list, codec json, key dns:{fmt}",
          r.get("data_type") == "list" and r.get("codec") == "json" and r.get("key") == f"dns:{fmt}"
          and "host" in r, json.dumps(redis))
    es = list(plugins(pipe.get("output", []), "elasticsearch"))
    check(f"logstash {fmt}: an elasticsearch output with hosts and index",
          len(es) == 1 and "hosts" in es[0] and "index" in es[0], json.dumps(es))
    dates = list(plugins(pipe.get("filter", []), "date"))
    if fmt == "stash53":
        check("logstash stash53: the date filter reads timestamp as UNIX seconds",
              any(d.get("match") == ["timestamp", "UNIX"] for d in dates), json.dumps(dates))
    else:  # the json codec adopts @timestamp; a date filter on it would be a second parse
        check(f"logstash {fmt}: no date filter (the json codec adopts @timestamp)", not dates,
              json.dumps(dates))
    # The index names the output writes: its sprintf references filled in.
    modes_meta = sorted({v for m in plugins(pipe.get("filter", []), "mutate")
                         for k, v in m.get("add_field", {}).items() if k == "[@metadata][mode]"})
    names = []
    if es and "index" in es[0]:
        index = es[0]["index"].replace("%{+YYYY.MM.dd}", "2023.07.22")
        names = [index.replace("%{[@metadata][mode]}", m) for m in modes_meta] \
            if "%{[@metadata][mode]}" in index else [index]
    check(f"logstash {fmt}: every index it writes ({', '.join(names)}) matches the template's "
          f"index_patterns {patterns[fmt]}",
          names and all("%{" not in n and any(fnmatch.fnmatchcase(n, p) for p in patterns[fmt])
                        for n in names), names)
    if fmt == "json":
        check("logstash json: one index per mode", modes_meta == sorted(MODES["json"]), modes_meta)
        # Record mode's flat lat and lon must reach Elasticsearch as one geo_point object.
        geo = [f for f, m in templates["json"].items()
               if m.get("properties", {}).get("location", {}).get("type") == "geo_point"]
        renames = {k: v for m in plugins(pipe.get("filter", []), "mutate")
                   for k, v in m.get("rename", {}).items()}
        missing = [f"{g}.location.{c}" for g in geo for c in ("lat", "lon")
                   if renames.get(f"{g}.location.{c}") != f"[{g}][location][{c}]"]
        check("logstash json: record mode's flat geo_point halves are joined", geo and not missing,
              f"not renamed: {missing}")
    if fmt == "ecs":
        ecs_index = names[0] if names else ""
    # The emitter example in the header: valid for stash53, and feeding this very pipeline.
    snippets = re.findall(r"^#\s+(- \{type: redis.*\})\s*$", text, re.M)
    cfg = os.path.join(opts.workdir, f"emitters-{fmt}.yml")
    with open(cfg, "w") as f:
        f.write("emitters:\n" + "".join(f"  {s}\n" for s in snippets))
    os.chmod(cfg, 0o644)
    res = subprocess.run([opts.stash53, "-c", cfg, "--check-config"], capture_output=True, timeout=30)
    check(f"logstash {fmt}: the emitter example in its header is a valid stash53 config for key "
          f"dns:{fmt}, format {fmt}",
          snippets and res.returncode == 0
          and all(f'key: "dns:{fmt}"' in s and f"format: {fmt}," in s for s in snippets),
          f"{snippets}: exit {res.returncode} {res.stderr.decode().strip()}")

# ---- the Kibana saved objects ----
path = os.path.join(DEPLOY, "kibana", "stash53-dns-overview.ndjson")
objects = [json.loads(line) for line in open(path) if line.strip()]
ids = {(o.get("type"), o.get("id")) for o in objects}
check("kibana: every line is a saved object with id, type, attributes and references, ids unique",
      all({"id", "type", "attributes", "references"} <= set(o) for o in objects)
      and len(ids) == len(objects), [o.get("id") for o in objects])
dangling = [(o["id"], r) for o in objects for r in o.get("references", [])
            if (r.get("type"), r.get("id")) not in ids]
check("kibana: every reference resolves within the file", not dangling, dangling)


def unpack(v):
    """The attributes with their JSON-in-a-string values (visState, layerListJSON, ...) parsed."""
    if isinstance(v, dict):
        return {k: unpack(x) for k, x in v.items()}
    if isinstance(v, list):
        return [unpack(x) for x in v]
    if isinstance(v, str) and v[:1] in "{[":
        try:
            return unpack(json.loads(v))
        except ValueError:
            return v
    return v


def kql_fields(q):
    q = re.sub(r'"(?:\\.|[^"\\])*"', '""', q)  # no field names inside quoted values
    return re.findall(r"([@A-Za-z_][\w.@]*)\s*:", q)


def references(v, out):
    """Field names (key, name) anywhere in v, and *RefName values."""
    if isinstance(v, dict):
        for k, x in v.items():
            if k in ("field", "geoField", "timeFieldName", "fieldName", "term", "sourceField") \
                    and isinstance(x, str):
                out["fields"].append((k, x))
            elif k == "tooltipProperties" and isinstance(x, list):
                out["fields"] += [(k, f) for f in x]
            elif k.endswith("RefName") and isinstance(x, str):
                out["refnames"].append(x)
            elif k == "query" and isinstance(x, dict) and x.get("language") == "kuery":
                out["fields"] += [("kql", f) for f in kql_fields(x.get("query", ""))]
                out["kql"].append(x.get("query", ""))
            references(x, out)
    elif isinstance(v, list):
        for x in v:
            references(x, out)


all_fields, kql, unknown_refs = [], [], []
for o in objects:
    found = {"fields": [], "refnames": [], "kql": []}
    references(unpack(o["attributes"]), found)
    all_fields += [(o["id"], k, f) for k, f in found["fields"]]
    kql += found["kql"]
    names = {r.get("name") for r in o.get("references", [])}
    unknown_refs += [(o["id"], n) for n in found["refnames"] if n not in names]
check("kibana: every *RefName names a reference of its object", not unknown_refs, unknown_refs)
bad = []
for oid, kind, field in all_fields:
    m, name, rest = resolve(templates["ecs"], field.split("."))
    if m is None or rest or name != field:
        bad.append(f"{oid}: {field} is not in the ECS template")
    elif m.get("type") not in AGGREGATABLE:
        bad.append(f"{oid}: {field} is {m.get('type')}, not aggregatable")
check(f"kibana: the {len(all_fields)} field references are aggregatable fields of the ECS template",
      all_fields and not bad, "; ".join(bad))
views = [o for o in objects if o["type"] == "index-pattern"]
check("kibana: the data view reads the ecs pipeline's index by @timestamp",
      len(views) == 1 and views[0]["attributes"].get("timeFieldName") == "@timestamp"
      and fnmatch.fnmatchcase(ecs_index, views[0]["attributes"].get("title", "")),
      f"{[v['attributes'] for v in views]} vs index {ecs_index}")
dash = [o for o in objects
        if o["type"] == "dashboard" and o["attributes"].get("title") == "stash53 DNS overview"]
panel_ids = {(r["type"], r["id"]) for d in dash for r in d["references"]}
used = {f for oid, k, f in all_fields if any(oid == i for _, i in panel_ids)}
want = {"@timestamp", "dns.response_code", "client.ip", "dns.question.registered_domain",
        "event.kind", "threat.technique.id", "stash53.security_reasons", "client.geo.location"}
check("kibana: dashboard 'stash53 DNS overview' with the rate, rcode, client, domain, security "
      "and map panels", len(dash) == 1 and want <= used and any(t == "map" for t, _ in panel_ids)
      and any("alert" in q for q in kql), f"missing {sorted(want - used)}")

sys.exit(1 if failures else 0)
