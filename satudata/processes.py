"""The services as child processes of one platform (``satudata up``, the end-to-end tests,
the benchmarks): started with each its own environment (``env_for``), their output merged
with a prefix per line, restarted and killed on demand."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx

from satudata.platform import COLORS, ROOT, ensure_streams, env_for, service_of


def service_command(name: str, port: int, host: str = "127.0.0.1") -> list[str]:
    return [sys.executable, "-m", "uvicorn", f"services.{name}.app:create_app", "--factory",
            "--host", host, "--port", str(port), "--no-access-log", "--log-level", "warning",
            "--no-server-header",
            # the client's address is the peer's, never a header a client can set: the gateway
            # believes X-Forwarded-For itself, and only from GATEWAY_TRUSTED_PROXIES
            "--no-proxy-headers",
            # a request's headers must arrive within SATUDATA_HEADER_TIMEOUT s (slow headers)
            "--http", "shared.http_protocol:HeaderTimeoutProtocol"]


class Processes:
    """The four services as child processes, their output merged with a prefix per line."""

    def __init__(self, env: dict[str, str], ports: dict[str, int], *, gateway_host="127.0.0.1",
                 prefix_output: bool = True, log_dir: Path | None = None):
        self.env, self.ports = env, ports
        self.gateway_host = gateway_host
        self.prefix_output = prefix_output
        self.log_dir = log_dir
        self.procs: dict[str, subprocess.Popen] = {}
        self._lock = threading.Lock()

    def start(self, name: str) -> subprocess.Popen:
        service = service_of(name)
        host = self.gateway_host if service == "gateway" else \
            self.env.get(f"{service.upper()}_HOST", "127.0.0.1")
        proc = subprocess.Popen(
            service_command(service, self.ports[name], host), env=env_for(service, self.env),
            cwd=ROOT,
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True)
        self.procs[name] = proc
        threading.Thread(target=self._pump, args=(name, proc), daemon=True).start()
        return proc

    def _pump(self, name: str, proc: subprocess.Popen) -> None:
        log = open(self.log_dir / f"{name}.log", "ab") if self.log_dir else None
        tty = sys.stdout.isatty()
        color, reset = (COLORS.get(service_of(name), ""), "\033[0m") if tty else ("", "")
        for line in iter(proc.stdout.readline, b""):
            if log:
                log.write(line)
                log.flush()
            if self.prefix_output:
                with self._lock:
                    sys.stdout.write(f"{color}{name:<8}|{reset} "
                                     f"{line.decode('utf-8', 'replace')}")
                    sys.stdout.flush()
        if log:
            log.close()

    def start_all(self) -> None:
        if self.env.get("NATS_MANAGE_STREAMS") == "false":
            ensure_streams(self.env["NATS_URL"], self.env.get("NATS_NAMESPACE", ""))
        for name in self.ports:  # SERVICES' order, then any extra replicas
            self.start(name)

    def wait_ready(self, timeout: float = 60.0, names=None) -> None:
        deadline = time.monotonic() + timeout
        for name in names or list(self.ports):
            url = f"http://127.0.0.1:{self.ports[name]}/healthz"
            while True:
                proc = self.procs.get(name)
                if proc is not None and proc.poll() is not None:
                    raise RuntimeError(f"{name} exited with code {proc.returncode}")
                try:
                    if httpx.get(url, timeout=1).status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
                if time.monotonic() > deadline:
                    raise TimeoutError(f"{name} not healthy after {timeout}s")
                time.sleep(0.1)

    def kill(self, name: str, sig: int = signal.SIGKILL) -> None:
        proc = self.procs[name]
        os.killpg(proc.pid, sig)
        proc.wait(10)

    def stop(self) -> None:
        for proc in self.procs.values():
            if proc.poll() is None:
                try:
                    os.killpg(proc.pid, signal.SIGTERM)
                except ProcessLookupError:
                    pass
        for proc in self.procs.values():
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
