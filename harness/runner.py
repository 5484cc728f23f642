"""In-sandbox job runner: the only trusted process that touches untrusted code.

Runs inside the sandbox (or, for the ``local`` backend, as a host subprocess) and
must stay standard-library only. It reads length-prefixed JSON frames on stdin and
answers with frames on stdout; untrusted code never holds either descriptor.

Per job it forks children that drop to a fresh unprivileged uid (``--isolation
uid``; the runner itself keeps only CAP_SETUID, CAP_SETGID and CAP_KILL) or to
their own process group and temp dir (``--isolation none``). After each child the
runner kills everything that uid left running and deletes every file it owns in
the writable places, so one job cannot influence the next.

Job kinds:

* ``calls``: load ``code``, then call ``entry_point`` on each input. Each input
  yields one frame ``{"id", "i", "result"}``; a crashed or timed-out input is
  recorded and the remaining inputs continue in a fresh child.
* ``check``: run an assertion-style test program. The test runs in its own
  process (uid T) and talks to the candidate (uid C) through a call proxy, so the
  verdict comes from a process the candidate cannot touch.

Every job ends with ``{"id", "done": true}``.
"""

from __future__ import annotations

import builtins
import errno
import fcntl
import glob
import json
import os
import resource
import select
import shutil
import signal
import socket
import struct
import sys
import tempfile
import time
import traceback
from typing import Any

import codec  # sibling module (the script directory is on sys.path)

PROTOCOL = 1
MAX_FRAME = 32 * 1024 * 1024
UID_BASE = 20000
UID_SPAN = 40000
WRITABLE_DIRS = ("/tmp", "/dev/shm", "/dev/mqueue", "/var/tmp", "/run/lock")
CHILD_STATUSES = ("ok", "error", "memory")
EXCEPTION_FIELDS = 2000


# ---------------------------------------------------------------- framing


def write_frame(fd: int, obj: object) -> None:
    data = json.dumps(obj, separators=(",", ":"), allow_nan=False).encode()
    buf = struct.pack(">I", len(data)) + data
    while buf:
        n = os.write(fd, buf)
        buf = buf[n:]


def read_exact(fd: int, n: int) -> bytes | None:
    chunks = []
    while n:
        b = os.read(fd, min(n, 1 << 20))
        if not b:
            return None
        chunks.append(b)
        n -= len(b)
    return b"".join(chunks)


def read_frame(fd: int) -> Any:
    head = read_exact(fd, 4)
    if head is None:
        return None
    (n,) = struct.unpack(">I", head)
    if n > MAX_FRAME:
        raise ValueError(f"frame of {n} bytes exceeds {MAX_FRAME}")
    body = read_exact(fd, n)
    if body is None:
        return None
    return json.loads(body)


def _reject_constant(name: str) -> Any:
    raise ValueError(f"non-JSON constant {name}")


class FrameBuffer:
    """Incremental parser for frames arriving on a non-blocking pipe."""

    def __init__(self) -> None:
        self.buf = b""

    def feed(self, data: bytes) -> list[object]:
        self.buf += data
        out = []
        while len(self.buf) >= 4:
            (n,) = struct.unpack(">I", self.buf[:4])
            if n > MAX_FRAME:
                raise ValueError(f"frame of {n} bytes exceeds {MAX_FRAME}")
            if len(self.buf) < 4 + n:
                break
            body, self.buf = self.buf[4 : 4 + n], self.buf[4 + n :]
            try:
                out.append(json.loads(body, parse_constant=_reject_constant))
            except Exception as exc:  # noqa: BLE001 - RecursionError, UnicodeError... from untrusted bytes
                raise ValueError(f"undecodable frame: {type(exc).__name__}") from None
        return out


def describe(exc: BaseException) -> dict:
    """Type, message and the innermost frames of an exception (never raises)."""
    try:
        message = str(exc)
    except BaseException:  # noqa: BLE001
        message = "<str() failed>"
    try:
        tb = [f for f in traceback.extract_tb(exc.__traceback__) if f.filename.startswith("<")][-3:]
        where = [f"{f.filename}:{f.lineno}" for f in tb]
    except BaseException:  # noqa: BLE001
        where = []
    return {"type": type(exc).__name__, "message": message[:EXCEPTION_FIELDS], "where": where}


# ---------------------------------------------------------------- privileges


