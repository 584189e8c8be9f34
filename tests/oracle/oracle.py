"""tshark oracle for stash53.

load_tsv() reads the shared *.oracle.tsv files, run_tshark() produces the same rows from a
capture at test time, and compare() checks stash53 events against such rows.  A row is one
DNS message as tshark sees it (two-pass, with IP and TCP reassembly); its cells are the
textual forms documented in /work/shared/pcaps/README.md.
"""
import base64
import difflib
import ipaddress
import json
import re
import subprocess
from datetime import datetime, timezone

# Exactly the options recorded on the last line of the shared oracle files.
TSHARK_OPTIONS = [
    "-T", "json", "--no-duplicate-keys",
    "-o", "ip.defragment:TRUE", "-o", "ipv6.defragment:TRUE",
    "-o", "tcp.desegment_tcp_streams:TRUE", "-o", "tcp.reassemble_out_of_order:TRUE",
    "-o", "tcp.analyze_sequence_numbers:TRUE", "-o", "tcp.check_checksum:FALSE",
    "-o", "udp.check_checksum:FALSE", "-o", "ip.check_checksum:FALSE",
]
DNS_LAYERS = ("dns", "mdns", "llmnr")  # stash53 listens on 53, 5353 and 5355
FLAG_BITS = (("aa", 0x400), ("tc", 0x200), ("rd", 0x100), ("ra", 0x80), ("z", 0x40),
             ("ad", 0x20), ("cd", 0x10))
# Section names differ for UPDATE messages (zone/prerequisite/update).
SECTIONS = {"answers": ("Answers", "Prerequisites"),
            "authority": ("Authoritative nameservers", "Updates"),
            "additional": ("Additional records",)}
COUNTS = {"qdcount": ("queries", "zones"), "ancount": ("answers", "prerequisites"),
          "nscount": ("auth_rr", "updates"), "arcount": ("add_rr",)}
OPCODES = {0: "QUERY", 1: "IQUERY", 2: "STATUS", 4: "NOTIFY", 5: "UPDATE", 6: "DSO"}
RCODES = {0: "NOERROR", 1: "FORMERR", 2: "SERVFAIL", 3: "NXDOMAIN", 4: "NOTIMP", 5: "REFUSED",
          6: "YXDOMAIN", 7: "YXRRSET", 8: "NXRRSET", 9: "NOTAUTH", 10: "NOTZONE",
          11: "DSOTYPENI", 16: "BADVERS", 17: "BADKEY", 18: "BADTIME", 19: "BADMODE",
          20: "BADNAME", 21: "BADALG", 22: "BADTRUNC", 23: "BADCOOKIE"}
# IANA mnemonics for the types an RRSIG covers or a type bitmap lists (tshark gives numbers).
TYPE_MNEMONICS = {1: "A", 2: "NS", 3: "MD", 4: "MF", 5: "CNAME", 6: "SOA", 7: "MB", 8: "MG",
                  9: "MR", 10: "NULL", 11: "WKS", 12: "PTR", 13: "HINFO", 14: "MINFO", 15: "MX",
                  16: "TXT", 17: "RP", 18: "AFSDB", 19: "X25", 20: "ISDN", 21: "RT", 22: "NSAP",
                  23: "NSAP-PTR", 24: "SIG", 25: "KEY", 26: "PX", 27: "GPOS", 28: "AAAA",
                  29: "LOC", 30: "NXT", 33: "SRV", 35: "NAPTR", 36: "KX", 37: "CERT", 38: "A6",
                  39: "DNAME", 41: "OPT", 42: "APL", 43: "DS", 44: "SSHFP", 45: "IPSECKEY",
                  46: "RRSIG", 47: "NSEC", 48: "DNSKEY", 49: "DHCID", 50: "NSEC3",
                  51: "NSEC3PARAM", 52: "TLSA", 53: "SMIMEA", 55: "HIP", 59: "CDS",
                  60: "CDNSKEY", 61: "OPENPGPKEY", 62: "CSYNC", 63: "ZONEMD", 64: "SVCB",
                  65: "HTTPS", 99: "SPF", 104: "NID", 105: "L32", 106: "L64", 107: "LP",
                  108: "EUI48", 109: "EUI64", 249: "TKEY", 250: "TSIG", 251: "IXFR", 252: "AXFR",
                  253: "MAILB", 254: "MAILA", 255: "ANY", 256: "URI", 257: "CAA", 32768: "TA",
                  32769: "DLV"}
# CERT types (RFC 4398 §2.1) and DNSSEC algorithms by the names BIND prints in CERT.
CERT_TYPES = {1: "PKIX", 2: "SPKI", 3: "PGP", 4: "IPKIX", 5: "ISPKI", 6: "IPGP", 7: "ACPKIX",
              8: "IACPKIX", 253: "URI", 254: "OID"}
SEC_ALGS = {1: "RSAMD5", 2: "DH", 3: "DSA", 4: "ECC", 5: "RSASHA1", 6: "NSEC3DSA",
            7: "NSEC3RSASHA1", 8: "RSASHA256", 10: "RSASHA512", 12: "ECCGOST",
            13: "ECDSAP256SHA256", 14: "ECDSAP384SHA384", 15: "ED25519", 16: "ED448",
            252: "INDIRECT", 253: "PRIVATEDNS", 254: "PRIVATEOID"}
