"""Crafted captures of RDATA layouts and UPDATE messages (issue 13, items 4 and 5).

A dynamic update (RFC 2136) and a NOTIFY (RFC 1996), each signed with TSIG (RFC 8945, a real
HMAC-SHA256 over the message), their signed responses and an update refused for an unknown key;
a TKEY negotiation (RFC 2930); responses carrying WKS, NXT and APL; RDATA that breaks those
layouts.  named 9.18.49 with this module's key applied the update, and its responses to the
update, the NOTIFY and the unknown key were byte for byte the ones built here (at its own time
signed).  The `data` texts expected are what dig 9.18.49 printed for the same records (runs of
spaces as one), the RFCs' examples where they have one.
"""
import base64
import hashlib
import hmac
import random
import struct

import crafted_captures as crafted
from crafted_captures import (ABSENT, AA, CLIENT4, IN, QUERY, RESPONSE, SERVER4, Capture, a,
                              txt, u16)

TYPES = {**crafted.TYPES, "SOA": 6, "WKS": 11, "NXT": 30, "APL": 42, "TKEY": 249, "TSIG": 250,
         "ANY": 255}
NONE, ANY = 254, 255  # RFC 2136 §2.4 and §2.5: the classes of prerequisites and deletions
UPDATE, NOTIFY, QR = 5 << 11, 4 << 11, 0x8000  # opcodes and the response bit of the flags
NOTAUTH, BADKEY, BADMODE = 9, 17, 19  # RFC 2136 §2.2, RFC 8945 §3, RFC 2930 §2.6
KEY_NAME, ALGORITHM = "update-key", "hmac-sha256"
KEY = base64.b64decode("c3Rhc2g1My10ZXN0LWtleS1ub3QtYS1zZWNyZXQhISE=")  # a test key, public
FUDGE = 300
TIME = int(crafted.T0)  # time signed: the capture's own clock


class Msg(crafted.Msg):
    """crafted_captures.Msg with this module's TYPES, and no name compression inside RDATA (RFC
    3597 §4; RFC 8945 §4.2 for the TSIG algorithm)."""
    TYPES = TYPES

    def compress_in_rdata(self, rtype):
        return False


def wire_name(name):
    return b"".join(bytes([len(l)]) + l.encode() for l in name.split(".") if l) + b"\0"


def sign(msg, request_mac=b"", error=0, key=KEY, key_name=KEY_NAME, time=TIME):
    """Appends msg's TSIG record (RFC 8945 §4.3): the MAC is HMAC-SHA256 over the request's MAC
    (for a response), the message as it is so far and the TSIG variables; no MAC without a key
    (§5.3.2). Returns the MAC."""
    signed_time = struct.pack("!HI", time >> 32, time & 0xFFFFFFFF)
    variables = (wire_name(key_name.lower()) + struct.pack("!HI", ANY, 0) + wire_name(ALGORITHM)
                 + signed_time + struct.pack("!HHH", FUDGE, error, 0))  # no other data
    prior = struct.pack("!H", len(request_mac)) + request_mac if request_mac else b""
    mac = hmac.new(key, prior + bytes(msg) + variables, hashlib.sha256).digest() if key else b""
    msg_id = struct.unpack_from("!H", msg.wire)[0]
    msg.rr(3, key_name, "TSIG", 0, wire_name(ALGORITHM), signed_time,
           struct.pack("!HH", FUDGE, len(mac)), mac, struct.pack("!HHH", msg_id, error, 0),
           rclass=ANY)
    return mac


def sized(data):
    """A length-prefixed base64 field of TSIG and TKEY as dig prints it: "0" alone when empty."""
    return f"{len(data)} {base64.b64encode(data).decode()}" if data else "0"


def tsig_text(mac, msg_id, error="NOERROR"):
    """A TSIG record's data (no other data) as dig prints it, without its trailing space."""
    return f"{ALGORITHM}. {TIME} {FUDGE} {sized(mac)} {msg_id} {error} 0"