class Isolation:
    """How children are separated: ``uid`` (sandbox) or ``none`` (local)."""

    def __init__(self, mode: str) -> None:
        self.mode = mode
        self.counter = int.from_bytes(os.urandom(2), "big")
        self.oom_file = self._find_oom_file()
        self.owner = os.getpid()
        #: Process groups of candidate and test processes still running.
        self.live: set[int] = set()
        #: Why this sandbox can no longer be trusted clean (reported to the host).
        self.dirty: str | None = None

    @staticmethod
    def _find_oom_file() -> str | None:
        for path in ("/sys/fs/cgroup/memory.events", "/sys/fs/cgroup/memory/memory.oom_control"):
            if os.path.exists(path):
                return path
        return None

    def oom_kills(self) -> int:
        if self.oom_file is None:
            return -1
        try:
            with open(self.oom_file) as f:
                for line in f:
                    key, _, value = line.partition(" ")
                    if key == "oom_kill":
                        return int(value)
        except OSError:
            pass
        return -1

    def next_uid(self) -> int:
        self.counter = (self.counter + 1) % UID_SPAN
        return UID_BASE + self.counter

    def enter(self, uid: int, limits: dict) -> str:
        """In a fresh child: new session, rlimits, drop to ``uid``; returns the work dir."""
        os.setsid()
        try:
            fd = os.open("/proc/self/oom_score_adj", os.O_WRONLY)
            os.write(fd, b"1000")
            os.close(fd)
        except OSError:
            pass
        mem = int(limits.get("memory_mb", 256)) * 1024 * 1024
        resource.setrlimit(resource.RLIMIT_AS, (mem, mem))
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
        nofile = int(limits.get("nofile", 256))
        resource.setrlimit(resource.RLIMIT_NOFILE, (nofile, nofile))
        fsize = int(limits.get("fsize_mb", 16)) * 1024 * 1024
        resource.setrlimit(resource.RLIMIT_FSIZE, (fsize, fsize))
        if self.mode == "uid":
            nproc = int(limits.get("nproc", 32))
            resource.setrlimit(resource.RLIMIT_NPROC, (nproc, nproc))
            os.setgroups([])
            os.setresgid(uid, uid, uid)
            os.setresuid(uid, uid, uid)
            work = f"/tmp/job-{uid}-{os.getpid()}"
        else:
            work = os.path.join(tempfile.gettempdir(), f"obench-job-{self.owner}-{uid}-{os.getpid()}")
        os.mkdir(work, 0o700)
        os.chdir(work)
        # The runner's own environment was reduced to BASE_ENV at start.
        os.environ["HOME"] = os.environ["TMPDIR"] = work
        os.environ["USER"] = f"job{uid}"
        return work

    def cleanup(self, *uids: int) -> None:
        """Kill everything the ``uids`` run and delete everything they own.

        Anything that survives (processes, files, IPC objects) marks the sandbox
        dirty, and the host replaces it after the job.
        """
        if self.mode != "uid":
            for uid in uids:
                pattern = os.path.join(tempfile.gettempdir(), f"obench-job-{self.owner}-{uid}-*")
                for d in glob.glob(pattern):
                    shutil.rmtree(d, ignore_errors=True)
            return
        busy = _uid_processes(uids)
        leftover = _remove_fast(uids)
        ipc = _ipc_objects() > 0
        deep = [uid for uid in uids if uid in busy or uid in leftover or ipc]
        for uid in deep:
            self._deep_cleanup(uid)
        if deep:
            if _uid_processes(uids):
                self.dirty = "processes of a job survived cleanup"
            elif _remove_fast(uids):
                self.dirty = "files of a job survived cleanup"

    @staticmethod
    def _deep_cleanup(uid: int, budget_s: float = 5.0) -> None:
        pid = os.fork()
        if pid == 0:
            try:
                os.setgroups([])
                os.setresgid(uid, uid, uid)
                os.setresuid(uid, uid, uid)
                me = os.getpid()
                end = time.monotonic() + budget_s
                while time.monotonic() < end:
                    try:
                        os.kill(-1, signal.SIGKILL)
                    except OSError:
                        pass
                    if not [p for p in _uid_processes((uid,)).get(uid, []) if p != me]:
                        break
                    time.sleep(0.002)
                for top in WRITABLE_DIRS:
                    _remove_owned(top, uid, end)
                _remove_ipc(uid)
            finally:
                os._exit(0)
        _wait(pid)


def _uid_processes(uids: tuple[int, ...]) -> dict[int, list[int]]:
    """Live (non-zombie) processes whose real or effective uid is one of ``uids``."""
    wanted = {str(u): u for u in uids}
    found: dict[int, list[int]] = {}
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            fd = os.open(f"/proc/{name}/status", os.O_RDONLY)
            try:
                status = os.read(fd, 4096).decode(errors="replace")
            finally:
                os.close(fd)
        except OSError:
            continue
        state = uid_line = ""
        for line in status.splitlines():
            if line.startswith("State:"):
                state = line.split()[1]
            elif line.startswith("Uid:"):
                uid_line = line
                break
        parts = uid_line.split()
        if state == "Z" or len(parts) < 3:
            continue
        for key in {parts[1], parts[2]} & wanted.keys():
            found.setdefault(wanted[key], []).append(int(name))
    return found


def _remove_fast(uids: tuple[int, ...]) -> set[int]:
    """As the runner, remove what ``uids`` left that needs no privileges; the uids with more left."""
    remains: set[int] = set()
    for top in WRITABLE_DIRS:
        try:
            entries = list(os.scandir(top))
        except OSError:
            continue
        for entry in entries:
            try:
                owner = entry.stat(follow_symlinks=False).st_uid
            except OSError:
                continue
            if owner not in uids:
                continue
            try:
                if entry.is_dir(follow_symlinks=False):
                    os.rmdir(entry.path)
                else:
                    os.unlink(entry.path)
            except OSError:
                remains.add(owner)
    return remains