# SvcParamKeys: RFC 9460 §14.3.2, RFC 9461 (dohpath), RFC 9540 (ohttp).
SVC_KEYS = ("mandatory", "alpn", "no-default-alpn", "port", "ipv4hint", "ech", "ipv6hint",
            "dohpath", "ohttp")
# Extended DNS Error codes, RFC 8914 §5.2.
EDE_NAMES = ("Other Error", "Unsupported DNSKEY Algorithm", "Unsupported DS Digest Type",
             "Stale Answer", "Forged Answer", "DNSSEC Indeterminate", "DNSSEC Bogus",
             "Signature Expired", "Signature Not Yet Valid", "DNSKEY Missing", "RRSIGs Missing",
             "No Zone Key Bit Set", "NSEC Missing", "Cached Error", "Not Ready", "Blocked",
             "Censored", "Filtered", "Prohibited", "Stale NXDomain Answer", "Not Authoritative",
             "Not Supported", "No Reachable Authority", "Network Error", "Invalid Data")
# EDNS option codes with their own event fields (RFC 7873, 5001, 7871, 8914, 7830, 7828).
EDNS_NSID, EDNS_ECS, EDNS_KEEPALIVE, EDNS_PADDING, EDNS_COOKIE, EDNS_EDE = 3, 8, 11, 12, 10, 15
ABSENT = "<absent>"  # an event field that must not be there
CLASSES = {1: "IN", 3: "CH", 4: "HS", 254: "NONE", 255: "ANY"}
EVENT_SECTIONS = {"answers": "answers", "authority": "authorities", "additional": "additionals"}
UPDATE_SECTIONS = {"answers": "prerequisites", "authorities": "updates"}
C_ESCAPES = {7: "\\a", 8: "\\b", 9: "\\t", 10: "\\n", 11: "\\v", 12: "\\f", 13: "\\r"}


# ---------------------------------------------------------------- rows from TSV or tshark

def load_tsv(path):
    """Rows of a shared oracle file; the first comment line names the columns."""
    rows, header = [], None
    with open(path, encoding="utf-8") as f:
        for line in f:
            line = line.rstrip("\n")
            if line.startswith("#"):
                header = header or line[1:].split("\t")
            elif line:
                rows.append(dict(zip(header, line.split("\t"))))
    return rows


def run_tshark(pcap):
    """Rows for `pcap`, computed now with the oracle's tshark command line."""
    out = subprocess.run(["tshark", "-n", "-2", "-r", str(pcap), *TSHARK_OPTIONS],
                         capture_output=True, check=True).stdout
    rows = []
    for packet in json.loads(out):
        rows += _frame_rows(packet["_source"]["layers"])
    return rows


def _as_list(v):
    return v if isinstance(v, list) else [v]


def _tsv_text(s):
    # The oracle files escape the characters that would break a TSV line.
    return s.replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")


def _frame_rows(layers):
    frame = layers["frame"]
    ctx, messages = {}, []

    def walk(tree):
        # Remember the innermost IP and transport layer seen before each DNS layer.
        for key, val in tree.items():
            if key in ("ip", "ipv6"):
                ctx["ip"] = (key, _as_list(val)[-1])
            elif key in ("udp", "tcp"):
                ctx["l4"] = (key, _as_list(val)[-1])
            elif key in ("icmp", "icmpv6"):
                ctx["icmp"] = True  # the DNS that follows is quoted in an ICMP error
                for v in _as_list(val):
                    walk(v)
            elif key in DNS_LAYERS:
                messages.extend((key, m, dict(ctx)) for m in _as_list(val))

    walk(layers)
    if not messages:
        # tshark lists "dns" in frame.protocols but gives no tree when even the header is cut.
        protos = frame["frame.protocols"].split(":")
        messages = [(p, {}, ctx) for p in DNS_LAYERS if p in protos][:1]
    return [_message_row(frame, layers, i, *m) for i, m in enumerate(messages)]


