"""Where a webhook may be sent, and the one way it is sent (issue 16, item 2: SSRF).

An admin chooses the URL, but the request leaves from inside the network Kontor runs in: a URL naming
127.0.0.1:5432, the cloud metadata address 169.254.169.254 or a 10.x host would make the worker a probe of that
network. So, at registration and again at every delivery:

- http or https only, and no user name or password in the URL;
- the host, however it is spelled (``127.1``, ``2130706433``, ``0x7f000001``, ``0177.0.0.1``, ``[::ffff:127.0.0.1]``,
  ``localhost``), and every address its name resolves to, must be public: not private, loopback, link-local,
  multicast, unspecified, reserved or shared (100.64/10); an IPv6 address carrying an IPv4 one (mapped, NAT64,
  6to4, Teredo) is judged by that IPv4 address too;
- unless ``KONTOR_WEBHOOK_ALLOW`` lists the host name or a network holding the address: a receiver inside the
  network on purpose. The unspecified and multicast addresses are never allowed (they are not a receiver).

At delivery the name is resolved once, every address is checked, and the socket connects to a checked address:
no second lookup that a DNS server could answer differently (rebinding). TLS still verifies the certificate
against the name (SNI and hostname check). One deadline covers the whole delivery: lookup, connect, TLS, sending
and every read of the answer, so a receiver that drips a byte at a time cannot hold the worker.

A refused target is refused before any packet is sent, with a message that names the host only: the delivery log
cannot tell an open internal port from a closed one.
"""
from __future__ import annotations

import http.client
import io
import ipaddress
import re
import select
import socket
import ssl
import threading
import time
from dataclasses import dataclass
from urllib.parse import urlsplit

Address = ipaddress.IPv4Address | ipaddress.IPv6Address
NAT64 = ipaddress.ip_network("64:ff9b::/96")
LOCAL_NAMES = {"localhost", "localhost.localdomain", "ip6-localhost", "ip6-loopback"}
NAME = re.compile(r"[a-z0-9_]([a-z0-9_-]*[a-z0-9_])?(\.[a-z0-9_]([a-z0-9_-]*[a-z0-9_])?)*")
REGISTRATION_LOOKUP = 3.0   # seconds a registration waits for DNS; a name that does not resolve is judged at delivery
DEFAULT_TIMEOUT = 10.0      # seconds for a whole delivery
MAX_TIMEOUT = 120.0


class Refused(Exception):
    """The URL may not be sent to. The message is meant for the admin and the delivery log."""


@dataclass(frozen=True)
class Settings:
    allow_names: frozenset[str]
    allow_networks: tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]
    timeout: float

    def allows_name(self, host: str) -> bool:
        return host in self.allow_names

    def allows_address(self, ip: Address) -> bool:
        return any(ip.version == net.version and ip in net for net in self.allow_networks)


def settings(config) -> Settings:
    """``KONTOR_WEBHOOK_ALLOW`` (comma-separated host names, addresses or networks such as ``10.1.2.0/24``) and
    ``KONTOR_WEBHOOK_TIMEOUT`` (seconds for a whole delivery) from the app config; a bad value is a ValueError
    naming the setting (raised at start-up, see ``addons.webhooks.register``)."""
    raw = config.get("WEBHOOK_ALLOW") or ""
    entries = [e.strip().lower() for e in (raw.split(",") if isinstance(raw, str) else raw)]
    names, networks = set(), []
    for entry in filter(None, entries):
        address = host_address(entry)
        try:
            networks.append(ipaddress.ip_network(address if address is not None else entry, strict=False))
            continue
        except ValueError:
            pass
        name = entry[:-1] if entry.endswith(".") else entry
        if "/" in entry or not NAME.fullmatch(name):
            raise ValueError(f"KONTOR_WEBHOOK_ALLOW: {entry!r} is neither a host name, an address nor a network "
                             "such as 10.1.2.0/24.")
        names.add(name)
    try:
        timeout = float(config.get("WEBHOOK_TIMEOUT") or DEFAULT_TIMEOUT)
    except (TypeError, ValueError):
        timeout = -1.0
    if not 0 < timeout <= MAX_TIMEOUT:
        raise ValueError(f"KONTOR_WEBHOOK_TIMEOUT: {config.get('WEBHOOK_TIMEOUT')!r} is not a number of seconds "
                         f"above 0 and at most {MAX_TIMEOUT:g}.")
    return Settings(frozenset(names), tuple(networks), timeout)


# -- what an address is ----------------------------------------------------------------------------------------------
def host_address(host: str) -> Address | None:
    """The address a numeric host stands for, read as the C resolver reads it (``inet_aton``: ``127.1``,
    ``2130706433``, ``0x7f000001``, ``0177.0.0.1``), or None for a name. A trailing dot is dropped, as browsers
    and some resolvers do."""
    host = host.lower()
    host = host[:-1] if host.endswith(".") else host
    if ":" in host:
        try:
            return ipaddress.IPv6Address(host.split("%", 1)[0])  # a zone (fe80::1%eth0) does not change the address
        except ValueError:
            return None
    if host and set(host) <= set("0123456789abcdefx."):
        try:
            return ipaddress.IPv4Address(socket.inet_aton(host))
        except OSError:
            return None
    return None