def _remove_owned(top: str, uid: int, end: float = float("inf")) -> None:
    """Delete every entry of ``top`` owned by ``uid``, however deep (runs as ``uid``).

    Directories are emptied by moving their subdirectories up to ``top`` under
    fresh names, so depth never costs recursion, open descriptors or long paths.
    """
    try:
        names = os.listdir(top)
    except OSError:
        return
    queue = []
    for name in names:
        path = os.path.join(top, name)
        try:
            st = os.lstat(path)
        except OSError:
            continue
        if st.st_uid == uid:
            queue.append(path)
    counter = 0
    budget = 200000
    while queue and budget > 0 and time.monotonic() < end:
        budget -= 1
        path = queue.pop()
        try:
            if not os.path.isdir(path) or os.path.islink(path):
                os.unlink(path)
                continue
            try:
                os.chmod(path, 0o700)
            except OSError:
                pass
            for entry in os.scandir(path):
                if entry.is_dir(follow_symlinks=False):
                    try:
                        os.chmod(entry.path, 0o700)  # moving a directory rewrites its ".."
                    except OSError:
                        pass
                    counter += 1
                    flat = os.path.join(top, f".obench-rm-{os.getpid()}-{counter}")
                    os.rename(entry.path, flat)
                    queue.append(flat)
                else:
                    os.unlink(entry.path)
            os.rmdir(path)
        except OSError:
            continue


def _ipc_objects() -> int:
    """SysV IPC objects (message queues, shared memory, semaphores) in this IPC namespace."""
    n = 0
    for kind in ("msg", "shm", "sem"):
        try:
            with open(f"/proc/sysvipc/{kind}") as f:
                n += max(0, len(f.read().splitlines()) - 1)
        except OSError:
            pass
    return n


def _kill_group(pgid: int) -> None:
    try:
        os.killpg(pgid, signal.SIGKILL)
    except OSError:
        pass


def _wait_until(pid: int, deadline: float) -> int | None:
    """Exit status of ``pid`` if it ends before ``deadline``, else None."""
    while True:
        try:
            done, status = os.waitpid(pid, os.WNOHANG)
        except ChildProcessError:
            return 0
        if done:
            return status
        if time.monotonic() >= deadline:
            return None
        time.sleep(0.001)


def _wait(pid: int) -> int:
    while True:
        try:
            _, status = os.waitpid(pid, 0)
            return status
        except ChildProcessError:
            return 0
        except InterruptedError:
            continue


# ---------------------------------------------------------------- children


def spawn(iso: Isolation, uid: int, limits: dict, fds: dict[int, int], target, *args) -> int:
    """Fork a child whose descriptors are exactly ``fds`` (child fd -> parent fd)."""
    pid = os.fork()
    if pid:
        return pid
    code = 70
    try:
        devnull = os.open(os.devnull, os.O_RDONLY)
        mapping = {0: devnull, **fds}
        # Move sources out of the way of targets, then dup into place.
        high = {dst: fcntl.fcntl(src, fcntl.F_DUPFD, 200) for dst, src in mapping.items()}
        for dst, src in high.items():
            os.dup2(src, dst, inheritable=True)
        for fd in range(max(mapping)):
            if fd not in mapping:
                os.close(fd)
        os.closerange(max(mapping) + 1, 65536)
        for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGPIPE):
            signal.signal(sig, signal.SIG_DFL)
        iso.enter(uid, limits)
        sys.stdin = open(0, encoding="utf-8", closefd=False)
        sys.stdout = open(1, "w", encoding="utf-8", errors="backslashreplace", closefd=False)
        sys.stderr = open(2, "w", encoding="utf-8", errors="backslashreplace", closefd=False)
        target(*args)
        code = 0
    except BaseException:  # noqa: BLE001
        try:
            os.write(2, traceback.format_exc().encode()[-4000:])
        except OSError:
            pass
    finally:
        try:
            sys.stdout.flush()
            sys.stderr.flush()
        except BaseException:  # noqa: BLE001
            pass
        os._exit(code)
    return 0  # unreachable


def _flush_std() -> None:
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except BaseException:  # noqa: BLE001
            pass


def load_candidate(code: str, entry_point: str):
    namespace = {"__name__": "__candidate__", "__builtins__": builtins}
    exec(compile(code, "<candidate>", "exec"), namespace)  # noqa: S102 - sandboxed
    if entry_point not in namespace:
        raise NameError(f"entry point {entry_point!r} is not defined by the candidate")
    fn = namespace[entry_point]
    if not callable(fn):
        raise TypeError(f"entry point {entry_point!r} is not callable")
    return fn


