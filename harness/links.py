"""Host side of the runner protocol: byte streams to a runner, and job execution.

A :class:`RunnerLink` is one live runner process (in a container, or a local
subprocess) reached through a stream of length-prefixed JSON frames. The host
never reads anything the untrusted code can write: only the runner holds the
stream.
"""

from __future__ import annotations

import json
import os
import select
import socket
import struct
import subprocess
import time
from abc import ABC, abstractmethod
from typing import Any

MAX_FRAME = 32 * 1024 * 1024


class LinkBroken(RuntimeError):
    """The runner stopped answering (died, or exceeded the host-side deadline)."""

    def __init__(self, message: str, results: dict[int, dict[str, Any]] | None = None) -> None:
        super().__init__(message)
        self.results = results or {}


class RunnerLink(ABC):
    """One live runner; :meth:`run_job` sends a job and gathers its result frames."""

    def __init__(self) -> None:
        self._buf = b""
        self.jobs_done = 0
        #: Set when the runner reports it can no longer guarantee a clean sandbox.
        self.dirty: str | None = None

    @abstractmethod
    def _write(self, data: bytes) -> None: ...

    @abstractmethod
    def _read_some(self, timeout: float) -> bytes | None:
        """Bytes of runner stdout; ``b""`` at EOF, ``None`` when ``timeout`` passes."""

    @abstractmethod
    def kill(self) -> None:
        """End the runner and everything it started, from the host side."""

    def diagnostics(self) -> str:
        return ""

    def send(self, obj: dict[str, Any]) -> None:
        data = json.dumps(obj, separators=(",", ":"), allow_nan=False).encode()
        try:
            self._write(struct.pack(">I", len(data)) + data)
        except OSError as exc:
            raise LinkBroken(f"runner stream closed: {exc}") from exc

    def recv(self, deadline: float) -> dict[str, Any]:
        while True:
            if len(self._buf) >= 4:
                (n,) = struct.unpack(">I", self._buf[:4])
                if n > MAX_FRAME:
                    raise LinkBroken(f"runner sent an oversized frame ({n} bytes)")
                if len(self._buf) >= 4 + n:
                    body, self._buf = self._buf[4 : 4 + n], self._buf[4 + n :]
                    msg = json.loads(body)
                    if not isinstance(msg, dict):
                        raise LinkBroken("runner sent a non-object frame")
                    return msg
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise LinkBroken("runner did not answer in time (host-side deadline)")
            chunk = self._read_some(remaining)
            if chunk is None:
                continue
            if chunk == b"":
                raise LinkBroken("runner ended unexpectedly" + self._diag_suffix())
            self._buf += chunk

    def _diag_suffix(self) -> str:
        d = self.diagnostics().strip()
        return f": {d[-500:]}" if d else ""

    def ping(self, timeout: float = 30.0) -> dict[str, Any]:
        self.send({"op": "ping", "id": "ping"})
        return self.recv(time.monotonic() + timeout)

    def run_job(self, wire: dict[str, Any], expected: int, frame_timeout: float) -> dict[int, dict[str, Any]]:
        """Send ``wire`` and collect ``expected`` results (index -> result dict).

        Raises:
            LinkBroken: with the results gathered so far, when the runner dies or
                a frame takes longer than ``frame_timeout`` seconds.
        """
        self.submit(wire)
        return self.collect(wire["id"], expected, frame_timeout)

    def submit(self, wire: dict[str, Any]) -> None:
        """Queue a job on the runner (it reads jobs in order; see :meth:`collect`)."""
        self.send(wire)

    def collect(self, job_id: str, expected: int, frame_timeout: float) -> dict[int, dict[str, Any]]:
        """Gather the results of the oldest submitted job, which must be ``job_id``."""
        results: dict[int, dict[str, Any]] = {}
        try:
            while True:
                msg = self.recv(time.monotonic() + frame_timeout)
                if msg.get("id") != job_id:
                    raise LinkBroken(f"runner answered job {msg.get('id')!r}, expected {job_id!r}")
                if msg.get("done"):
                    if msg.get("dirty"):
                        self.dirty = str(msg["dirty"])
                    if "runner_error" in msg:
                        err = msg["runner_error"]
                        raise LinkBroken(f"runner error {err.get('type')}: {err.get('message')}")
                    break
                idx = msg.get("i")
                if not isinstance(idx, int) or not 0 <= idx < expected or idx in results:
                    raise LinkBroken(f"runner sent an unexpected result index {idx!r}")
                results[idx] = msg["result"]
        except LinkBroken as exc:
            exc.results = results
            raise
        if len(results) != expected:
            raise LinkBroken(f"runner returned {len(results)} of {expected} results", results)
        self.jobs_done += 1
        return results


class ProcessLink(RunnerLink):
    """A runner in a host subprocess (the ``local`` backend)."""

    def __init__(self, argv: list[str], env: dict[str, str]) -> None:
        super().__init__()
        self.proc = subprocess.Popen(
            argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
            env=env, start_new_session=True,
        )
        assert self.proc.stdout is not None and self.proc.stdin is not None
        self._out = self.proc.stdout.fileno()
        os.set_blocking(self.proc.stderr.fileno(), False)  # type: ignore[union-attr]

    def _write(self, data: bytes) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write(data)
        self.proc.stdin.flush()

    def _read_some(self, timeout: float) -> bytes | None:
        ready, _, _ = select.select([self._out], [], [], timeout)
        if not ready:
            return None
        return os.read(self._out, 1 << 20)

    def diagnostics(self) -> str:
        try:
            data = self.proc.stderr.read() if self.proc.stderr else b""  # non-blocking
        except (OSError, ValueError):
            data = b""
        return (data or b"").decode(errors="replace")

    def kill(self) -> None:
        # Closing stdin lets the runner kill its candidates' process groups first.
        try:
            if self.proc.stdin:
                self.proc.stdin.close()
            self.proc.wait(timeout=0.5)
        except (OSError, subprocess.TimeoutExpired):
            pass
        try:
            os.killpg(self.proc.pid, 9)
        except OSError:
            pass
        self.proc.wait()
        for stream in (self.proc.stdin, self.proc.stdout, self.proc.stderr):
            try:
                if stream:
                    stream.close()
            except OSError:
                pass


class SocketLink(RunnerLink):
    """A runner started by ``docker exec``: a raw socket with Docker's 8-byte stream headers."""

    def __init__(self, sock: socket.socket, on_kill) -> None:
        super().__init__()
        self.sock = sock
        self._raw = b""
        self._stderr = b""
        self._on_kill = on_kill

    def _write(self, data: bytes) -> None:
        self.sock.sendall(data)

    def _read_some(self, timeout: float) -> bytes | None:
        out = b""
        while not out:
            header_ready = len(self._raw) >= 8
            if header_ready:
                stream, size = self._raw[0], struct.unpack(">I", self._raw[4:8])[0]
                if len(self._raw) >= 8 + size:
                    payload, self._raw = self._raw[8 : 8 + size], self._raw[8 + size :]
                    if stream == 1:
                        out = payload
                    else:
                        self._stderr = (self._stderr + payload)[-8192:]
                    continue
            ready, _, _ = select.select([self.sock], [], [], timeout)
            if not ready:
                return None
            try:
                chunk = self.sock.recv(1 << 20)
            except OSError:
                chunk = b""
            if not chunk:
                return b""
            self._raw += chunk
        return out

    def diagnostics(self) -> str:
        return self._stderr.decode(errors="replace")

    def kill(self) -> None:
        try:
            self.sock.close()
        except OSError:
            pass
        self._on_kill()