def _message_row(frame, layers, index, proto, msg, ctx):
    ip_key, ip = ctx["ip"]
    l4_key, l4 = ctx["l4"]
    row = {"frame": frame["frame.number"], "msg": str(index), "time": frame["frame.time_epoch"],
           "src": ip[ip_key + ".src"], "dst": ip[ip_key + ".dst"],
           "sport": l4[l4_key + ".srcport"], "dport": l4[l4_key + ".dstport"],
           "transport": l4_key, "proto": proto, "in_icmp": "1" if ctx.get("icmp") else "0",
           "malformed": "1" if "_ws.malformed" in layers else "0",
           "snap_short": "1" if "_ws.short" in layers else "0"}
    row["id"] = msg.get("dns.id", "-")
    flags = int(msg["dns.flags"], 16) if "dns.flags" in msg else None
    # Flags come from the raw header word: tshark's tree hides aa/ra for queries.
    row["qr"] = "-" if flags is None else str(flags >> 15)
    row["opcode"] = "-" if flags is None else str(flags >> 11 & 0xF)
    row["flags"] = "-" if flags is None else "".join(n for n, b in FLAG_BITS if flags & b) or "-"
    row["rcode"] = str(flags & 0xF) if flags is not None and flags >> 15 else "-"
    for col, names in COUNTS.items():
        row[col] = next((msg["dns.count." + n] for n in names if "dns.count." + n in msg), "-")
    row["qname"] = row["qtype"] = row["qclass"] = "-"
    questions = msg.get("Queries", msg.get("Zone"))
    if isinstance(questions, dict) and questions:
        key, q = next(iter(questions.items()))
        q = _as_list(q)[0]
        row["qname"], row["qtype"], row["qclass"] = (
            _tsv_text(q["dns.qry.name"]), _type_of(key, q["dns.qry.type"]), q["dns.qry.class"])
        # Every question, in order (tshark run at test time only; the oracle files have the first).
        row["questions"] = [(_tsv_text(q["dns.qry.name"]), _type_of(key, q["dns.qry.type"]), q["dns.qry.class"])
                            for key, qs in questions.items() for q in _as_list(qs)]
    opt = None
    for col, names in SECTIONS.items():
        records = []
        for name in names:
            section = msg.get(name)
            for key, recs in (section.items() if isinstance(section, dict) else ()):
                for rec in _as_list(recs):
                    if _as_list(rec.get("dns.resp.type", ""))[0] == "41":
                        opt = opt or rec
                    else:
                        records.append(_record_text(key, rec))
        row[col] = " | ".join(records) or "-"
    ext = int(opt["dns.resp.ext_rcode"], 16) if opt else 0
    row["rcode_ext"] = "-" if row["rcode"] == "-" else str(ext << 4 | int(row["rcode"]))
    row["edns_udp"] = opt["dns.rr.udp_payload_size"] if opt else "-"
    row["edns_version"] = opt["dns.resp.edns0_version"] if opt else "-"
    row["edns_do"] = opt["dns.resp.z_tree"]["dns.resp.z.do"] if opt else "-"
    row.update(_option_cells(_as_list(opt.get("dns.opt", [])) if opt else []))
    errors = [v for v in _leaves(msg) if _is_placeholder(v)]
    row["name_error"] = errors[0] if errors else "-"
    return row


def _option_cells(options):
    """The nsid_hex nsid_text ecs cookie edns_other cells of an OPT record's options."""
    cells = dict.fromkeys(("nsid_hex", "nsid_text", "ecs", "cookie", "edns_other"), "-")
    other = []
    for o in options:
        code, data = int(o["dns.opt.code"]), bytes.fromhex(_hex(o.get("dns.opt.data", "")))
        if code == EDNS_NSID and cells["nsid_hex"] == "-":
            cells["nsid_hex"] = data.hex() or "(empty)"
            cells["nsid_text"] = _tsv_text("".join(map(_tshark_char, data))) or "(empty)"
        elif code == EDNS_ECS and cells["ecs"] == "-":
            addr = o.get("dns.opt.client.addr4", o.get("dns.opt.client.addr6", ""))
            cells["ecs"] = "/".join((addr, o.get("dns.opt.client.netmask", ""),
                                     o.get("dns.opt.client.scope", "")))
        elif code == EDNS_COOKIE and cells["cookie"] == "-":
            server = _hex(o.get("dns.opt.cookie.server", ""))
            cells["cookie"] = f"{_hex(o['dns.opt.cookie.client'])}/{server or '-'}"
        else:
            other.append(f"{code}:{data.hex()}")
    cells["edns_other"] = ",".join(other) or "-"
    return cells


def _type_of(summary_key, type_field):
    # tshark's own mnemonic, from the tree label "NAME: type TYPE, class CLASS, ...". A very long
    # name cuts the label short ("<name> [truncated]..."): then the number is all there is.
    if ": type " in summary_key:
        return summary_key.split(": type ", 1)[1].split(", ")[0]
    return _type_name(int(type_field))


def _leaves(tree):
    for v in _as_list(tree):
        if isinstance(v, dict):
            for sub in v.values():
                yield from _leaves(sub)
        else:
            yield v


def _is_placeholder(value):
    # tshark replaces undecodable names by "<...>" texts; "<Root>" is the real root name.
    return value.startswith("<") and value.endswith(">") and value != "<Root>"


def _record_text(key, rec):
    fields = []

    def flatten(tree):
        for k, v in tree.items():
            if k.startswith("_ws."):
                continue  # expert info, not record data
            for x in _as_list(v):
                if isinstance(x, dict):
                    flatten(x)
                elif not (k.startswith("dns.resp.") or k.endswith(".length")):
                    fields.append(f"{k.removeprefix('dns.')}={_tsv_text(x)}")

    flatten(rec)
    return "/".join([_tsv_text(rec.get("dns.resp.name", "-")),
                     _type_of(key, _as_list(rec.get("dns.resp.type", "0"))[0]),
                     rec.get("dns.resp.ttl", "-"), ",".join(fields)])


# ---------------------------------------------------------------- presentation <-> tshark text

def _name_labels(name):
    """Labels (bytes) of a presentation-format name such as 'a\\.b.example.' ."""
    labels, cur, i = [], bytearray(), 0
    if name == ".":
        return labels
    while i < len(name):
        c = name[i]
        if c == "\\" and name[i + 1:i + 4].isdigit() and len(name[i + 1:i + 4]) == 3:
            cur.append(int(name[i + 1:i + 4]))
            i += 4
            continue
        if c == "\\":
            i += 1
            cur += name[i].encode()
        elif c == ".":
            labels.append(bytes(cur))
            cur = bytearray()
        else:
            cur += c.encode()
        i += 1
    if cur:
        labels.append(bytes(cur))
    return labels