def call_one(fn, encoded_args) -> dict:
    """Call ``fn`` on decoded args; returns the child-side part of a result."""
    args = codec.decode(encoded_args)
    if not isinstance(args, (list, tuple)):
        args = (args,)
    t0 = time.perf_counter()
    try:
        value = fn(*args)
        dt = time.perf_counter() - t0
        res = {"status": "ok", "value": codec.encode(value)}
    except MemoryError as exc:
        dt = time.perf_counter() - t0
        res = {"status": "memory", "error": describe(exc)}
    except BaseException as exc:  # noqa: BLE001 - candidate may raise anything
        dt = time.perf_counter() - t0
        res = {"status": "error", "error": describe(exc)}
    res["duration_s"] = dt
    try:
        if len(json.dumps(res, allow_nan=False)) > MAX_FRAME // 2:
            res = {"status": "error", "duration_s": dt,
                   "error": {"type": "ValueTooLarge", "message": "return value too large", "where": []}}
    except BaseException as exc:  # noqa: BLE001
        res = {"status": "error", "duration_s": dt, "error": describe(exc)}
    return res


def child_calls(job: dict, start: int) -> None:
    try:
        fn = load_candidate(job["code"], job["entry_point"])
    except MemoryError as exc:
        _flush_std()
        write_frame(3, {"load_error": describe(exc), "status": "memory"})
        return
    except BaseException as exc:  # noqa: BLE001
        _flush_std()
        write_frame(3, {"load_error": describe(exc), "status": "error"})
        return
    _flush_std()
    write_frame(3, {"loaded": True})
    for offset, encoded in enumerate(job["inputs"][start:]):
        res = call_one(fn, encoded)
        res["i"] = start + offset
        _flush_std()
        write_frame(3, res)
        # Wait until the runner has collected this input's output (fd 4 = go-ahead).
        if not os.read(4, 1):
            return


def child_candidate_server(job: dict) -> None:
    """Candidate side of a check job: load, then answer calls on fd 3 via fd 4."""
    try:
        fn = load_candidate(job["code"], job["entry_point"])
    except BaseException as exc:  # noqa: BLE001
        _flush_std()
        write_frame(4, {"load_error": describe(exc)})
        return
    write_frame(4, {"loaded": True})
    while True:
        req = read_frame(3)
        if req is None:
            return
        res = call_one(fn, req["args"])
        _flush_std()
        write_frame(4, res)


class CandidateCrashed(Exception):
    """The candidate process died or broke the protocol during a call."""


class CandidateLoadError(Exception):
    """The candidate did not load (syntax error, missing entry point...)."""


def child_test(job: dict) -> None:
    """Test side of a check job: run prelude + test with ``candidate`` as a proxy."""
    state = {"loaded": False}

    def recv() -> dict:
        try:
            msg = read_frame(5)
        except (ValueError, OSError) as exc:
            raise CandidateCrashed(f"broken reply: {exc}") from None
        if not isinstance(msg, dict):
            raise CandidateCrashed("candidate process ended")
        return msg

    def proxy(*args):
        if not state["loaded"]:
            msg = recv()
            if "load_error" in msg:
                err = msg["load_error"]
                raise CandidateLoadError(f"{err.get('type')}: {err.get('message')}")
            state["loaded"] = True
        write_frame(4, {"args": codec.encode(list(args))})
        msg = recv()
        status = msg.get("status")
        if status == "ok":
            return codec.decode(msg.get("value"))
        err = msg.get("error") or {}
        if status == "memory":
            raise MemoryError(err.get("message", ""))
        name = str(err.get("type", "Exception"))
        cls = getattr(builtins, name, None)
        text = str(err.get("message", ""))
        if isinstance(cls, type) and issubclass(cls, Exception):
            try:
                raise cls(text)
            except TypeError:
                pass
        raise RuntimeError(f"{name}: {text}")

    proxy.__name__ = job["entry_point"]
    namespace: dict = {"__name__": "__test__", "__builtins__": builtins}
    t0 = time.perf_counter()
    outcome: dict
    try:
        if job.get("prelude"):
            exec(compile(job["prelude"], "<prelude>", "exec"), namespace)  # noqa: S102
        namespace[job["entry_point"]] = proxy
        namespace["candidate"] = proxy
        exec(compile(job["test"], "<test>", "exec"), namespace)  # noqa: S102
        check = namespace.get("check")
        if callable(check) and check is not proxy:
            check(proxy)
        outcome = {"status": "pass"}
    except CandidateCrashed as exc:
        outcome = {"status": "crash", "error": describe(exc)}
    except CandidateLoadError as exc:
        outcome = {"status": "error", "error": describe(exc)}
    except AssertionError as exc:
        outcome = {"status": "fail", "error": describe(exc), "assertion": _assert_line(exc, job["test"])}
    except MemoryError as exc:
        outcome = {"status": "memory", "error": describe(exc)}
    except BaseException as exc:  # noqa: BLE001
        outcome = {"status": "error", "error": describe(exc)}
    outcome["duration_s"] = time.perf_counter() - t0
    _flush_std()
    write_frame(3, outcome)


def _assert_line(exc: BaseException, test: str) -> str:
    lines = test.splitlines()
    for frame in reversed(traceback.extract_tb(exc.__traceback__)):
        if frame.filename == "<test>" and frame.lineno and 0 < frame.lineno <= len(lines):
            return lines[frame.lineno - 1].strip()
    return ""


# ---------------------------------------------------------------- zygote


