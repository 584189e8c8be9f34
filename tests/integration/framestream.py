"""Frame Streams (the dnstap transport) as the tests need it: the data frames of a file, and a
writer that speaks the bidirectional handshake as BIND and Unbound do (READY, ACCEPT, START,
frames, STOP, FINISH). Written from the protocol description in fstrm's control.h. Also a
minimal dnstap message encoder (dnstap.proto) for writers of the tests' own."""
import socket
import struct
import time

CONTENT_TYPE = b"protobuf:dnstap.Dnstap"
ACCEPT, START, STOP, READY, FINISH = 1, 2, 3, 4, 5
FIELD_CONTENT_TYPE = 1


def control_frame(kind, content_type=None):
    body = struct.pack(">I", kind)
    if content_type is not None:
        body += struct.pack(">II", FIELD_CONTENT_TYPE, len(content_type)) + content_type
    return struct.pack(">II", 0, len(body)) + body


def data_frames(frames):
    """`frames` as data frames on the wire."""
    return b"".join(struct.pack(">I", len(f)) + f for f in frames)


def file_frames(path):
    """The data frames of a Frame Streams file, in order."""
    data = open(path, "rb").read()
    escape, clen = struct.unpack_from(">II", data, 0)
    assert escape == 0, f"{path}: no Frame Streams escape"
    pos, frames = 8 + clen, []
    while pos + 4 <= len(data):
        (n,) = struct.unpack_from(">I", data, pos)
        pos += 4
        if n == 0:  # a control frame: STOP
            break
        frames.append(data[pos:pos + n])
        pos += n
    return frames


def file_bytes(frames):
    """A Frame Streams file holding `frames`."""
    return control_frame(START, CONTENT_TYPE) + data_frames(frames) + control_frame(STOP)


def _read_exact(sock, n):
    buf = b""
    while len(buf) < n:
        chunk = sock.recv(n - len(buf))
        if not chunk:
            raise ConnectionError("connection closed during the handshake")
        buf += chunk
    return buf


def read_control(sock):
    """One control frame from `sock`: (kind, [content types])."""
    escape, n = struct.unpack(">II", _read_exact(sock, 8))
    assert escape == 0, "expected a control frame"
    body = _read_exact(sock, n)
    (kind,) = struct.unpack_from(">I", body)
    pos, types = 4, []
    while pos + 8 <= len(body):
        field, flen = struct.unpack_from(">II", body, pos)
        if field == FIELD_CONTENT_TYPE:
            types.append(body[pos + 8:pos + 8 + flen])
        pos += 8 + flen
    return kind, types


def handshake(sock, content_type=CONTENT_TYPE):
    """The writer's side: READY, then START once ACCEPTed. Returns the content types of the
    reader's ACCEPT, or None when it answered something else."""
    sock.sendall(control_frame(READY, content_type))
    kind, types = read_control(sock)
    if kind != ACCEPT:
        return None
    sock.sendall(control_frame(START, content_type))
    return types


class Writer:
    """A dnstap writer on a unix socket path or a (host, port)."""

    def __init__(self, address, content_type=CONTENT_TYPE, timeout=10):
        family = socket.AF_UNIX if isinstance(address, str) else socket.AF_INET
        self.sock = socket.socket(family, socket.SOCK_STREAM)
        self.sock.settimeout(timeout)
        self.sock.connect(address)
        self.accept_types = handshake(self.sock, content_type)
        self.accepted = self.accept_types is not None

    def send(self, frames):
        self.sock.sendall(data_frames(frames))

    def finish(self):
        """STOP, then wait for the reader's FINISH."""
        self.sock.sendall(control_frame(STOP))
        kind, _ = read_control(self.sock)
        self.sock.close()
        return kind == FINISH

    def close(self):
        self.sock.close()


def dns_query(qid, qname, qtype=1, rd=False):
    """A DNS query message (class IN)."""
    labels = b"".join(bytes([len(x)]) + x.encode() for x in qname.rstrip(".").split(".") if x)
    return struct.pack(">HHHHHH", qid, 0x0100 if rd else 0, 1, 0, 0, 0) + labels + b"\0" + \
        struct.pack(">HH", qtype, 1)


def _varint(n):
    out = bytearray()
    while True:
        b, n = n & 0x7F, n >> 7
        out.append(b | (0x80 if n else 0))
        if not n:
            return bytes(out)


def _field(num, value):
    """A protobuf field: bytes length-delimited, an int as a varint."""
    if isinstance(value, bytes):
        return _varint(num << 3 | 2) + _varint(len(value)) + value
    return _varint(num << 3) + _varint(value)


def dnstap_auth_query(identity, version, message, client, server):
    """A Dnstap frame: an AUTH_QUERY over UDP/IPv4 of `message`, now, from client to server, each
    an (address, port)."""
    when = time.time()
    msg = (_field(1, 1) + _field(2, 1) + _field(3, 1)  # AUTH_QUERY, INET, UDP
           + _field(4, socket.inet_aton(client[0])) + _field(5, socket.inet_aton(server[0]))
           + _field(6, client[1]) + _field(7, server[1]) + _field(8, int(when))
           + _varint(9 << 3 | 5) + struct.pack("<I", int(when % 1 * 1e9))  # fixed32 nsec
           + _field(10, message))
    return _field(1, identity) + _field(2, version) + _field(14, msg) + _field(15, 1)  # MESSAGE
