"""What the integration tests share: failing with a message, and free loopback ports."""
import socket


class Failure(Exception):
    pass


def require(cond, msg):
    if not cond:
        raise Failure(msg)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]