def _recv_exact(sock: socket.socket, n: int) -> bytes:
    buf = b""
    while len(buf) < n:
        chunk = sock.recv(n - len(buf))
        if not chunk:
            raise EOFError("zygote socket closed")
        buf += chunk
    return buf


def _send_msg(sock: socket.socket, obj: object, fds: list[int] | None = None) -> None:
    body = json.dumps(obj, separators=(",", ":")).encode()
    head = struct.pack(">I", len(body))
    if fds:
        socket.send_fds(sock, [head], fds)
    else:
        sock.sendall(head)
    sock.sendall(body)


def _recv_msg(sock: socket.socket, maxfds: int = 0) -> tuple[Any, list[int]]:
    fds: list[int] = []
    if maxfds:
        head, fds, _flags, _addr = socket.recv_fds(sock, 4, maxfds)
        if not head:
            raise EOFError("zygote socket closed")
    else:
        head = b""
    head += _recv_exact(sock, 4 - len(head))
    (n,) = struct.unpack(">I", head)
    return json.loads(_recv_exact(sock, n)), fds


class Zygote:
    """A clean process that forks every candidate process.

    It is forked before the runner reads any job, so the memory a candidate
    inherits has never held a test program or an expected output: only the
    candidate's own code and inputs, sent over a private socket with the
    descriptors the candidate gets.
    """

    def __init__(self, iso: Isolation) -> None:
        parent, child = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
        pid = os.fork()
        if pid == 0:
            code = 0
            try:
                parent.close()
                devnull = os.open(os.devnull, os.O_RDWR)
                os.dup2(devnull, 0)
                os.dup2(devnull, 1)
                _zygote_loop(iso, child)
            except EOFError:
                pass
            except BaseException:  # noqa: BLE001
                traceback.print_exc()
                code = 1
            os._exit(code)
        child.close()
        self.pid = pid
        self.sock = parent

    def spawn(self, uid: int, limits: dict, fds: dict[int, int], target: str, payload: dict, start: int) -> int:
        _send_msg(self.sock, {"op": "spawn", "uid": uid, "limits": limits, "targets": list(fds), "target": target,
                              "payload": payload, "start": start}, list(fds.values()))
        reply, _ = _recv_msg(self.sock)
        if "error" in reply:
            raise RuntimeError(f"cannot start a candidate process: {reply['error']}")
        return int(reply["pid"])

    def wait(self, pid: int, timeout: float | None) -> int | None:
        """Exit status of a candidate process; None if it still runs after ``timeout`` s."""
        _send_msg(self.sock, {"op": "wait", "pid": pid, "timeout": timeout})
        reply, _ = _recv_msg(self.sock)
        return reply["status"]


def _zygote_loop(iso: Isolation, sock: socket.socket) -> None:
    targets = {"calls": child_calls, "server": child_candidate_server}
    while True:
        req, fds = _recv_msg(sock, maxfds=16)
        if req["op"] == "spawn":
            mapping = dict(zip(req["targets"], fds))
            target = targets[req["target"]]
            args = (req["payload"], req["start"]) if req["target"] == "calls" else (req["payload"],)
            try:
                pid = spawn(iso, req["uid"], req["limits"], mapping, target, *args)
                reply: dict[str, Any] = {"pid": pid}
            except OSError as exc:  # e.g. fork failing: the runner reports it, the zygote lives on
                reply = {"error": f"{type(exc).__name__}: {exc}"}
            finally:
                for fd in fds:
                    os.close(fd)
            _send_msg(sock, reply)
        elif req["op"] == "wait":
            timeout = req["timeout"]
            if timeout is None:
                status: int | None = _wait(req["pid"])
            else:
                status = _wait_until(req["pid"], time.monotonic() + max(0.0, float(timeout)))
            _send_msg(sock, {"status": status})


def _remove_ipc(uid: int) -> None:
    """Remove the SysV IPC objects ``uid`` created (runs as ``uid``)."""
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
    except Exception:  # noqa: BLE001 - no ctypes: the sandbox will be reported dirty
        return
    for kind, rm in (("msg", lambda i: libc.msgctl(i, 0, None)), ("shm", lambda i: libc.shmctl(i, 0, None)),
                     ("sem", lambda i: libc.semctl(i, 0, 0))):
        try:
            with open(f"/proc/sysvipc/{kind}") as f:
                lines = f.read().splitlines()
        except OSError:
            continue
        if len(lines) < 2:
            continue
        cols = lines[0].split()
        id_col = next((k for k, c in enumerate(cols) if c.endswith("id") and c != "uid" and c != "cuid"), 1)
        owner_cols = [cols.index(c) for c in ("uid", "cuid") if c in cols]
        for line in lines[1:]:
            parts = line.split()
            try:
                if owner_cols and all(int(parts[k]) != uid for k in owner_cols):
                    continue
                rm(int(parts[id_col]))
            except (ValueError, IndexError):
                continue


def _dirty_reason(iso: Isolation) -> str | None:
    """Why the sandbox can no longer be trusted clean after a job, if it cannot."""
    if iso.dirty:
        return iso.dirty
    if iso.mode == "uid" and _ipc_objects():
        return "SysV IPC objects left behind"
    return None


