"""Hosts for ``bench.live --hosts N``: each server process on a host of its own, behind nginx.

A "host" is a Linux network namespace with its own address on a private link: the bench
makes a bridge ``bpl0`` (10.77.0.1/24) in this machine's namespace and, per host, a
namespace ``bpl-hostI`` joined to it by a veth pair, address 10.77.0.(11+I). Nothing leaves
this machine. The server process (``python app.py``, as a deployment starts it) runs inside
its namespace and listens on its own address only; it reaches PostgreSQL and Redis over the
link, at 10.77.0.1, where the bench's nginx relays them (a ``stream`` block) to the
databases listening on 127.0.0.1. The phones, the projector and the console talk to nginx
on 127.0.0.1, rendered from ``deploy/nginx.conf.template`` exactly as shipped.

Everything made here is removed by :meth:`Hosts.tear_down`, which the bench calls in a
``finally`` (and on SIGTERM / Ctrl-C); ``python -m bench.live_hosts --clean`` removes what a
killed run (SIGKILL) may have left. Needs root, ``ip`` (iproute2) and nginx with the stream
module (Debian: ``apt-get install nginx libnginx-mod-stream``).
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .live_servers import PG_ADMIN_URL, REDIS_URL, ROOT, Deployment, free_port

BRIDGE = "bpl0"
NAMESPACE = "bpl-host{}"
VETH = "bpl-veth{}"
SUBNET = "10.77.0"
GATEWAY = f"{SUBNET}.1"
APP_PORT = 5000
TEMPLATE = ROOT / "deploy" / "nginx.conf.template"
STREAM_MODULE = "/usr/lib/nginx/modules/ngx_stream_module.so"


def host_address(index: int) -> str:
    return f"{SUBNET}.{11 + index}"


def unavailable() -> str | None:
    """Why hosts cannot be made here (None when they can)."""
    if os.geteuid() != 0:
        return "network namespaces need root"
    if shutil.which("ip") is None:
        return "iproute2's ip is not installed"
    if shutil.which("nginx") is None:
        return "nginx is not installed (apt-get install nginx libnginx-mod-stream)"
    if not Path(STREAM_MODULE).exists():
        return "nginx's stream module is not installed (apt-get install libnginx-mod-stream)"
    return None


def _ip(*args: str, check: bool = True) -> subprocess.CompletedProcess:
    return subprocess.run(["ip", *args], capture_output=True, text=True, check=check)


def clean(count: int = 16) -> None:
    """Remove the bridge and namespaces of this bench, whatever state a run left them in."""
    for index in range(count):
        _ip("netns", "delete", NAMESPACE.format(index), check=False)
        _ip("link", "delete", VETH.format(index), check=False)
    _ip("link", "delete", BRIDGE, check=False)


def render_nginx(
    servers: list[str], listen: str, prefix: Path, extra: str = "", modules: str = ""
) -> str:
    """``deploy/nginx.conf.template`` with its placeholders filled in."""
    values = {
        "@MODULES@": modules,
        "@USER@": "root" if os.geteuid() == 0 else os.environ.get("USER", "nobody"),
        "@PREFIX@": str(prefix),
        "@ERROR_LOG@": str(prefix / "error.log"),
        "@SERVERS@": "\n        ".join(
            f"server {address} max_fails=3 fail_timeout=5s;" for address in servers
        ),
        "@LISTEN@": f"listen {listen};",
        "@STATIC@": str(ROOT / "static") + "/",
        "@EXTRA@": extra,
    }
    lines = []
    for line in TEMPLATE.read_text(encoding="utf-8").splitlines():
        if not line.lstrip().startswith("#"):  # the header's comments name the placeholders
            for name, value in values.items():
                line = line.replace(name, value)
            if "@" in line.split("#")[0]:
                raise ValueError(f"deploy/nginx.conf.template: unfilled placeholder in {line!r}")
        lines.append(line)
    return "\n".join(lines) + "\n"


def _relays() -> str:
    """nginx relays PostgreSQL and Redis from the link's gateway to where they listen."""

    def target(url: str, default_port: int) -> str:
        netloc = url.split("://", 1)[1].split("/", 1)[0].rsplit("@", 1)[-1]
        host, _, port = netloc.partition(":")
        return f"{host}:{port or default_port}"

    return (
        "stream {\n"
        f"    server {{ listen {GATEWAY}:5432; proxy_pass {target(PG_ADMIN_URL, 5432)}; "
        "proxy_timeout 24h; }\n"
        f"    server {{ listen {GATEWAY}:6379; proxy_pass {target(REDIS_URL, 6379)}; "
        "proxy_timeout 24h; }\n"
        "}\n"
    )