def _tshark_char(b):
    """A byte as tshark prints it in names: control bytes C/octal-escaped, non-ASCII U+FFFD."""
    if 0x20 <= b < 0x7F:
        return chr(b)
    if b >= 0x80:
        return "\ufffd"
    return C_ESCAPES.get(b, f"\\{b:03o}")


def _tshark_name(name):
    """How tshark prints a name: no trailing dot, dots and backslashes inside labels bare,
    control bytes C/octal-escaped, other non-ASCII bytes as U+FFFD, the root as <Root>."""
    return ".".join("".join(map(_tshark_char, label)) for label in _name_labels(name)) or "<Root>"


def _tshark_string(data):
    """How tshark prints a character-string: cut at NUL, bytes >= 0x80 as U+FFFD."""
    data = data.split(b"\0", 1)[0]
    return _tsv_text("".join("\ufffd" if b >= 0x80 else chr(b) for b in data))


def _strings(text):
    """The character-strings of presentation text such as '"a b" "c\\"d" \\# 0'."""
    out, i = [], 0
    while i < len(text):
        if text[i] == " ":
            i += 1
            continue
        quoted = text[i] == '"'
        i += quoted
        cur = bytearray()
        while i < len(text) and (text[i] != '"' if quoted else text[i] != " "):
            if text[i] == "\\" and text[i + 1:i + 4].isdigit() and len(text[i + 1:i + 4]) == 3:
                cur.append(int(text[i + 1:i + 4]))
                i += 4
                continue
            i += text[i] == "\\"
            cur += text[i].encode()
            i += 1
        out.append(bytes(cur))
        i += quoted
    return out


def _parse_records(cell):
    """[(name, type, ttl, [(field, value), ...]), ...] from an answers/authority cell."""
    if cell == "-":
        return []
    records = []
    for text in re.split(r" \| (?=[^/]*/[^/]+/(?:\d+|-)/)", cell):
        name, rtype, ttl, fields = re.match(r"(.*?)/([^/]+)/(\d+|-)/(.*)$", text).groups()
        pairs = [tuple(f.split("=", 1)) for f in re.split(r",(?=[a-z][\w.]*=)", fields) if f]
        records.append((name, rtype, ttl, pairs))
    return records


def _event_type(tshark_type):
    # tshark says "Unknown (65280)" where the event says "TYPE65280" (or a name tshark lacks).
    m = re.fullmatch(r"Unknown \((\d+)\)", tshark_type)
    return _type_name(int(m.group(1))) if m else tshark_type


def _type_name(number):
    return TYPE_MNEMONICS.get(number, f"TYPE{number}")


def _hex(tshark_bytes):
    return tshark_bytes.replace(":", "").lower()


def _base64(tshark_bytes):
    return base64.b64encode(bytes.fromhex(_hex(tshark_bytes))).decode()


def _hex_upper(tshark_bytes):
    return _hex(tshark_bytes).upper()


def _quoted(data):
    """A <character-string> in quotes as dig prints it (RFC 1035 §5.1)."""
    def char(b):
        if b in b'"\\':
            return "\\" + chr(b)
        return chr(b) if 0x20 <= b < 0x7F else f"\\{b:03d}"
    return '"' + "".join(map(char, data)) + '"'


