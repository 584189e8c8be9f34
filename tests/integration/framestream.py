"""Frame Streams (the dnstap transport) as the tests need it: the data frames of a file, and a
writer that speaks the bidirectional handshake as BIND and Unbound do (READY, ACCEPT, START,
frames, STOP, FINISH). Written from the protocol description in fstrm's control.h."""
import socket
import struct

CONTENT_TYPE = b"protobuf:dnstap.Dnstap"
ACCEPT, START, STOP, READY, FINISH = 1, 2, 3, 4, 5
FIELD_CONTENT_TYPE = 1


def control_frame(kind, content_type=None):
    body = struct.pack(">I", kind)
    if content_type is not None:
        body += struct.pack(">II", FIELD_CONTENT_TYPE, len(content_type)) + content_type
    return struct.pack(">II", 0, len(body)) + body


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
    out = [control_frame(START, CONTENT_TYPE)]
    out += [struct.pack(">I", len(f)) + f for f in frames]
    out.append(control_frame(STOP))
    return b"".join(out)


def _read_exact(sock, n):
    buf = b""
    while len(buf) < n:
        chunk = sock.recv(n - len(buf))
        if not chunk:
            raise ConnectionError("connection closed during the handshake")
        buf += chunk
    return buf


def _read_control(sock):
    escape, n = struct.unpack(">II", _read_exact(sock, 8))
    assert escape == 0, "expected a control frame"
    (kind,) = struct.unpack(">I", _read_exact(sock, n)[:4])
    return kind


class Writer:
    """A dnstap writer on a unix socket path or a (host, port)."""

    def __init__(self, address, content_type=CONTENT_TYPE, timeout=10):
        family = socket.AF_UNIX if isinstance(address, str) else socket.AF_INET
        self.sock = socket.socket(family, socket.SOCK_STREAM)
        self.sock.settimeout(timeout)
        self.sock.connect(address)
        self.sock.sendall(control_frame(READY, content_type))
        self.accepted = _read_control(self.sock) == ACCEPT
        if self.accepted:
            self.sock.sendall(control_frame(START, content_type))

    def send(self, frames):
        self.sock.sendall(b"".join(struct.pack(">I", len(f)) + f for f in frames))

    def finish(self):
        """STOP, then wait for the reader's FINISH."""
        self.sock.sendall(control_frame(STOP))
        kind = _read_control(self.sock)
        self.sock.close()
        return kind == FINISH

    def close(self):
        self.sock.close()