@dataclass
class Hosts(Deployment):
    """A :class:`Deployment` whose server processes run on hosts behind nginx."""

    nginx: subprocess.Popen | None = None
    nginx_port: int = 0
    made: bool = False
    addresses: list[str] = field(default_factory=list)

    def create_database(self) -> None:
        self.postgresql = True
        super().create_database()
        # The servers reach both over the link; the bench's own app keeps 127.0.0.1.
        self.host_env = {
            **self.env,
            "DATABASE_URL": _through_gateway(self.database_url),
            "SOCKETIO_MESSAGE_QUEUE": _through_gateway(REDIS_URL),
            # nginx stands in front: one hop of X-Forwarded-For is the phone's address.
            "TRUSTED_PROXIES": "1",
            # No TLS between the phones and this nginx: cookies without Secure.
            "COOKIE_SECURE": "0",
        }

    def make_network(self) -> None:
        # The names are fixed: a second run at once would tear down the first one's network.
        if _ip("link", "show", BRIDGE, check=False).returncode == 0:
            raise RuntimeError(
                f"{BRIDGE} exists: another bench.live --hosts is running, or a killed one left"
                " it (python -m bench.live_hosts --clean)"
            )
        clean()
        self.made = True
        _ip("link", "add", BRIDGE, "type", "bridge")
        _ip("addr", "add", f"{GATEWAY}/24", "dev", BRIDGE)
        _ip("link", "set", BRIDGE, "up")
        for index in range(self.processes):
            namespace, veth = NAMESPACE.format(index), VETH.format(index)
            _ip("netns", "add", namespace)
            _ip("link", "add", veth, "type", "veth", "peer", "name", "eth0", "netns", namespace)
            _ip("link", "set", veth, "master", BRIDGE, "up")
            _ip("-n", namespace, "addr", "add", f"{host_address(index)}/24", "dev", "eth0")
            _ip("-n", namespace, "link", "set", "eth0", "up")
            _ip("-n", namespace, "link", "set", "lo", "up")
            _ip("-n", namespace, "route", "add", "default", "via", GATEWAY)
            self.addresses.append(host_address(index))

    def start_nginx(self) -> str:
        prefix = self.workdir / "nginx"
        prefix.mkdir(exist_ok=True)
        for name in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"):
            (prefix / name).mkdir(exist_ok=True)
        self.nginx_port = free_port()
        config = render_nginx(
            [f"{address}:{APP_PORT}" for address in self.addresses],
            f"127.0.0.1:{self.nginx_port}",
            prefix,
            extra=_relays(),
            modules=f"load_module {STREAM_MODULE};",
        )
        path = prefix / "nginx.conf"
        path.write_text(config, encoding="utf-8")
        test = subprocess.run(
            ["nginx", "-t", "-p", str(prefix), "-c", str(path)], capture_output=True, text=True
        )
        if test.returncode:
            raise RuntimeError("nginx refused its configuration: " + test.stderr[-800:])
        self.nginx = subprocess.Popen(
            ["nginx", "-p", str(prefix), "-c", str(path), "-g", "daemon off;"],
            stdout=subprocess.DEVNULL,
            stderr=open(prefix / "stderr.log", "ab"),  # noqa: SIM115
        )
        _wait_for_port("127.0.0.1", self.nginx_port, self.nginx, "nginx")
        _wait_for_port(GATEWAY, 6379, self.nginx, "nginx's relay to Redis")
        return f"http://127.0.0.1:{self.nginx_port}"

    def start(self) -> list[str]:
        self.make_network()
        url = self.start_nginx()
        for index, address in enumerate(self.addresses):
            log = open(self.workdir / f"server-{index}.log", "ab")  # noqa: SIM115
            self.servers.append(
                subprocess.Popen(
                    ["ip", "netns", "exec", NAMESPACE.format(index), sys.executable, "app.py"],
                    cwd=ROOT,
                    env={**self.host_env, "HOST": address, "PORT": str(APP_PORT)},
                    stdout=log,
                    stderr=log,
                )
            )
            self.ports.append(APP_PORT)
        for server, address in zip(self.servers, self.addresses, strict=True):
            _wait_for_port(address, APP_PORT, server, "server")
        return [url]

    def sockets_per_host(self) -> list[int]:
        """Established connections to each host's server port (phones, screens)."""
        counts = []
        for index in range(len(self.servers)):
            listing = subprocess.run(
                ["ip", "netns", "exec", NAMESPACE.format(index), "ss", "-Htn", "state"]
                + ["established", f"( sport = :{APP_PORT} )"],
                capture_output=True,
                text=True,
            )
            counts.append(len(listing.stdout.splitlines()))
        return counts

    def kill(self, index: int) -> float:
        """SIGKILL one host's server, as a machine that dies; return when."""
        self.servers[index].send_signal(signal.SIGKILL)
        return time.time()

    def stop(self) -> None:
        try:
            super().stop()
        finally:
            self.tear_down()

    def tear_down(self) -> None:
        if self.nginx is not None and self.nginx.poll() is None:
            self.nginx.terminate()
            try:
                self.nginx.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.nginx.kill()
        if self.made:
            clean(max(self.processes, 1))
            self.made = False

    def nginx_log_tail(self) -> str:
        path = self.workdir / "nginx" / "error.log"
        return path.read_text(errors="replace")[-1500:] if path.exists() else ""


def _through_gateway(url: str) -> str:
    return url.replace("127.0.0.1", GATEWAY).replace("localhost", GATEWAY)


def _wait_for_port(host: str, port: int, process: Any, what: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while True:
        if process.poll() is not None:
            raise RuntimeError(f"{what} exited (status {process.returncode})")
        try:
            with socket.create_connection((host, port), timeout=0.5):
                return
        except OSError:
            if time.monotonic() > deadline:
                raise RuntimeError(
                    f"{what} did not listen on {host}:{port} in {timeout} s"
                ) from None
            time.sleep(0.1)


if __name__ == "__main__":
    if sys.argv[1:] == ["--clean"]:
        clean()
        print("removed the bench's bridge and namespaces (if any)")
    else:
        print("python -m bench.live_hosts --clean   (what a killed bench.live --hosts left)")