def _bitmap_types(tshark_bytes):
    """Type names of an RFC 4034 §4.1.2 type bit map given as tshark's raw bytes."""
    data, names = bytes.fromhex(_hex(tshark_bytes)), []
    while len(data) >= 2:
        window, n = data[0], data[1]
        names += [_type_name(window << 8 | i) for i in range(n * 8)
                  if data[2 + i // 8] & 0x80 >> i % 8]
        data = data[2 + n:]
    return names


def _loc_text(one):
    """RFC 1876 LOC from tshark's raw fields, in BIND's fixed form."""
    def angle(raw, plus, minus):
        v = abs(raw - 2 ** 31)
        return (f"{v // 3600000} {v // 60000 % 60} {v // 1000 % 60}.{v % 1000:03d} "
                f"{plus if raw >= 2 ** 31 else minus}")

    def precision(byte):
        cm = (byte >> 4) * 10 ** (byte & 15)
        return f"{cm // 100}m" if byte & 15 > 1 else f"0.{cm:02d}m"
    alt = int(one["loc.altitude"]) - 10000000
    return " ".join([angle(int(one["loc.latitude"]), "N", "S"),
                     angle(int(one["loc.longitude"]), "E", "W"),
                     f"{'-' if alt < 0 else ''}{abs(alt) // 100}.{abs(alt) % 100:02d}m"] +
                    [precision(int(one[k])) for k in ("loc.size", "loc.horizontal_precision",
                                                      "loc.vertical_precision")])


def _raw_layout(rtype, data):
    """Presentation of types tshark 4.0 shows only as raw bytes."""
    if rtype == "URI":  # RFC 7553 §4.5
        return f"{int.from_bytes(data[:2], 'big')} {int.from_bytes(data[2:4], 'big')} " + \
            _quoted(data[4:])
    if rtype == "SMIMEA":  # RFC 8162 §2: the TLSA layout
        return f"{data[0]} {data[1]} {data[2]} {data[3:].hex().upper()}"
    return None


def _ip_text(addr):
    """An address in RFC 5952 form, or as given when it is not one."""
    try:
        return str(ipaddress.ip_address(addr))
    except ValueError:
        return addr


def _svc_tokens(text):
    """Space-separated tokens of presentation text; quoted strings stay whole."""
    return re.findall(r'(?:[^\s"]|"(?:\\.|[^"\\])*")+', text)


def _value_list(data):
    """Items of an RFC 9460 Appendix A.1 value-list (already char-string decoded)."""
    items, cur, i = [], bytearray(), 0
    while i < len(data):
        if data[i] == ord("\\") and i + 1 < len(data):
            cur.append(data[i + 1])
            i += 2
            continue
        if data[i] == ord(","):
            items.append(bytes(cur))
            cur = bytearray()
        else:
            cur.append(data[i])
        i += 1
    return items + [bytes(cur)]


def _svc_params_tshark(fields):
    """[(key, value)] from tshark's svcb.* fields, values in a form comparable with events."""
    params = []
    for k, v in fields:
        if k == "svcb.svcparam.key":
            params.append([int(v), []])
        elif k.startswith("svcb.svcparam.") and params:
            params[-1][1].append((k.removeprefix("svcb.svcparam."), v))
    out = []
    for key, vals in params:
        values = [v for _, v in vals]
        if key == 0:
            out.append((key, [int(v) for v in values]))
        elif key == 1:
            out.append((key, values))
        elif key == 3:
            out.append((key, int(values[0])))
        elif key in (4, 6):
            out.append((key, [_ip_text(v) for v in values]))
        else:  # ech, dohpath, ohttp, unknown keys: the raw value
            out.append((key, _hex(values[0]) if values else ""))
    return out


def _svc_params_event(tokens):
    """The same from an event's SvcParams, decoding its presentation escapes."""
    out = []
    for token in tokens:
        name, _, value = token.partition("=")
        key = SVC_KEYS.index(name) if name in SVC_KEYS else int(name.removeprefix("key"))
        raw = _strings(value)[0] if value else b""
        if key == 0:
            out.append((key, [SVC_KEYS.index(k) if k in SVC_KEYS else int(k.removeprefix("key"))
                              for k in value.split(",")]))
        elif key == 1:
            out.append((key, [_tshark_string(item) for item in _value_list(raw)]))
        elif key == 3:
            out.append((key, int(value)))
        elif key in (4, 6):
            out.append((key, [_ip_text(a) for a in value.split(",")]))
        elif key == 5:
            out.append((key, base64.b64decode(value).hex()))
        else:
            out.append((key, raw.hex()))
    return out


def _rrsig_time(tshark_time):
    # "Jan  1, 2034 00:00:00.000000000 UTC" -> "20340101000000"
    month, day, year, hms = tshark_time.split()[:4]
    stamp = datetime.strptime(f"{month} {day.rstrip(',')} {year} {hms[:8]}", "%b %d %Y %H:%M:%S")
    return stamp.strftime("%Y%m%d%H%M%S")


def _expected_data(rtype, f, data):
    """(expected, actual) in a common form, or None when tshark's fields can't be compared."""
    one = dict(f)
    parts = data.split(" ")
    try:
        if not f:
            return None  # empty RDATA (e.g. an UPDATE delete); stash53 prints it its own way
        if rtype in ("A", "AAAA"):
            return one[rtype.lower()], data
        if rtype in ("NS", "CNAME", "PTR", "DNAME"):
            key = {"NS": "ns", "CNAME": "cname", "PTR": "ptr.domain_name", "DNAME": "dname"}[rtype]
            return one[key], _tshark_name(data)
        if rtype == "MX":
            return ([one["mx.preference"], one["mx.mail_exchange"]],
                    [parts[0], _tshark_name(parts[1])])
        if rtype == "SOA":
            keys = ("serial_number", "refresh_interval", "retry_interval", "expire_limit",
                    "minimum_ttl")
            return ([one["soa.mname"], one["soa.rname"]] + [one["soa." + k] for k in keys],
                    [_tshark_name(parts[0]), _tshark_name(parts[1])] + parts[2:])
        if rtype == "SRV":
            keys = ("priority", "weight", "port", "target")
            return [one["srv." + k] for k in keys], parts[:3] + [_tshark_name(parts[3])]
        if rtype in ("TXT", "SPF"):
            key = rtype.lower()
            return [v for k, v in f if k == key], [_tshark_string(s) for s in _strings(data)]
        if rtype == "CAA":
            flags, tag, value = data.split(" ", 2)
            expected = [int(one["caa.flags"], 16), one["caa.tag"]]
            actual = [int(flags), tag]
            if tag in ("issue", "issuewild", "iodef"):  # tshark says "Unknown" for other tags
                expected.append(one["caa.value"])
                actual.append(_tshark_string(_strings(value)[0]))
            return expected, actual
        # DNSSEC and key records: base64 may be split by spaces, hex is case-insensitive.
        if "dnskey.flags" in one:
            return ([str(int(one["dnskey.flags"], 16)), one["dnskey.protocol"],
                     one["dnskey.algorithm"], _base64(one["dnskey.public_key"])],
                    parts[:3] + ["".join(parts[3:])])
        if "rrsig.type_covered" in one:
            covered = int(one["rrsig.type_covered"])
            return ([TYPE_MNEMONICS.get(covered, f"TYPE{covered}"), one["rrsig.algorithm"],
                     one["rrsig.labels"], one["rrsig.original_ttl"],
                     _rrsig_time(one["rrsig.signature_expiration"]),
                     _rrsig_time(one["rrsig.signature_inception"]), one["rrsig.key_tag"],
                     one["rrsig.signers_name"], _base64(one["rrsig.signature"])],
                    parts[:7] + [_tshark_name(parts[7]), "".join(parts[8:])])
        if "ds.key_id" in one:
            return ([str(int(one["ds.key_id"], 16)), one["ds.algorithm"], one["ds.digest_type"],
                     _hex(one["ds.digest"])], parts[:3] + ["".join(parts[3:]).lower()])
        if rtype == "SSHFP":
            return (f"{one['sshfp.algorithm']} {one['sshfp.fingerprint.type']} "
                    f"{_hex_upper(one['sshfp.fingerprint'])}", data)
        if rtype == "TLSA":
            keys = ("certificate_usage", "selector", "matching_type")
            return (" ".join([one["tlsa." + k] for k in keys] +
                             [_hex_upper(one["tlsa.certificate_association_data"])]), data)
        if rtype in ("NSEC3", "NSEC3PARAM"):
            # tshark 4.0 shows no NSEC3 type bit map: compare the fields before it.
            expected = [one["nsec3.algo"], one["nsec3.flags"], one["nsec3.iterations"],
                        _hex_upper(one["nsec3.salt_value"]) or "-"]
            if rtype == "NSEC3":
                expected.append(one["nsec3.hash_value"].upper())
            return expected, parts[:len(expected)]
        if rtype == "CSYNC":
            return (" ".join([one["csync.soa"], str(int(one["csync.flags"], 16))] +
                             _bitmap_types(one["csync.type_bitmap"])), data)
        if rtype == "ZONEMD":
            keys = ("serial", "scheme", "hash_algo")
            return (" ".join([one["zonemd." + k] for k in keys] +
                             [_hex_upper(one["zonemd.digest"])]), data)
        if rtype == "LOC":
            if one["loc.version"] != "0":  # no text form: RFC 3597
                raw = _hex_upper(one["loc.unknown_data"])
                return f"\\# {len(raw) // 2} {raw}", data
            return _loc_text(one), data
        if rtype == "IPSECKEY":
            gateway = int(one["ipseckey.gateway_type"])
            if gateway > 3:
                return None  # tshark then misreads the key; stash53 prints RFC 3597
            gw = [".", one.get("ipseckey.gateway_ipv4"), one.get("ipseckey.gateway_ipv6"),
                  one.get("ipseckey.gateway_dns")][gateway]
            key = _base64(one.get("ipseckey.public_key", ""))
            expected = [one["ipseckey.gateway_precedence"], str(gateway),
                        one["ipseckey.gateway_algorithm"], gw] + ([key] if key else [])
            actual = parts[:3] + [_tshark_name(parts[3]) if gateway == 3 else parts[3]] + parts[4:]
            return expected, actual
        if rtype == "CERT":
            cert_type, alg = int(one["cert.type"]), int(one["cert.algorithm"])
            return (f"{CERT_TYPES.get(cert_type, cert_type)} {int(one['cert.key_tag'], 16)} "
                    f"{SEC_ALGS.get(alg, alg)} {_base64(one['cert.certificate'])}", data)
        if rtype == "DHCID":
            return _base64(one["dhcid.rdata"]), data
        if rtype in ("EUI48", "EUI64"):
            return one[rtype.lower()].replace(":", "-"), data
        if rtype in ("SVCB", "HTTPS"):
            tokens = _svc_tokens(data)
            return ([one["svcb.svcpriority"], one["svcb.targetname"], _svc_params_tshark(f)],
                    [tokens[0], _tshark_name(tokens[1]), _svc_params_event(tokens[2:])])
        if "data" in one and not data.startswith("\\# "):
            layout = _raw_layout(_event_type(rtype), bytes.fromhex(_hex(one["data"])))
            return (layout, data) if layout else None
        if "data" in one and data.startswith("\\# "):  # RFC 3597 vs tshark's raw bytes
            return _hex(one["data"]), "".join(parts[2:]).lower()
    except (KeyError, IndexError, ValueError, TypeError) as e:
        return f"tshark fields {f}", f"{data!r} ({e!r})"
    return None


# ---------------------------------------------------------------- comparison

def _timestamp(epoch):
    secs, frac = epoch.split(".")
    day = datetime.fromtimestamp(int(secs), timezone.utc).strftime("%Y-%m-%dT%H:%M:%S")
    return f"{day}.{frac[:6].ljust(6, '0')}Z"


def _frame_flagged(row):
    """tshark's frame-level flags: malformed, or cut by the snaplen."""
    return "1" in (row.get("malformed"), row.get("snap_short"))


def _key(item, is_row):
    # Identity used only to line events up with rows when one side has extra items.
    if is_row:
        return (_timestamp(item["time"]), item["sport"], item["dport"], item["id"])
    return (item.get("@timestamp"), str(item.get("s_port")), str(item.get("d_port")),
            "0x%04x" % item["id"] if "id" in item else "-")


def compare(events, rows):
    """Mismatches between stash53 events and oracle rows, both in capture order."""
    # A DNS message quoted inside an ICMP error was never sent as such; stash53 skips it.
    rows = [r for r in rows if r.get("in_icmp") != "1"]
    problems = []
    if len(events) != len(rows):
        problems.append(f"{len(events)} events but {len(rows)} DNS messages in the oracle")
    pairs = []
    matcher = difflib.SequenceMatcher(None, [_key(e, False) for e in events],
                                      [_key(r, True) for r in rows], autojunk=False)
    for _, e0, e1, r0, r1 in matcher.get_opcodes():
        pairs += zip(events[e0:e1], rows[r0:r1])
        problems += [f"extra event n={e.get('n')} {_key(e, False)}"
                     for e in events[e0 + (r1 - r0):e1]]
        problems += [f"frame {r['frame']} msg {r.get('msg', '0')}: no event"
                     for r in rows[r0 + (e1 - e0):r1]]
    per_frame = {}
    for ev, row in pairs:
        per_frame.setdefault(row["frame"], []).append((ev, row))
    for frame, group in per_frame.items():
        for ev, row in group:
            problems += [f"frame {frame} msg {row.get('msg', '0')} (event n={ev.get('n')}): {p}"
                         for p in _compare_message(ev, row, alone=len(group) == 1)]
        # With several messages in a flagged frame, tshark doesn't say which one is bad.
        if len(group) > 1 and _frame_flagged(group[0][1]) and not any(
                "malformed" in ev for ev, _ in group):
            problems.append(f"frame {frame}: tshark flags the frame malformed, no event is")
    return problems


def _compare_message(ev, row, alone):
    problems = []

    def want(field, expected, actual):
        if expected != actual:
            problems.append(f"{field}: tshark {expected!r}, stash53 {actual!r}")

    name_error = row.get("name_error", "-") != "-"
    faulty = name_error or _frame_flagged(row)
    want("@timestamp", _timestamp(row["time"]), ev.get("@timestamp"))
    want("s_addr", row["src"], ev.get("s_addr"))
    want("d_addr", row["dst"], ev.get("d_addr"))
    want("s_port", int(row["sport"]), ev.get("s_port"))
    want("d_port", int(row["dport"]), ev.get("d_port"))
    want("ipv6", ":" in row["src"], ev.get("ipv6"))
    want("transport", row["transport"], ev.get("transport"))
    if row.get("proto", "-") in DNS_LAYERS:
        want("proto", row["proto"], ev.get("proto"))
    if row["id"] != "-":  # the header was decoded ("-" flags then means none set)
        want("id", int(row["id"], 16), ev.get("id"))
        want("msg_type", "response" if row["qr"] == "1" else "query", ev.get("msg_type"))
        opcode = int(row["opcode"])
        want("opcode", OPCODES.get(opcode, f"RESERVED{opcode}"), ev.get("opcode"))
        set_flags = re.findall("aa|tc|rd|ra|ad|cd", row["flags"])
        if row.get("proto") == "llmnr":  # RFC 4795 §2.1.1: C, TC, T where DNS has AA, TC, RD
            want("flags", {"c": "aa" in set_flags, "tc": "tc" in set_flags, "t": "rd" in set_flags},
                 ev.get("flags"))
        else:
            want("flags", {f: f in set_flags for f in ("aa", "tc", "rd", "ra", "ad", "cd")},
                 ev.get("flags"))
        for col in COUNTS:  # a cut header has only some of them
            want(col, int(row[col]) if row[col] != "-" else None, ev.get(col))
    if row.get("rcode", "-") != "-":
        rcode = int(row["rcode_ext"] if row.get("rcode_ext", "-") != "-" else row["rcode"])
        want("rcode", RCODES.get(rcode, f"RESERVED{rcode}"), ev.get("rcode"))
        want("error", rcode != 0, ev.get("error"))
    if row["qname"] == "-" or _is_placeholder(row["qname"]):
        want("qname", None, ev.get("qname"))
    else:
        want("qname", row["qname"], _tshark_name(ev["qname"]) if "qname" in ev else None)
        want("qtype", _event_type(row["qtype"]), ev.get("qtype"))
        qclass = int(row["qclass"], 16)
        want("qclass", CLASSES.get(qclass, f"CLASS{qclass}"), ev.get("qclass"))
    if "questions" in row:
        got = ev.get("zone" if ev.get("opcode") == "UPDATE" else "questions") or []
        mask = 0x7FFF if ev.get("proto") == "mdns" else 0xFFFF  # mDNS: the QU bit is `qu`
        # A question tshark could not read (a placeholder name) ends the event's list there.
        asked = row["questions"]
        asked = asked[:next((i for i, q in enumerate(asked) if _is_placeholder(q[0])), len(asked))]
        classes = [int(c, 16) & mask for _, _, c in asked]
        want("questions", [(name, _event_type(t), CLASSES.get(c, f"CLASS{c}"))
                           for (name, t, _), c in zip(asked, classes)],
             [(_tshark_name(q["name"]), q["type"], q["class"]) for q in got])
    for col, ev_col in EVENT_SECTIONS.items():
        if ev.get("opcode") == "UPDATE":  # RFC 2136 §2.2
            ev_col = UPDATE_SECTIONS.get(ev_col, ev_col)
        expected = _parse_records(row[col])
        if ev.get("malformed") == "truncated-header" and not expected:
            continue  # no whole header: the event has no record arrays (field catalogue: `malformed`)
        problems += [f"{ev_col}{p}" for p in _compare_records(expected, ev.get(ev_col), faulty)]
    if row.get("edns_udp", "-") != "-":
        edns = ev.get("edns") or {}
        want("edns.udp_size", int(row["edns_udp"]), edns.get("udp_size"))
        want("edns.version", int(row["edns_version"]), edns.get("version"))
        want("edns.do", row["edns_do"] == "1", edns.get("do"))
        if row.get("rcode_ext", "-") != "-":
            want("edns.ext_rcode", int(row["rcode_ext"]) >> 4, edns.get("ext_rcode"))
        if "nsid_hex" in row:  # oracle files without option columns say nothing of them
            for field, expected in _expected_options(row).items():
                want("edns." + field, expected, edns.get(field, ABSENT))
    elif row["id"] != "-" and not faulty:
        want("edns", None, ev.get("edns"))
    if name_error or (alone and faulty):
        if "malformed" not in ev:
            problems.append("malformed: tshark flags it malformed, stash53 does not")
    elif not faulty:
        want("malformed", None, ev.get("malformed"))
    return problems


def _expected_options(row):
    """Event edns fields (or ABSENT) implied by a row's option cells (field catalogue: `edns`)."""
    want = dict.fromkeys(("nsid", "nsid_hex", "ecs", "cookie", "padding", "keepalive"), ABSENT)
    want["ede"], want["options"] = [], []
    if row["nsid_hex"] != "-":
        data = b"" if row["nsid_hex"] == "(empty)" else bytes.fromhex(row["nsid_hex"])
        want["nsid_hex"] = data.hex()
        if all(0x20 <= b < 0x7F for b in data):
            want["nsid"] = data.decode()
    if row["ecs"] != "-":
        addr, source, scope = row["ecs"].rsplit("/", 2)
        want["ecs"] = {"family": 2 if ":" in addr else 1, "source_prefix": int(source),
                       "scope_prefix": int(scope), "address": _ip_text(addr)}
    if row["cookie"] != "-":
        client, server = row["cookie"].split("/")
        want["cookie"] = {"client": client, **({"server": server} if server != "-" else {})}
    for item in re.split(r"[ ,|]+", row["edns_other"].strip()):
        if item == "-" or not item:
            continue
        code, data = item.split(":")
        code, data = int(code), bytes.fromhex(data)
        if code == EDNS_EDE:
            info = int.from_bytes(data[:2], "big")
            ede = {"code": info}
            if info < len(EDE_NAMES):
                ede["name"] = EDE_NAMES[info]
            if data[2:]:
                ede["text"] = "".join(chr(b) if 0x20 <= b < 0x7F and b != 0x5C else f"\\{b:03d}"
                                      for b in data[2:])
            want["ede"].append(ede)
        elif code == EDNS_PADDING:
            want["padding"] = len(data)
        elif code == EDNS_KEEPALIVE:
            want["keepalive"] = int.from_bytes(data, "big") if data else None
        else:
            want["options"].append({"code": code, "hex": data.hex()})
    # Lists are left out of the event when empty.
    return {k: v if v != [] else ABSENT for k, v in want.items()}


def _compare_records(expected, actual, faulty):
    if actual is None:
        return [": missing"]
    problems = []
    # A faulty message keeps only what was decoded before the fault; tshark may show more.
    if len(actual) != len(expected) and not (faulty and len(actual) < len(expected)):
        problems.append(f": tshark has {len(expected)} records, stash53 {len(actual)}")
    for i, ((name, rtype, ttl, fields), rec) in enumerate(zip(expected, actual)):
        f = dict(fields)
        if name == "-" and "srv.service" in f:  # tshark splits an SRV owner into three fields
            name = ".".join((f["srv.service"], f["srv.proto"], f["srv.name"]))
        got = (_tshark_name(rec.get("name", "")), rec.get("type"), str(rec.get("ttl")))
        if (name, _event_type(rtype), ttl if ttl != "-" else got[2]) != got:
            problems.append(f"[{i}]: tshark {(name, rtype, ttl)}, stash53 {got}")
        data = _expected_data(rtype, fields, rec.get("data", ""))
        if data and data[0] != data[1]:
            problems.append(f"[{i}] {rtype} data: tshark {data[0]!r}, stash53 {data[1]!r}"
                            f" ({rec.get('data')!r})")
    return problems


if __name__ == "__main__":
    # Self-test: run_tshark() must reproduce the shared oracle files' columns.
    import pathlib
    import sys
    bad = 0
    for tsv in sorted(pathlib.Path(sys.argv[1]).glob("*.oracle.tsv")):
        want_rows = load_tsv(tsv)
        got_rows = run_tshark(str(tsv).replace(".oracle.tsv", ".pcap"))
        if len(want_rows) != len(got_rows):
            print(f"{tsv.name}: {len(want_rows)} rows in the file, {len(got_rows)} from tshark")
            bad += 1
        for want_row, got_row in zip(want_rows, got_rows):
            for col, value in got_row.items():
                if want_row.get(col) != value:
                    print(f"{tsv.name} frame {want_row['frame']} {col}: file {want_row.get(col)!r}"
                          f", tshark {value!r}")
                    bad += 1
    sys.exit(1 if bad else 0)