# ---------------------------------------------------------------- supervision


class Capture:
    """Capped capture of one output stream; counts what it drops."""

    def __init__(self, cap: int) -> None:
        self.cap = cap
        self.parts: list[bytes] = []
        self.kept = 0
        self.dropped = 0

    def add(self, data: bytes) -> None:
        room = self.cap - self.kept
        if room > 0:
            self.parts.append(data[:room])
            self.kept += min(room, len(data))
        self.dropped += max(0, len(data) - max(room, 0))

    def take(self) -> tuple[str, bool]:
        text = b"".join(self.parts).decode("utf-8", errors="backslashreplace")
        truncated = self.dropped > 0
        self.parts, self.kept, self.dropped = [], 0, 0
        return text, truncated


def _nonblock(fd: int) -> None:
    os.set_blocking(fd, False)


def _drain(fd: int, sink: Capture) -> bool:
    """Read what is available; returns False at EOF."""
    while True:
        try:
            data = os.read(fd, 1 << 16)
        except BlockingIOError:
            return True
        except OSError:
            return False
        if not data:
            return False
        sink.add(data)


def _exit_reason(status: int, iso: Isolation, oom_before: int) -> tuple[str, dict]:
    if os.WIFSIGNALED(status):
        sig = os.WTERMSIG(status)
        if sig == signal.SIGKILL and iso.oom_kills() > oom_before >= 0:
            return "memory", {"type": "OOMKilled", "message": "killed by the out-of-memory killer", "where": []}
        name = signal.Signals(sig).name if sig in signal.Signals._value2member_map_ else str(sig)
        return "crash", {"type": "Signal", "message": f"killed by signal {name}", "where": []}
    code = os.WEXITSTATUS(status) if os.WIFEXITED(status) else -1
    return "crash", {"type": "Exit", "message": f"process exited with code {code} before returning", "where": []}


def _clean_error(err: Any) -> dict:
    if not isinstance(err, dict):
        return {"type": "ProtocolError", "message": "malformed error", "where": []}
    where = err.get("where")
    return {"type": str(err.get("type", "?"))[:200], "message": str(err.get("message", ""))[:EXCEPTION_FIELDS],
            "where": [str(w)[:200] for w in where[:5]] if isinstance(where, list) else []}


def _validated(msg: dict, i: int) -> dict | None:
    """The result in a child frame for input ``i``, or None if the frame is malformed.

    The frame comes from the candidate's own process, so everything is checked: the
    index, the status, a finite duration, and a value that re-encodes to a frame
    the host will accept.
    """
    status = msg.get("status")
    duration = msg.get("duration_s", 0.0)
    if msg.get("i") != i or status not in CHILD_STATUSES or type(duration) not in (int, float):
        return None
    try:
        duration = float(duration)
        if not 0.0 <= duration < 1e7:
            return None
        if status == "ok":
            value = codec.encode(codec.decode(msg.get("value")))
            if len(json.dumps(value, allow_nan=False, separators=(",", ":"))) > MAX_FRAME // 4:
                return None
            return {"status": "ok", "value": value, "error": None, "duration_s": duration}
    except Exception:  # noqa: BLE001 - RecursionError, OverflowError, ValueError... all mean malformed
        return None
    return {"status": status, "value": None, "error": _clean_error(msg.get("error")), "duration_s": duration}