def update(id, key=KEY, key_name=KEY_NAME):
    """An RFC 2136 update of example.org with the kinds of record nsupdate sends: `prereq
    yxdomain`, `prereq nxrrset`, two adds, and an RRset, a name and one RR deleted."""
    msg = Msg(id, UPDATE, "example.org", "SOA")  # the zone section (§2.3)
    msg.rr(1, "www.example.org", "ANY", 0, rclass=ANY)  # name is in use (§2.4.4)
    msg.rr(1, "new.example.org", "A", 0, rclass=NONE)  # RRset does not exist (§2.4.3)
    msg.rr(2, "new.example.org", "A", 300, a("198.51.100.20"))  # add (§2.5.1)
    msg.rr(2, "new.example.org", "TXT", 300, txt("added by stash53's test"))
    msg.rr(2, "old.example.org", "A", 0, rclass=ANY)  # delete an RRset (§2.5.2)
    msg.rr(2, "gone.example.org", "ANY", 0, rclass=ANY)  # delete all RRsets of a name (§2.5.3)
    msg.rr(2, "www.example.org", "TXT", 0, txt("v=old"), rclass=NONE)  # delete an RR (§2.5.4)
    return msg, sign(msg, key=key, key_name=key_name)


def updates():
    cap = Capture("update-tsig", "a signed dynamic update and its signed response; an update "
                  "signed with an unknown key, refused with an unsigned BADKEY")
    request, mac = update(0x1301)
    response = Msg(0x1301, QR | UPDATE, "example.org", "SOA")  # the zone section echoed
    response_mac = sign(response, request_mac=mac)
    cap.exchange(45001, request, response)
    # tshark 4.0 reads the records the same; these are the checks of the TSIG text itself.
    cap.expect({"opcode": "UPDATE", "qname": "example.org.", "qtype": "SOA",
                "additionals": [{"name": "update-key.", "type": "TSIG", "class": "ANY", "ttl": 0,
                                 "data": tsig_text(mac, 0x1301)}]}, id=0x1301, msg_type="query")
    # RFC 2136 §2.2's section names, classes NONE and ANY as on the wire (§2.4, §2.5).
    cap.expect({"zone": [{"name": "example.org.", "type": "SOA", "class": "IN"}],
                "questions": ABSENT, "answers": ABSENT, "authorities": ABSENT, "tsig": "update-key.",
                "prerequisites": [
                    {"name": "www.example.org.", "type": "ANY", "class": "ANY", "ttl": 0, "data": ""},
                    {"name": "new.example.org.", "type": "A", "class": "NONE", "ttl": 0, "data": ""}],
                "updates": [
                    {"name": "new.example.org.", "type": "A", "class": "IN", "ttl": 300, "data": "198.51.100.20"},
                    {"name": "new.example.org.", "type": "TXT", "class": "IN", "ttl": 300,
                     "data": '"added by stash53\'s test"'},
                    {"name": "old.example.org.", "type": "A", "class": "ANY", "ttl": 0, "data": ""},
                    {"name": "gone.example.org.", "type": "ANY", "class": "ANY", "ttl": 0, "data": ""},
                    {"name": "www.example.org.", "type": "TXT", "class": "NONE", "ttl": 0, "data": '"v=old"'}]},
               id=0x1301, msg_type="query")
    cap.expect({"opcode": "UPDATE", "rcode": "NOERROR", "prerequisites": [], "updates": [],
                "tsig": "update-key.", "additionals.0.data": tsig_text(response_mac, 0x1301)},
               id=0x1301, msg_type="response")
    # RFC 8945 §5.3.2: a key the server does not know: NOTAUTH, BADKEY, no MAC, not signed.
    unknown, mac = update(0x1302, key=b"another key", key_name="no-such-key")
    refused = Msg(0x1302, QR | UPDATE | NOTAUTH, "example.org", "SOA")
    sign(refused, error=BADKEY, key=None, key_name="no-such-key")
    cap.exchange(45002, unknown, refused)
    cap.expect({"tsig": "no-such-key.", "additionals.0.name": "no-such-key.",
                "additionals.0.data": tsig_text(mac, 0x1302)}, id=0x1302, msg_type="query")
    cap.expect({"rcode": "NOTAUTH", "additionals.0.data": tsig_text(b"", 0x1302, "BADKEY")},
               id=0x1302, msg_type="response")
    return cap