def embedded_ipv4(ip: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    if ip.ipv4_mapped:
        return ip.ipv4_mapped
    if ip in NAT64:
        return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    if ip.sixtofour:
        return ip.sixtofour
    if ip.teredo:
        return ip.teredo[1]
    return None


def is_public(ip: Address) -> bool:
    """A unicast address on the public internet (``is_global``, and none of the ranges Python files elsewhere)."""
    if ip.version == 6:
        inner = embedded_ipv4(ip)
        if inner is not None and not is_public(inner):
            return False
        if ip.ipv4_mapped or ip in NAT64:
            return True  # judged by the IPv4 address it carries (NAT64 sits inside ::/8, "reserved")
    return ip.is_global and not (ip.is_private or ip.is_loopback or ip.is_link_local or ip.is_multicast
                                 or ip.is_reserved or ip.is_unspecified
                                 or (ip.version == 6 and ip.is_site_local))


def never_a_receiver(ip: Address) -> bool:
    """Refused even when allow-listed: 0.0.0.0 and :: reach this machine, multicast reaches many."""
    if ip.version == 6 and embedded_ipv4(ip) is not None:
        ip = embedded_ipv4(ip)
    return ip.is_unspecified or ip.is_multicast or ip == ipaddress.IPv4Address("255.255.255.255")


def _address_ok(ip: Address, conf: Settings) -> bool:
    if never_a_receiver(ip):
        return False
    if conf.allows_address(ip):
        return True
    inner = embedded_ipv4(ip) if ip.version == 6 else None
    return (inner is not None and conf.allows_address(inner)) or is_public(ip)


# -- the URL -----------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Target:
    scheme: str
    host: str   # ASCII (IDNA), lower case, no trailing dot, no brackets
    port: int
    path: str   # path and query, as sent in the request line


def parse(url: str) -> Target:
    """The parts a delivery uses; Refused for anything but a plain http(s) URL without credentials."""
    if any(c.isspace() or not c.isprintable() for c in url):
        raise Refused("not an http:// or https:// URL")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        raise Refused("not an http:// or https:// URL") from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise Refused("not an http:// or https:// URL")
    if "@" in parts.netloc:
        raise Refused("a webhook URL may not carry a user name or password (user:pass@); "
                      "the receiver checks the Kontor-Signature header instead")
    try:
        host = parts.hostname.encode("idna").decode("ascii").lower()
    except UnicodeError:
        raise Refused(f"{parts.hostname} is not a valid host name") from None
    host = host[:-1] if host.endswith(".") else host
    port = port if port is not None else (443 if parts.scheme == "https" else 80)
    if not 0 < port < 65536:
        raise Refused("the port must be between 1 and 65535")
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    return Target(parts.scheme, host, port, path)


def _not_public(host: str) -> Refused:
    # The same words whatever the port and whatever answers there: the log must not map the internal network.
    return Refused(f"{host} is not a public address (private, loopback, link-local, multicast or reserved); "
                   "nothing was sent. To send to an internal receiver on purpose, add it to KONTOR_WEBHOOK_ALLOW")


def resolve(host: str, port: int, timeout: float) -> list[tuple]:
    """``socket.getaddrinfo`` within ``timeout`` (it has no timeout of its own: it runs in a thread we stop
    waiting for)."""
    if timeout <= 0:
        raise TimeoutError("the delivery ran out of time")
    result: dict = {}

    def lookup():
        try:
            result["infos"] = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        except (OSError, UnicodeError) as exc:
            result["error"] = exc

    thread = threading.Thread(target=lookup, name="webhook-dns", daemon=True)
    thread.start()
    thread.join(timeout)
    if thread.is_alive():
        raise TimeoutError(f"looking up {host} took longer than {timeout:g} s")
    if "error" in result:
        raise result["error"]
    return result["infos"]


def vet(target: Target, conf: Settings, timeout: float, unresolved_ok: bool = False) -> list[tuple]:
    """The addresses of ``target`` to connect to, every one checked; Refused if any is not allowed. With
    ``unresolved_ok`` (registration), a name that does not resolve now gives [] instead of an error."""
    host = target.host
    by_name = conf.allows_name(host)
    if not by_name and (host in LOCAL_NAMES or host.endswith(".localhost")):
        raise _not_public(host)
    literal = host_address(host)
    if literal is not None and not (_address_ok(literal, conf) or (by_name and not never_a_receiver(literal))):
        raise _not_public(host)
    try:
        infos = resolve(host, target.port, timeout)
    except (OSError, UnicodeError):
        if unresolved_ok and literal is None:
            return []
        raise
    checked = []
    for family, kind, proto, _name, sockaddr in infos:
        if family not in (socket.AF_INET, socket.AF_INET6):
            continue
        ip = ipaddress.ip_address(sockaddr[0].split("%", 1)[0])
        if not (_address_ok(ip, conf) or (by_name and not never_a_receiver(ip))):
            raise _not_public(host)  # every address, not only the first: the connection may use any of them
        checked.append((family, kind, proto, sockaddr))
    if not checked:
        raise _not_public(host)
    return checked


def check_registration(url: str, conf: Settings) -> None:
    """Refused unless ``url`` may receive webhooks (a name that does not resolve yet is left to the delivery)."""
    vet(parse(url), conf, REGISTRATION_LOOKUP, unresolved_ok=True)


# -- sending -----------------------------------------------------------------------------------------------------
def _remaining(deadline: float, timeout: float) -> float:
    left = deadline - time.monotonic()
    if left <= 0:
        raise TimeoutError(f"the delivery took longer than {timeout:g} s")
    return left


class _DeadlineSocket:
    """The socket http.client sees: every send and read may only use what is left of the delivery's time."""

    def __init__(self, sock: socket.socket, deadline: float, timeout: float):
        self.sock, self.deadline, self.timeout = sock, deadline, timeout

    def arm(self) -> None:
        self.sock.settimeout(_remaining(self.deadline, self.timeout))

    def sendall(self, data) -> None:
        self.arm()
        self.sock.sendall(data)

    def makefile(self, mode="rb", *args, **kwargs):
        return io.BufferedReader(_DeadlineReader(self))

    def close(self) -> None:
        """http.client closes its connection as soon as the headers say the server will close, before the body
        is read (a real socket waits for its files to close); post() closes the socket when it is done."""


class _DeadlineReader(io.RawIOBase):
    def __init__(self, owner: _DeadlineSocket):
        self.owner = owner

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        self.owner.arm()
        try:
            return self.owner.sock.recv_into(buffer)
        except TimeoutError:
            raise TimeoutError(f"the delivery took longer than {self.owner.timeout:g} s") from None


def _connect(addresses: list[tuple], deadline: float, timeout: float) -> socket.socket:
    error: OSError | None = None
    for family, kind, proto, sockaddr in addresses:
        sock = socket.socket(family, kind, proto)
        try:
            sock.settimeout(_remaining(deadline, timeout))
            sock.connect(sockaddr)
            return sock
        except OSError as exc:
            sock.close()
            error = exc
            if isinstance(exc, TimeoutError) and deadline <= time.monotonic():
                break
    raise error or OSError("no address to connect to")


def _tls(sock: socket.socket, host: str, context: ssl.SSLContext, deadline: float,
         timeout: float) -> ssl.SSLSocket:
    """The TLS handshake for ``host`` (SNI and certificate check against the name), within the deadline: run
    non-blocking, so a receiver sending its handshake a byte at a time cannot stretch it."""
    tls = context.wrap_socket(sock, server_hostname=host, do_handshake_on_connect=False)
    tls.setblocking(False)
    while True:
        try:
            tls.do_handshake()
            return tls
        except ssl.SSLWantReadError:
            ready = select.select([tls], [], [], _remaining(deadline, timeout))[0]
        except ssl.SSLWantWriteError:
            ready = select.select([], [tls], [], _remaining(deadline, timeout))[1]
        if not ready:
            raise TimeoutError(f"the delivery took longer than {timeout:g} s")


def _no_second_connection() -> None:
    raise http.client.NotConnected("the connection to the checked address was closed")


def tls_context() -> ssl.SSLContext:
    return ssl.create_default_context()


def post(url: str, body: bytes, headers: dict, conf: Settings) -> int:
    """POST ``body`` to ``url`` and return the status (redirects are not followed: they count as failures).
    Refused, OSError (TimeoutError included) or http.client.HTTPException otherwise."""
    deadline = time.monotonic() + conf.timeout
    target = parse(url)
    addresses = vet(target, conf, _remaining(deadline, conf.timeout))
    sock = _connect(addresses, deadline, conf.timeout)
    try:
        if target.scheme == "https":
            sock = _tls(sock, target.host, tls_context(), deadline, conf.timeout)
            connection = http.client.HTTPSConnection(target.host, target.port)
        else:
            connection = http.client.HTTPConnection(target.host, target.port)
        # The connection is already made (to the checked address): http.client only writes and reads on it, and
        # its Host header names the host of the URL. It may never open one of its own (a second lookup).
        connection.sock = _DeadlineSocket(sock, deadline, conf.timeout)
        connection.connect = _no_second_connection
        connection.request("POST", target.path, body=body, headers=headers)
        response = connection.getresponse()
        response.read(4096)
        return response.status
    finally:
        sock.close()