def run_calls(iso: Isolation, zygote: Zygote, job: dict, out_fd: int) -> None:
    limits = job.get("limits", {})
    timeout = float(limits.get("timeout_s", 5.0))
    cap = int(limits.get("output_bytes", 65536))
    n = len(job["inputs"])
    max_timeouts = int(limits.get("max_timeouts", 0))
    timeouts = 0
    i = 0
    while i < n:
        if max_timeouts and timeouts >= max_timeouts:
            # The candidate already hung this often: do not spend a limit on every input.
            skipped = {"type": "Skipped", "message": f"not run: the candidate timed out {timeouts} times", "where": []}
            while i < n:
                write_frame(out_fd, {"id": job["id"], "i": i, "result": {
                    "status": "timeout", "value": None, "error": skipped, "duration_s": 0.0,
                    "stdout": "", "stderr": "", "truncated": False}})
                i += 1
            break
        uid = iso.next_uid()
        res_r, res_w = os.pipe()
        out_r, out_w = os.pipe()
        err_r, err_w = os.pipe()
        go_r, go_w = os.pipe()
        oom_before = iso.oom_kills()
        payload = {"code": job["code"], "entry_point": job["entry_point"], "inputs": job["inputs"]}
        try:
            pid = zygote.spawn(uid, limits, {1: out_w, 2: err_w, 3: res_w, 4: go_r}, "calls", payload, i)
        finally:
            for fd in (res_w, out_w, err_w, go_r):
                os.close(fd)
        iso.live.add(pid)
        for fd in (res_r, out_r, err_r, go_w):
            _nonblock(fd)
        out, err = Capture(cap), Capture(cap)
        frames = FrameBuffer()
        open_fds = {res_r, out_r, err_r}
        loaded = False
        started = time.monotonic()
        deadline = started + timeout
        killed_for_timeout = False
        broken: dict | None = None

        def emit(result: dict, out: Capture = out, err: Capture = err, go_w: int = go_w) -> None:
            nonlocal i, started, deadline
            so, t1 = out.take()
            se, t2 = err.take()
            result.update({"stdout": so, "stderr": se, "truncated": t1 or t2})
            result.setdefault("value", None)
            result.setdefault("error", None)
            write_frame(out_fd, {"id": job["id"], "i": i, "result": result})
            try:
                os.write(go_w, b"g")
            except OSError:
                pass
            i += 1
            started = time.monotonic()
            deadline = started + timeout

        while res_r in open_fds and i < n:
            wait = deadline - time.monotonic()
            if wait <= 0:
                killed_for_timeout = True
                break
            ready, _, _ = select.select(list(open_fds), [], [], wait)
            for fd in (out_r, err_r):
                if fd in ready and not _drain(fd, out if fd == out_r else err):
                    open_fds.discard(fd)
            if res_r not in ready:
                continue
            try:
                data = os.read(res_r, 1 << 20)
            except OSError:
                data = b""
            if not data:
                open_fds.discard(res_r)
                break
            try:
                msgs = frames.feed(data)
            except ValueError as exc:
                broken = {"type": "ProtocolError", "message": str(exc), "where": []}
                break
            for k, msg in enumerate(msgs):
                if i >= n:
                    break
                _drain(out_r, out)
                _drain(err_r, err)
                if not isinstance(msg, dict):
                    broken = {"type": "ProtocolError", "message": "non-object frame", "where": []}
                    break
                if not loaded and "load_error" in msg:
                    status = msg.get("status") if msg.get("status") in ("error", "memory") else "error"
                    error = _clean_error(msg["load_error"])
                    while i < n:
                        emit({"status": status, "error": error, "duration_s": 0.0})
                    break
                if not loaded and msg.get("loaded") is True:
                    loaded = True
                    started = time.monotonic()
                    deadline = started + timeout
                    continue
                result = _validated(msg, i) if loaded else None
                if result is None:
                    broken = {"type": "ProtocolError", "message": "malformed or out-of-order result frame", "where": []}
                    break
                emit(result)
                if k + 1 < len(msgs) or frames.buf:
                    # A frame written before the go-ahead: not from the harness's own loop.
                    broken = {"type": "ProtocolError", "message": "result frame before the go-ahead", "where": []}
                    break
            if broken:
                break
        if i < n:
            # The child stopped answering: find out why before cleaning up.
            status = None
            if not (killed_for_timeout or broken):
                status = zygote.wait(pid, deadline - time.monotonic())
                killed_for_timeout = status is None
            if status is None:
                _kill_group(pid)
                zygote.wait(pid, None)
            elapsed = time.monotonic() - started
            _drain(out_r, out)
            _drain(err_r, err)
            if killed_for_timeout:
                timeouts += 1
                emit({"status": "timeout", "duration_s": elapsed,
                      "error": {"type": "Timeout", "message": f"exceeded {timeout:g}s", "where": []}})
            elif broken:
                emit({"status": "crash", "error": broken, "duration_s": elapsed})
            else:
                reason, error = _exit_reason(status or 0, iso, oom_before)
                emit({"status": reason, "error": error, "duration_s": elapsed})
        else:
            _kill_group(pid)
            zygote.wait(pid, None)
        iso.live.discard(pid)
        iso.cleanup(uid)
        for fd in (res_r, out_r, err_r, go_w):
            os.close(fd)