def notify():
    cap = Capture("notify-tsig", "a signed NOTIFY with the new SOA (RFC 1996 §3.7) and its "
                  "signed response")
    soa = (wire_name("ns1.example.org") + wire_name("hostmaster.example.org")
           + struct.pack("!5I", 2024010102, 7200, 3600, 1209600, 300))
    request = Msg(0x1303, NOTIFY | AA, "example.org", "SOA").rr(1, "example.org", "SOA", 3600, soa)
    mac = sign(request)
    response = Msg(0x1303, QR | NOTIFY | AA, "example.org", "SOA")
    response_mac = sign(response, request_mac=mac)
    # From the primary (SERVER4) to the secondary's port 53.
    cap.add(cap.udp(SERVER4, CLIENT4, 45003, 53, request),
            cap.udp(CLIENT4, SERVER4, 53, 45003, response))
    cap.expect({"opcode": "NOTIFY", "flags.aa": True, "answers.0.data":
                "ns1.example.org. hostmaster.example.org. 2024010102 7200 3600 1209600 300",
                "additionals.0.data": tsig_text(mac, 0x1303)}, id=0x1303, msg_type="query")
    cap.expect({"opcode": "NOTIFY", "additionals.0.data": tsig_text(response_mac, 0x1303)},
               id=0x1303, msg_type="response")
    return cap


def wks(address, protocol, ports):
    bitmap = bytearray(max(ports) // 8 + 1 if ports else 0)
    for p in ports:
        bitmap[p // 8] |= 0x80 >> p % 8
    return a(address) + bytes([protocol]) + bytes(bitmap)


def apl(*items):
    """APL items (family, prefix, negated, address bytes as sent: trailing zeros left off)."""
    return b"".join(struct.pack("!HBB", family, prefix, len(data) | negated << 7) + data
                    for family, prefix, negated, data in items)


def layouts():
    cap = Capture("rdata-layouts", "responses with WKS, NXT and APL records, a TKEY negotiation")
    rdata = {  # qname, qtype: [(record data, the data as dig prints it)]
        ("host.example.org", "WKS"): [
            (wks("198.51.100.25", 6, [21, 22, 25, 80]), "198.51.100.25 6 21 22 25 80"),
            (wks("198.51.100.25", 17, [53, 69]), "198.51.100.25 17 53 69"),
            (wks("198.51.100.26", 6, []), "198.51.100.26 6")],
        # RFC 2535 §5.4's "big.foo.tld. NXT medium.foo.tld. A MX SIG NXT", under example.org
        ("big.example.org", "NXT"): [
            (wire_name("medium.example.org") + bytes.fromhex("40010082"),
             "medium.example.org. A MX SIG NXT")],
        ("zz.example.org", "NXT"): [
            (wire_name("example.org") + bytes.fromhex("62000001000002000000000008000001"),
             "example.org. A NS SOA EID 54 UINFO 127")],
        # RFC 3123 §5's examples; the IPv6 prefix FF00:0:0:0:0:0:0:0 as inet_ntop prints it
        ("example.org", "APL"): [
            (apl((1, 21, 0, bytes([192, 168, 32])), (1, 28, 1, bytes([192, 168, 38]))),
             "1:192.168.32.0/21 !1:192.168.38.0/28"),
            (apl((1, 26, 0, bytes([192, 168, 42])), (1, 26, 0, bytes([192, 168, 42, 64])),
                 (1, 25, 0, bytes([192, 168, 42, 128]))),
             "1:192.168.42.0/26 1:192.168.42.64/26 1:192.168.42.128/25"),
            (apl((1, 32, 0, bytes([127, 0, 0, 1])), (1, 22, 0, bytes([172, 16, 64]))),
             "1:127.0.0.1/32 1:172.16.64.0/22"),
            (apl((1, 4, 0, bytes([224])), (2, 8, 0, bytes([255]))), "1:224.0.0.0/4 2:ff00::/8"),
            (apl(), "")],  # an empty list (RFC 3123 §4: zero or more items)
    }
    for port, ((qname, qtype), records) in enumerate(rdata.items(), 45010):
        id = 0x1310 + port - 45010
        response = Msg(id, RESPONSE | AA, qname, qtype)
        for data, _ in records:
            response.rr(1, qname, qtype, 3600, data)
        cap.exchange(port, Msg(id, QUERY, qname, qtype), response)
        cap.expect({"answers": [{"name": qname + ".", "type": qtype, "class": "IN", "ttl": 3600,
                                 "data": text} for _, text in records], "malformed": ABSENT},
                   id=id, msg_type="response")
    # RFC 2930 §4.1 (GSS-API, mode 3, as Windows clients negotiate GSS-TSIG): the query's TKEY
    # in the additional section, the server's answer in the answer section.
    rnd = random.Random(249)
    token, answer = rnd.randbytes(40), rnd.randbytes(24)
    key_name, expiration = "1690000000.sig-client.example.org", TIME + 86400

    def tkey(error=0, key=b""):
        return (wire_name("gss-tsig"), struct.pack("!IIHHH", TIME, expiration, 3, error, len(key)),
                key, struct.pack("!H", 0))

    def tkey_text(error, key=b""):  # times as numbers, as BIND prints them
        return f"gss-tsig. {TIME} {expiration} 3 {error} {sized(key)} 0"

    def tkey_msg(id, flags, section, data):
        return Msg(id, flags, key_name, "TKEY", ANY).rr(section, key_name, "TKEY", 0, *data,
                                                        rclass=ANY)
    cap.exchange(45020, tkey_msg(0x1320, 0, 3, tkey(key=token)),
                 tkey_msg(0x1320, QR, 1, tkey(key=answer)))
    cap.exchange(45021, tkey_msg(0x1321, 0, 3, tkey(key=token)),
                 tkey_msg(0x1321, QR, 1, tkey(error=BADMODE)))
    cap.expect({"qtype": "TKEY", "qclass": "ANY", "additionals": [{
        "name": key_name + ".", "type": "TKEY", "class": "ANY", "ttl": 0,
        "data": tkey_text("NOERROR", token)}]}, id=0x1320, msg_type="query")
    cap.expect({"answers.0.data": tkey_text("NOERROR", answer)}, id=0x1320, msg_type="response")
    cap.expect({"answers.0.data": tkey_text("BADMODE"), "malformed": ABSENT}, id=0x1321,
               msg_type="response")
    return cap


def bad():
    cap = Capture("rdata-bad", "WKS, NXT, APL, TKEY and TSIG records that break their layout, "
                  "each in its own response between valid ones")
    cases = [  # qtype, record data, whether tshark 4.0 flags it
        ("WKS", a("198.51.100.25"), True),  # no protocol
        ("NXT", wire_name("example.org") + b"\xc0", False),  # bit 0: the undefined extension
        ("APL", apl((1, 24, 0, bytes([198, 51, 100, 0]))), False),  # a trailing zero (§4)
        ("APL", apl((1, 33, 0, b"")), False),  # a prefix longer than IPv4's
        ("TKEY", wire_name("gss-tsig") + bytes(9), True),  # cut inside the expiration
        ("TSIG", wire_name("hmac-sha256") + bytes(8) + u16(32) + bytes(8), True),  # MAC cut
    ]
    cap.exchange(45030, crafted.query(0x1330, "example.org"), crafted.a_response(0x1330))
    for port, (qtype, data, flagged) in enumerate(cases, 45031):
        id = 0x1330 + port - 45030
        # A TSIG belongs at the end of the additional section (RFC 8945 §5.1), the rest answers.
        tsig = qtype == "TSIG"
        asked, where = ("A", "additionals") if tsig else (qtype, "answers")
        response = Msg(id, RESPONSE | AA, "example.org", asked).rr(
            3 if tsig else 1, "example.org", qtype, 0 if tsig else 300, data,
            rclass=ANY if tsig else IN)
        cap.exchange(port, Msg(id, QUERY, "example.org", asked), response)
        cap.expect({"malformed": "bad-rdata", f"{where}.0.data":
                    f"\\# {len(data)} {data.hex().upper()}"}, id=id, msg_type="response",
                   tshark_differs=None if flagged else
                   "tshark 4.0 shows this RDATA without flagging what BIND rejects")
    cap.exchange(45040, crafted.query(0x1340, "example.org"), crafted.a_response(0x1340))
    return cap


def rdata():
    """The Captures of this module (see crafted_captures.Capture)."""
    return [updates(), notify(), layouts(), bad()]