def run_check(iso: Isolation, zygote: Zygote, job: dict, out_fd: int) -> None:
    limits = job.get("limits", {})
    timeout = float(limits.get("timeout_s", 5.0))
    cap = int(limits.get("output_bytes", 65536))
    uid_c, uid_t = iso.next_uid(), iso.next_uid()
    call_r, call_w = os.pipe()
    rep_r, rep_w = os.pipe()
    res_r, res_w = os.pipe()
    outc_r, outc_w = os.pipe()
    outt_r, outt_w = os.pipe()
    oom_before = iso.oom_kills()
    t0 = time.monotonic()
    # The candidate's process comes from the zygote, whose memory never held a test.
    payload = {"code": job["code"], "entry_point": job["entry_point"]}
    pid_c = zygote.spawn(uid_c, limits, {1: outc_w, 2: outc_w, 3: call_r, 4: rep_w}, "server", payload, 0)
    pid_t = spawn(iso, uid_t, limits, {1: outt_w, 2: outt_w, 3: res_w, 4: call_w, 5: rep_r}, child_test, job)
    iso.live.update((pid_c, pid_t))
    for fd in (call_r, call_w, rep_r, rep_w, res_w, outc_w, outt_w):
        os.close(fd)
    for fd in (res_r, outc_r, outt_r):
        _nonblock(fd)
    out_c, out_t = Capture(cap), Capture(cap)
    frames = FrameBuffer()
    open_fds = {res_r, outc_r, outt_r}
    deadline = t0 + timeout
    outcome: dict | None = None
    while res_r in open_fds and outcome is None:
        wait = deadline - time.monotonic()
        if wait <= 0:
            break
        ready, _, _ = select.select(list(open_fds), [], [], wait)
        for fd, sink in ((outc_r, out_c), (outt_r, out_t)):
            if fd in ready and not _drain(fd, sink):
                open_fds.discard(fd)
        if res_r in ready:
            try:
                data = os.read(res_r, 1 << 20)
                msgs = frames.feed(data) if data else []
            except (OSError, ValueError):
                data, msgs = b"", []
            if not data:
                open_fds.discard(res_r)
            for msg in msgs:
                if isinstance(msg, dict) and msg.get("status") in ("pass", "fail", "error", "crash", "memory"):
                    outcome = msg
                    break
    elapsed = time.monotonic() - t0
    for pid in (pid_c, pid_t):
        _kill_group(pid)
    status_c = zygote.wait(pid_c, None) or 0
    _wait(pid_t)
    iso.live.difference_update((pid_c, pid_t))
    _drain(outc_r, out_c)
    _drain(outt_r, out_t)
    if outcome is None:
        if elapsed >= timeout:
            outcome = {"status": "timeout", "error": {"type": "Timeout", "message": f"exceeded {timeout:g}s", "where": []}}
        else:
            outcome = {"status": "crash", "error": {"type": "TestDied", "message": "test process ended without a verdict", "where": []}}
    if outcome["status"] == "crash" and (os.WIFSIGNALED(status_c) or os.WIFEXITED(status_c)):
        reason, error = _exit_reason(status_c, iso, oom_before)
        outcome["status"], outcome["error"] = reason, error
    outcome["duration_s"] = elapsed
    so, t1 = out_c.take()
    st, t2 = out_t.take()
    outcome.update({"stdout": so, "stderr": st, "truncated": t1 or t2})
    outcome.setdefault("error", None)
    outcome.setdefault("assertion", "")
    iso.cleanup(uid_c, uid_t)
    for fd in (res_r, outc_r, outt_r):
        os.close(fd)
    write_frame(out_fd, {"id": job["id"], "i": 0, "result": outcome})


BASE_ENV = {"PATH": "/usr/local/bin:/usr/bin:/bin", "LANG": "C.UTF-8", "PYTHONHASHSEED": "0"}
#: Standard-library modules that task code commonly imports, loaded once before any
#: fork so that children do not each pay for the import (as in a zygote).
PRELOAD = ("typing", "math", "re", "collections", "itertools", "functools", "string", "heapq", "bisect",
           "hashlib", "random", "fractions", "statistics", "copy", "operator", "decimal")


def _preload() -> None:
    import importlib

    for name in PRELOAD:
        try:
            importlib.import_module(name)
        except ImportError:
            pass


def serve(mode: str) -> int:
    import gc

    os.environ.clear()
    os.environ.update(BASE_ENV)
    _preload()
    import random

    random.seed(0)  # every candidate process starts from the same random state
    iso = Isolation(mode)
    in_fd, out_fd = sys.stdin.fileno(), sys.stdout.fileno()
    gc.freeze()  # fewer copy-on-write faults in forked children
    zygote = Zygote(iso)
    try:
        return _serve_loop(iso, zygote, in_fd, out_fd, mode)
    finally:
        for pgid in list(iso.live):
            _kill_group(pgid)


def _serve_loop(iso: Isolation, zygote: Zygote, in_fd: int, out_fd: int, mode: str) -> int:
    while True:
        try:
            job = read_frame(in_fd)
        except (ValueError, OSError) as exc:
            sys.stderr.write(f"runner: bad request frame: {exc}\n")
            return 2
        if job is None:
            return 0
        job_id = job.get("id") if isinstance(job, dict) else None
        try:
            op = job.get("op")
            if op == "ping":
                write_frame(out_fd, {"id": job_id, "pong": True, "protocol": PROTOCOL, "uid": os.getuid(),
                                     "isolation": mode, "python": sys.version.split()[0],
                                     "oom_counter": iso.oom_file})
                continue
            if op == "calls":
                run_calls(iso, zygote, job, out_fd)
            elif op == "check":
                run_check(iso, zygote, job, out_fd)
            else:
                raise ValueError(f"unknown op {op!r}")
            done: dict[str, Any] = {"id": job_id, "done": True}
            dirty = _dirty_reason(iso)
            if dirty:
                done["dirty"] = dirty
            write_frame(out_fd, done)
        except BrokenPipeError:
            return 0
        except Exception as exc:  # noqa: BLE001 - a bad job must not kill the runner
            try:
                write_frame(out_fd, {"id": job_id, "done": True, "runner_error": describe(exc)})
            except OSError as err:
                if err.errno == errno.EPIPE:
                    return 0
                raise


def main(argv: list[str]) -> int:
    mode = "uid"
    if "--isolation" in argv:
        mode = argv[argv.index("--isolation") + 1]
    if mode not in ("uid", "none"):
        sys.stderr.write(f"runner: unknown isolation {mode!r}\n")
        return 2
    return serve(mode)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
