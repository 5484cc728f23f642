"""Red-team tests: hostile candidates against the docker execution harness.

Every test runs an attack as an untrusted candidate and checks two things:

1. the harness answered within its limits with the right, specific status, and the
   attack did not achieve its goal (no network, no host files, no forged result...);
2. the next execution is unaffected: :func:`assert_next_clean` runs a benign probe
   on every container of the pool and checks that it runs as an unprivileged uid,
   sees no process of another job uid, no foreign entry in ``/tmp``, no leftover
   IPC object, a clean environment, and can still write to its work dir.

Attacks that leave something behind are also followed by a probe *in the same
container*: :func:`attack_then_probe` runs one job with two inputs, the attack
input ends its process (``os._exit``) so the probe input runs in a fresh child,
as a fresh uid, after the runner's cleanup of the attacker's uid.

Six of these found real weaknesses when first written (forged and malformed result
frames, a candidate reading its test from inherited memory, cleanup defeated by a deep
directory tree, SysV IPC and POSIX message queues surviving a job); each is fixed in
the runner and the test now guards the fix.
"""

from __future__ import annotations

import errno
import json
import struct
import textwrap
import time

import pytest

from harness.codec import Opaque
from harness.jobs import CallJob, CallResult, CheckJob, Limits

pytestmark = [pytest.mark.docker, pytest.mark.timeout(120)]

TIMEOUT_S = 2.0
LIMITS = Limits(timeout_s=TIMEOUT_S, memory_mb=128)
#: Slack for process start, cleanup and the docker stream on top of a limit.
SLACK_S = 1.5
#: A job that its limits stop ends within this on any machine, however loaded; a job they do not
#: stop never ends (the attacks below loop or sleep for far longer). Tests assert outcomes, not speed.
BOUND_S = 60.0
JOB_UIDS = (20000, 60000)  # runner.UID_BASE .. UID_BASE + UID_SPAN
JOB_ENV = {"PATH", "HOME", "TMPDIR", "LANG", "USER", "PYTHONHASHSEED"}
SECRET_VALUE = "s3cr3t"

# A benign candidate that reports what a job can see of earlier jobs.
PROBE_SRC = textwrap.dedent(
    '''
    import os as _os
    import time as _time

    def _probe(watch=(), delay=0.0):
        me = _os.getuid()
        if delay:
            _time.sleep(delay)

        def _others():
            found = []
            for name in _os.listdir("/proc"):
                if not name.isdigit():
                    continue
                try:
                    with open("/proc/%s/status" % name) as fh:
                        fields = dict(l.split(":", 1) for l in fh.read().splitlines() if ":" in l)
                except OSError:
                    continue
                uids = [int(u) for u in fields.get("Uid", "0 0").split()[:2]]
                if any(UIDLO <= u < UIDHI and u != me for u in uids):
                    found.append("%s:%s:%s:uid=%s" % (name, fields.get("Name", "").strip(),
                                                      fields.get("State", "").strip()[:1], uids[0]))
            return found

        work = _os.getcwd()
        tmp = sorted(n for n in _os.listdir("/tmp") if _os.path.join("/tmp", n) != work)
        try:
            mq = sorted(_os.listdir("/dev/mqueue"))
        except OSError:
            mq = []
        ipc = {}
        for kind in ("msg", "shm", "sem"):
            try:
                with open("/proc/sysvipc/" + kind) as fh:
                    ipc[kind] = len(fh.read().splitlines()) - 1
            except OSError:
                ipc[kind] = 0
        try:
            with open("probe.bin", "wb") as fh:
                fh.write(b"\\0" * (1 << 20))
            _os.unlink("probe.bin")
            write = "ok"
        except OSError as exc:
            write = "%s: %s" % (type(exc).__name__, exc)
        st = _os.statvfs("/tmp")
        present = [p for p in watch if _os.path.lexists(p)]
        if delay:
            _time.sleep(delay)
            present += [p for p in watch if _os.path.lexists(p) and p not in present]
        return {
            "root": me == 0,
            "uid": me,
            "others": _others(),
            "tmp": tmp,
            "mq": mq,
            "ipc": ipc,
            "write": write,
            "free_mb": st.f_bavail * st.f_frsize // (1 << 20),
            "present": present,
            "env": sorted(_os.environ),
            "value": sum(i * i for i in range(100)),
        }
    '''
).replace("UIDLO", str(JOB_UIDS[0])).replace("UIDHI", str(JOB_UIDS[1]))

PROBE_CODE = PROBE_SRC + "\ndef probe(watch, delay):\n    return _probe(watch, delay)\n"


# ---------------------------------------------------------------- helpers


def calls(sb, code: str, inputs=((),), entry: str = "f", limits: Limits | None = None, fresh: bool = False):
    """Run one job; returns (results, wall-clock seconds)."""
    t0 = time.monotonic()
    res = sb.run_calls([CallJob.create(code, entry, list(inputs), limits=limits)], fresh=fresh)[0]
    return res, time.monotonic() - t0


def call1(sb, code: str, args=(), entry: str = "f", limits: Limits | None = None, fresh: bool = False):
    res, wall = calls(sb, code, [args], entry, limits, fresh)
    return res[0], wall


def check_probe(r: CallResult, watch=()) -> dict:
    """Assert a probe result shows a clean, unprivileged job."""
    assert r.status == "ok", (r.status, r.error, r.stderr[-2000:])
    assert not r.infra
    p = r.decoded
    assert p["root"] is False and p["uid"] != 0
    assert p["others"] == [], f"processes of other job uids still alive: {p['others']}"
    assert p["tmp"] == [], f"/tmp holds entries of earlier jobs: {p['tmp']}"
    assert p["mq"] == [], f"POSIX message queues left by earlier jobs: {p['mq']}"
    assert p["ipc"] == {"msg": 0, "shm": 0, "sem": 0}, f"SysV IPC objects left by earlier jobs: {p['ipc']}"
    assert p["write"] == "ok", f"work dir not writable: {p['write']}"
    assert p["free_mb"] >= 56, f"/tmp has only {p['free_mb']} MiB free"
    assert p["present"] == [], f"artefacts still present: {p['present']}"
    assert set(p["env"]) == JOB_ENV, p["env"]
    assert p["value"] == sum(i * i for i in range(100))
    return p


def assert_next_clean(sb, watch=(), delay: float = 0.0, rounds: int | None = None) -> None:
    """Run the benign probe on every container of ``sb``'s pool (FIFO: one per link)."""
    rounds = rounds or sb.workers + 1
    for _ in range(rounds):
        r, wall = call1(sb, PROBE_CODE, (list(watch), delay), entry="probe")
        check_probe(r, watch)
        assert wall < BOUND_S, wall


def attack_then_probe(sb, attack_src: str, watch=(), delay: float = 0.0) -> dict:
    """One job, same container: input 0 runs ``attack()`` then ends its process;
    input 1 runs the probe in a fresh child (fresh uid) after the runner's cleanup."""
    code = (
        textwrap.dedent(attack_src)
        + PROBE_SRC
        + textwrap.dedent(
            """
            def entry(mode, watch, delay):
                if mode == "attack":
                    import os, sys
                    try:
                        attack()
                    finally:
                        os._exit(0)
                return _probe(watch, delay)
            """
        )
    )
    res, _ = calls(sb, code, [("attack", [], 0.0), ("probe", list(watch), delay)], entry="entry")
    assert res[0].status in ("crash", "timeout"), (res[0].status, res[0].error)
    return check_probe(res[1], watch)


def frame(obj) -> bytes:
    data = json.dumps(obj).encode()
    return struct.pack(">I", len(data)) + data


@pytest.fixture
def solo(make_docker_sandbox):
    """A dedicated one-worker sandbox (2 containers) for attacks that may poison a container."""
    sb = make_docker_sandbox(limits=LIMITS, workers=1)
    yield sb
    sb.close()


# ---------------------------------------------------------------- network


def test_network_connect_outside_ip_fails(docker_sandbox):
    code = """
import os, socket
def f():
    out = {}
    for host, port in [("1.1.1.1", 53), ("8.8.8.8", 443), ("172.17.0.1", 2375), ("10.0.2.2", 80)]:
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.settimeout(1.0)
        try:
            s.connect((host, port))
            out[f"tcp {host}"] = "CONNECTED"
        except OSError as e:
            out[f"tcp {host}"] = type(e).__name__
        finally:
            s.close()
    u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        u.sendto(b"\\x00" * 12, ("1.1.1.1", 53))
        out["udp"] = "SENT"
    except OSError as e:
        out["udp"] = type(e).__name__
    try:
        s6 = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
        s6.settimeout(1.0)
        s6.connect(("2606:4700:4700::1111", 53))
        out["tcp6"] = "CONNECTED"
    except OSError as e:
        out["tcp6"] = type(e).__name__
    out["ifaces"] = sorted(os.listdir("/sys/class/net"))
    return out
"""
    r, wall = call1(docker_sandbox, code)
    assert r.status == "ok", r.error
    out = r.decoded
    assert out.pop("ifaces") == ["lo"]
    assert "CONNECTED" not in out.values() and "SENT" not in out.values(), out
    assert all(v.endswith("Error") or v == "timeout" for v in out.values()), out
    assert wall < BOUND_S
    assert_next_clean(docker_sandbox)


def test_network_connect_loopback_fails(docker_sandbox):
    code = """
import socket
def f():
    out = {}
    for port in (1, 22, 80, 2375, 2376, 8080):
        s = socket.socket()
        s.settimeout(0.5)
        try:
            s.connect(("127.0.0.1", port))
            out[port] = "CONNECTED"
        except OSError as e:
            out[port] = type(e).__name__
        finally:
            s.close()
    import os
    out["docker_sock"] = os.path.exists("/var/run/docker.sock") or os.path.exists("/run/docker.sock")
    return out
"""
    r, _ = call1(docker_sandbox, code)
    assert r.status == "ok", r.error
    out = r.decoded
    assert out.pop("docker_sock") is False
    assert set(out.values()) == {"ConnectionRefusedError"}, out
    assert_next_clean(docker_sandbox)


def test_dns_lookup_fails(docker_sandbox):
    code = """
import socket, time
def f():
    out = {}
    t0 = time.monotonic()
    for name in ("example.com", "pypi.org", "github.com"):
        try:
            out[name] = socket.getaddrinfo(name, 443)[0][4][0]
        except OSError as e:
            out[name] = type(e).__name__
    try:
        out["ghbn"] = socket.gethostbyname("one.one.one.one")
    except OSError as e:
        out["ghbn"] = type(e).__name__
    out["secs"] = time.monotonic() - t0
    return out
"""
    r, _ = call1(docker_sandbox, code)
    assert r.status == "ok", r.error
    out = r.decoded
    assert out.pop("secs") < TIMEOUT_S
    assert set(out.values()) == {"gaierror"}, out
    assert_next_clean(docker_sandbox)


# ---------------------------------------------------------------- processes and resources


def test_fork_bomb_contained(docker_sandbox):
    code = """
import os
def f():
    while True:
        try:
            os.fork()
        except OSError:
            pass
"""
    r, wall = call1(docker_sandbox, code)
    assert r.status == "timeout", (r.status, r.error)
    assert TIMEOUT_S - 0.1 <= r.duration_s <= BOUND_S
    assert wall < BOUND_S
    assert_next_clean(docker_sandbox)


def test_fork_bomb_hits_nproc_limit(docker_sandbox):
    # A bomb whose processes report how far they got: bounded by Limits.nproc (32).
    code = """
import os, time
def f():
    made, failed = 0, None
    for _ in range(500):
        try:
            pid = os.fork()
        except OSError as e:
            failed = e.errno
            break
        if pid == 0:
            time.sleep(30)
            os._exit(0)
        made += 1
    return made, failed
"""
    r, wall = call1(docker_sandbox, code)
    assert r.status == "ok", r.error
    made, failed = r.decoded
    assert made < 32 and failed == errno.EAGAIN, r.decoded
    assert wall < BOUND_S
    assert_next_clean(docker_sandbox)


def test_memory_bomb(docker_sandbox):
    code = """
def f(kind):
    if kind == "big":
        return len(bytearray(1 << 30))
    a = []
    while True:
        a.append("x" * 10**6)
"""
    res, wall = calls(docker_sandbox, code, [("big",), ("grow",)])
    for r in res:
        assert r.status == "memory", (r.status, r.error)
        assert r.error["type"] in ("MemoryError", "OOMKilled")
    assert wall < BOUND_S
    assert_next_clean(docker_sandbox)


def test_child_process_memory_bomb(docker_sandbox):
    code = """
import os, subprocess, sys
def f():
    p = subprocess.run([sys.executable, "-c", "x = bytearray(10**9)"], capture_output=True, timeout=5)
    pid = os.fork()
    if pid == 0:
        try:
            x = bytearray(10**9)
            os._exit(0)
        except MemoryError:
            os._exit(42)
    return p.returncode, b"MemoryError" in p.stderr, os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1])
"""
    r, wall = call1(docker_sandbox, code)
    assert r.status == "ok", r.error
    assert r.decoded == (1, True, 42)
    assert wall < BOUND_S
    assert_next_clean(docker_sandbox)


def test_many_children_exhaust_container_memory_contained(docker_sandbox):
    # Each child stays under RLIMIT_AS, together they exceed the container's memory.
    code = """
import os, time
def f():
    kids = []
    for i in range(12):
        pid = os.fork()
        if pid == 0:
            try:
                b = bytearray(100 * 1024 * 1024)
                for j in range(0, len(b), 4096):
                    b[j] = 1
                time.sleep(0.3)
            finally:
                os._exit(0)
        kids.append(pid)
    return [os.waitpid(p, 0)[1] for p in kids]
"""
    # A generous time limit, so a loaded machine still reaches the memory limit (the outcome under test).
    r, wall = call1(docker_sandbox, code, limits=Limits(timeout_s=30.0, memory_mb=128))
    assert r.status in ("ok", "memory", "crash"), (r.status, r.error)
    if r.status == "ok":
        statuses = r.decoded
        assert any(s == 9 for s in statuses), statuses  # the OOM killer took children, not the runner
    assert not r.infra
    assert wall < BOUND_S
    assert_next_clean(docker_sandbox)


def test_disk_fill_tmp(docker_sandbox):
    code = """
import os, errno
def f():
    written, errs = 0, []
    chunk = b"x" * (1 << 20)
    for n in range(10):
        try:
            with open(f"/tmp/fill{n}", "wb") as fh:
                for _ in range(15):
                    fh.write(chunk)
                    fh.flush()
                    written += 1
        except OSError as e:
            errs.append(e.errno)
    return written, errs
"""
    r, wall = call1(docker_sandbox, code)
    assert r.status == "ok", (r.status, r.error)
    written, errs = r.decoded
    assert errno.ENOSPC in errs and written <= 64, r.decoded
    assert wall < BOUND_S
    attack_then_probe(docker_sandbox, code.replace("def f():", "def attack():"), watch=["/tmp/fill0", "/tmp/fill1"])
    assert_next_clean(docker_sandbox, watch=["/tmp/fill0", "/tmp/fill1"])


def test_infinite_loop_timeout(docker_sandbox):
    code = """
import signal
def f():
    for s in (signal.SIGTERM, signal.SIGINT, signal.SIGALRM, signal.SIGHUP):
        signal.signal(s, signal.SIG_IGN)
    while True:
        pass
"""
    r, wall = call1(docker_sandbox, code)
    assert r.status == "timeout", (r.status, r.error)
    assert r.error["type"] == "Timeout"
    assert TIMEOUT_S - 0.05 <= r.duration_s <= BOUND_S, r.duration_s
    assert wall < BOUND_S
    assert_next_clean(docker_sandbox)


def test_sleeping_child_outlives_call(docker_sandbox):
    code = """
import os, time
def attack():
    if os.fork() == 0:
        time.sleep(1000)
        os._exit(0)
def f():
    attack()
    return "returned"
"""
    r, wall = call1(docker_sandbox, code)
    assert r.status == "ok" and r.decoded == "returned", (r.status, r.error)
    assert r.duration_s < 50 and wall < BOUND_S  # the orphan sleeps 1000 s, far past any load: not waited for
    attack_then_probe(docker_sandbox, code)
    assert_next_clean(docker_sandbox)


def test_double_fork_daemon_appending_to_tmp(docker_sandbox):
    code = """
import os, time
LOG = "/tmp/obench_daemon.log"
def attack():
    pid = os.fork()
    if pid == 0:
        os.setsid()
        if os.fork() == 0:
            for fd in range(0, 10):
                try:
                    os.close(fd)
                except OSError:
                    pass
            while True:
                try:
                    with open(LOG, "a") as fh:
                        fh.write("alive\\n")
                except OSError:
                    pass
                time.sleep(0.01)
        os._exit(0)
    os.waitpid(pid, 0)
    time.sleep(0.1)
def f():
    attack()
    return os.path.getsize(LOG) > 0
"""
    r, _ = call1(docker_sandbox, code)
    assert r.status == "ok" and r.decoded is True, (r.status, r.error)
    watch = ["/tmp/obench_daemon.log"]
    attack_then_probe(docker_sandbox, code, watch=watch, delay=0.2)
    assert_next_clean(docker_sandbox, watch=watch, delay=0.1)


def test_kill_pid1_and_runner(docker_sandbox):
    code = """
import os, signal
def f():
    out = {}
    for name, pid in [("pid1", 1), ("parent", os.getppid())]:
        try:
            os.kill(pid, signal.SIGKILL)
            out[name] = "KILLED"
        except OSError as e:
            out[name] = type(e).__name__
    for p in os.listdir("/proc"):
        if p.isdigit() and int(p) != os.getpid():
            try:
                os.kill(int(p), signal.SIGKILL)
                out["proc" + p] = "KILLED"
            except OSError as e:
                out["proc" + p] = type(e).__name__
    try:
        os.killpg(os.getpgid(os.getppid()), signal.SIGKILL)
        out["runner_group"] = "KILLED"
    except OSError as e:
        out["runner_group"] = type(e).__name__
    return out
"""
    r, _ = call1(docker_sandbox, code)
    assert r.status == "ok", (r.status, r.error)
    assert set(r.decoded.values()) == {"PermissionError"}, r.decoded
    assert_next_clean(docker_sandbox)


def test_kill_all_minus_one_kills_only_itself(docker_sandbox):
    code = """
import os, signal
def f(x):
    if x == "kill":
        os.kill(-1, signal.SIGKILL)
        return "survived"
    return x * 2
"""
    res, _ = calls(docker_sandbox, code, [("kill",), (21,), ("kill",), (4,)])
    # Linux spares the caller of kill(-1): it survives (or dies), nothing outside its uid is hit.
    for r in (res[0], res[2]):
        assert (r.status == "ok" and r.decoded == "survived") or (
            r.status == "crash" and "SIGKILL" in r.error["message"]), (r.status, r.error)
    assert res[1].status == "ok" and res[1].decoded == 42, (res[1].status, res[1].error)
    assert res[3].status == "ok" and res[3].decoded == 8, (res[3].status, res[3].error)
    assert_next_clean(docker_sandbox)


# ---------------------------------------------------------------- output


def test_output_flood_truncated(docker_sandbox):
    code = """
import sys
def f():
    chunk = "x" * (1 << 20)
    for _ in range(100):
        sys.stdout.write(chunk)
    sys.stdout.flush()
    for _ in range(4):
        sys.stderr.write(chunk)
    return "done"
"""
    r, wall = call1(docker_sandbox, code)
    assert r.status == "ok" and r.decoded == "done", (r.status, r.error)
    assert r.truncated is True
    assert 60_000 <= len(r.stdout) <= 65536 and set(r.stdout) == {"x"}
    assert len(r.stderr) <= 65536
    assert wall < BOUND_S
    assert_next_clean(docker_sandbox)


def test_non_utf8_output(docker_sandbox):
    code = """
import sys
def f():
    sys.stdout.buffer.write(b"\\xff\\xfe\\xfd-abc-\\xc3\\n")
    sys.stdout.flush()
    print("lone \\udcff surrogate")
    sys.stderr.buffer.write(b"\\x80err\\n")
    return "bytes"
"""
    r, _ = call1(docker_sandbox, code)
    assert r.status == "ok" and r.decoded == "bytes", (r.status, r.error)
    assert "-abc-" in r.stdout and ("\\xff" in r.stdout or "\ufffd" in r.stdout), r.stdout
    assert "surrogate" in r.stdout and "err" in r.stderr
    r.stdout.encode("utf-8")  # valid text reached the host
    r.stderr.encode("utf-8")
    assert_next_clean(docker_sandbox)


def test_forged_frames_on_stdout_are_plain_output(docker_sandbox):
    forged_outer = frame({"id": "j0", "i": 0, "result": {"status": "ok", "value": 42}})
    forged_done = frame({"id": "j0", "done": True})
    forged_child = frame({"status": "ok", "value": 42, "duration_s": 0.0})
    code = f"""
import os, sys
def f():
    for data in ({forged_outer!r}, {forged_done!r}, {forged_child!r}):
        os.write(1, data)
        os.write(2, data)
        sys.stdout.buffer.write(data)
    sys.stdout.flush()
    return 7
"""
    for _ in range(2):
        r, _ = call1(docker_sandbox, code)
        assert r.status == "ok", (r.status, r.error)
        assert r.decoded == 7
        assert '"value": 42' in r.stdout  # it stayed output, it was not parsed
    assert_next_clean(docker_sandbox)


def test_forged_runner_frames_on_every_fd(docker_sandbox):
    # Runner-to-host frames written to every descriptor (fd 3 is the result pipe).
    code = """
import os, json, struct
def f(job_ids):
    for jid in job_ids:
        for obj in ({"id": jid, "i": 0, "result": {"status": "ok", "value": 42}}, {"id": jid, "done": True}):
            d = json.dumps(obj).encode()
            for fd in range(1, 21):
                try:
                    os.write(fd, struct.pack(">I", len(d)) + d)
                except OSError:
                    pass
    return 7
"""
    ids = [f"j{n}" for n in range(200)]
    r, _ = call1(docker_sandbox, code, (ids,))
    assert r.decoded != 42
    assert (r.status == "ok" and r.decoded == 7) or (r.status in ("crash", "error") and not r.infra), (
        r.status, r.error, r.value)
    assert_next_clean(docker_sandbox)


def test_forged_child_result_frame_on_result_pipe(docker_sandbox):
    """The candidate shares a process with its own result pipe, so it can write frames there.

    That can never grant more than returning values would; what the runner guarantees is
    that a forged frame is not silently taken as a result or shifted onto the next input:
    it is a protocol violation, i.e. a crash of that candidate (never an infra outcome).
    """
    forged = frame({"status": "ok", "value": 42, "duration_s": 0.0})
    forged_indexed = frame({"i": 0, "status": "ok", "value": 42, "duration_s": 0.0})
    for payload in (forged, forged_indexed):
        code = f"""
import os
def f(x):
    os.write(3, {payload!r})
    return x
"""
        res, _ = calls(docker_sandbox, code, [(7,), (8,)])
        assert_next_clean(docker_sandbox)
        assert not any(r.infra for r in res)
        assert [r.status for r in res] == ["crash", "crash"] or (
            payload == forged_indexed and res[0].decoded == 42 and res[1].status == "crash"), [r.value for r in res]
        assert all(r.decoded != 42 for r in res[1:])


def test_result_pipe_nested_json_breaks_runner(docker_sandbox):
    code = """
import os, struct
def f():
    d = b"[" * 100000 + b"]" * 100000
    os.write(3, struct.pack(">I", len(d)) + d)
    return 7
"""
    r, wall = call1(docker_sandbox, code)
    assert wall < BOUND_S
    assert_next_clean(docker_sandbox)
    assert not r.infra, r.error
    assert r.status in ("crash", "error") or (r.status == "ok" and r.decoded == 7), (r.status, r.error)


def test_result_pipe_bad_duration_breaks_runner(docker_sandbox):
    forged = frame({"status": "ok", "value": 1, "duration_s": "abc"})
    code = f"""
import os
def f():
    os.write(3, {forged!r})
    return 7
"""
    r, _ = call1(docker_sandbox, code)
    assert_next_clean(docker_sandbox)
    assert not r.infra, r.error
    assert r.status in ("crash", "error") or (r.status == "ok" and r.decoded == 7), (r.status, r.error)


def test_close_own_std_fds_and_result_pipe(docker_sandbox):
    code = """
import os
def f(mode):
    if mode == "std":
        os.close(0)
        os.close(1)
        os.close(2)
        return 5
    os.close(3)
    return 6
"""
    res, wall = calls(docker_sandbox, code, [("std",), ("res",), ("std",)])
    assert res[0].status == "ok" and res[0].decoded == 5, (res[0].status, res[0].error)
    assert res[1].status == "crash" and res[1].decoded != 6, (res[1].status, res[1].error)
    assert res[2].status == "ok" and res[2].decoded == 5, (res[2].status, res[2].error)
    assert wall < BOUND_S
    assert_next_clean(docker_sandbox)


# ---------------------------------------------------------------- host, privileges, environment


def test_host_files_unreadable(docker_sandbox):
    code = """
import os
def f():
    out = {}
    for path in ("/etc/shadow", "/proc/1/environ", "/proc/1/root/etc/shadow", "/proc/1/mem"):
        try:
            with open(path, "rb") as fh:
                fh.read(16)
            out[path] = "READ"
        except OSError as e:
            out[path] = type(e).__name__
    host = ["/work/main/pyproject.toml", "/work/main/harness/runner.py", "/work", "/root/.docker",
            "/var/run/docker.sock", "/var/lib/docker", "/home"]
    out["host_paths"] = [p for p in host if os.path.exists(p) and (p != "/home" or os.listdir(p))]
    return out
"""
    r, _ = call1(docker_sandbox, code)
    assert r.status == "ok", (r.status, r.error)
    out = r.decoded
    assert out.pop("host_paths") == []
    assert "READ" not in out.values(), out
    assert out["/etc/shadow"] == "PermissionError"
    assert_next_clean(docker_sandbox)


def test_environment_secrets_not_visible(monkeypatch, make_docker_sandbox):
    monkeypatch.setenv("OBENCH_SECRET_TEST", SECRET_VALUE)
    sb = make_docker_sandbox(limits=LIMITS, workers=1)
    try:
        code = """
import os
def f():
    seen = {"in_environ": "OBENCH_SECRET_TEST" in os.environ or any("s3cr3t" in v for v in os.environ.values())}
    try:
        open("/proc/1/environ", "rb").read()
        seen["pid1_environ"] = "READ"
    except OSError as e:
        seen["pid1_environ"] = type(e).__name__
    leaks = []
    for p in os.listdir("/proc"):
        if p.isdigit():
            for name in ("environ", "cmdline"):
                try:
                    if b"s3cr3t" in open(f"/proc/{p}/{name}", "rb").read():
                        leaks.append(f"{p}/{name}")
                except OSError:
                    pass
    seen["leaks"] = leaks
    seen["env"] = sorted(os.environ)
    return seen
"""
        for fresh in (True, False):
            r, _ = call1(sb, code, fresh=fresh)
            assert r.status == "ok", (r.status, r.error)
            seen = r.decoded
            assert seen["in_environ"] is False
            assert seen["pid1_environ"] == "PermissionError"
            assert seen["leaks"] == []
            assert set(seen["env"]) == JOB_ENV
            assert SECRET_VALUE not in r.stdout + r.stderr
        assert_next_clean(sb)
    finally:
        sb.close()


def test_write_outside_work_dir_fails(docker_sandbox):
    code = """
import os
def f():
    attempts = {
        "root_file": lambda: open("/evil", "w"),
        "runner": lambda: open("/opt/obench/runner.py", "a"),
        "codec": lambda: open("/opt/obench/codec.py", "w"),
        "opt_new": lambda: open("/opt/obench/evil.py", "w"),
        "etc_passwd": lambda: open("/etc/passwd", "a"),
        "etc_new": lambda: open("/etc/evil", "w"),
        "var_tmp": lambda: os.mkdir("/var/tmp/evil"),
        "dev": lambda: open("/dev/evil", "w"),
        "stdlib": lambda: open("/usr/lib/python3.11/os.py", "a"),
        "chmod_tmp": lambda: os.chmod("/tmp", 0o777),
        "chmod_runner": lambda: os.chmod("/opt/obench/runner.py", 0o777),
        "sysctl": lambda: open("/proc/sys/kernel/pid_max", "w"),
        "cgroup": lambda: open("/sys/fs/cgroup/memory/memory.limit_in_bytes", "w"),
        "oom_adj": lambda: open("/proc/self/oom_score_adj", "w").write("-1000"),
    }
    out = {}
    for name, fn in attempts.items():
        try:
            fn()
            out[name] = "WROTE"
        except OSError as e:
            out[name] = type(e).__name__
    return out
"""
    r, _ = call1(docker_sandbox, code)
    assert r.status == "ok", (r.status, r.error)
    assert "WROTE" not in r.decoded.values(), r.decoded
    assert_next_clean(docker_sandbox)
    ok, _ = call1(docker_sandbox, "def f():\n    return open('/opt/obench/runner.py').read().count('def run_calls')\n")
    assert ok.status == "ok" and ok.decoded == 1


def test_capabilities_dropped(docker_sandbox):
    code = """
import os
def f():
    st = dict(l.split(":", 1) for l in open("/proc/self/status").read().splitlines() if ":" in l)
    return {k: st[k].strip() for k in ("CapEff", "CapPrm", "CapInh", "CapAmb", "NoNewPrivs", "Seccomp")} | {
        "uid": os.getuid(), "euid": os.geteuid(), "gid": os.getgid(), "groups": os.getgroups()}
"""
    r, _ = call1(docker_sandbox, code)
    assert r.status == "ok", (r.status, r.error)
    d = r.decoded
    assert int(d["CapEff"], 16) == 0 and int(d["CapPrm"], 16) == 0 and int(d["CapAmb"], 16) == 0, d
    assert d["NoNewPrivs"] == "1"
    assert d["uid"] != 0 and d["euid"] != 0 and d["gid"] != 0 and 0 not in d["groups"], d
    assert JOB_UIDS[0] <= d["uid"] < JOB_UIDS[1]
    assert_next_clean(docker_sandbox)


def test_setuid_root_fails(docker_sandbox):
    code = """
import os
def f():
    out = {}
    for name, fn in [("setuid", lambda: os.setuid(0)), ("seteuid", lambda: os.seteuid(0)),
                     ("setresuid", lambda: os.setresuid(0, 0, 0)), ("setgid", lambda: os.setgid(0)),
                     ("setgroups", lambda: os.setgroups([0])), ("setuid_other", lambda: os.setuid(20001)),
                     ("chroot", lambda: os.chroot("/tmp"))]:
        try:
            fn()
            out[name] = "OK"
        except OSError as e:
            out[name] = type(e).__name__
    out["uid"] = os.getuid()
    return out
"""
    r, _ = call1(docker_sandbox, code)
    assert r.status == "ok", (r.status, r.error)
    d = r.decoded
    assert d.pop("uid") != 0
    assert set(d.values()) == {"PermissionError"}, d
    assert_next_clean(docker_sandbox)


# ---------------------------------------------------------------- candidate failures


def test_deep_recursion_error(docker_sandbox):
    code = """
def f():
    def r(n):
        return r(n + 1) + 1
    return r(0)
"""
    r, _ = call1(docker_sandbox, code)
    assert r.status == "error" and r.error["type"] == "RecursionError", (r.status, r.error)
    assert_next_clean(docker_sandbox)


def test_unbounded_recursion_limit_crashes_not_hangs(docker_sandbox):
    code = """
import sys
def f(kind):
    sys.setrecursionlimit(10**6)
    if kind == "python":
        def r(n):
            return r(n + 1) + 1
        return r(0)
    x = []
    for _ in range(300000):
        x = [x]
    return len(repr(x))
"""
    # A generous time limit, so a loaded machine still reaches the crash (the outcome under test).
    res, wall = calls(docker_sandbox, code, [("python",), ("c",)], limits=Limits(timeout_s=30.0, memory_mb=128))
    for r in res:
        assert r.status in ("crash", "error", "memory"), (r.status, r.error)
        assert r.duration_s < BOUND_S
    assert wall < BOUND_S
    assert_next_clean(docker_sandbox)


def test_syntax_error_every_input(docker_sandbox):
    res, _ = calls(docker_sandbox, "def f(x:\n    return x\n", [(1,), (2,), (3,)])
    assert len(res) == 3
    for r in res:
        assert r.status == "error" and r.error["type"] == "SyntaxError", (r.status, r.error)
        assert not r.infra
    assert_next_clean(docker_sandbox)


def test_missing_entry_point(docker_sandbox):
    res, _ = calls(docker_sandbox, "def g(x):\n    return x\n", [(1,), (2,)])
    for r in res:
        assert r.status == "error" and r.error["type"] == "NameError", (r.status, r.error)
        assert "'f'" in r.error["message"]
    assert_next_clean(docker_sandbox)


def test_base_exception_subclasses(docker_sandbox):
    code = """
import os
class Evil(BaseException):
    pass
def f(kind):
    if kind == "kbi":
        raise KeyboardInterrupt
    if kind == "exit":
        raise SystemExit(0)
    if kind == "genexit":
        raise GeneratorExit
    if kind == "evil":
        raise Evil("x")
    if kind == "abort":
        os.abort()
    return "fine"
"""
    res, _ = calls(docker_sandbox, code, [("kbi",), ("exit",), ("genexit",), ("evil",), ("abort",), ("ok",)])
    types = [r.error["type"] if r.error else None for r in res]
    assert [r.status for r in res] == ["error", "error", "error", "error", "crash", "ok"], types
    assert types[:4] == ["KeyboardInterrupt", "SystemExit", "GeneratorExit", "Evil"]
    assert "SIGABRT" in res[4].error["message"]
    assert res[5].decoded == "fine"
    # SystemExit / KeyboardInterrupt while the candidate loads
    for src, typ in (("raise SystemExit(3)\n", "SystemExit"), ("raise KeyboardInterrupt\n", "KeyboardInterrupt")):
        res, _ = calls(docker_sandbox, src + "def f():\n    return 1\n", [(), ()])
        assert [(r.status, r.error["type"]) for r in res] == [("error", typ)] * 2
    assert_next_clean(docker_sandbox)


def test_unencodable_return_and_malicious_repr(docker_sandbox):
    code = """
import socket, threading
class BadRepr:
    def __repr__(self):
        raise RuntimeError("no repr")
class BadInt(int):
    def __int__(self):
        raise RuntimeError("no int")
    def __repr__(self):
        raise SystemExit("no repr either")
class Loop:
    def __repr__(self):
        while True:
            pass
def f(kind):
    if kind == "badrepr":
        return BadRepr()
    if kind == "badint":
        return BadInt(3)
    if kind == "objects":
        l = []
        l.append(l)
        return [lambda: 1, (x for x in ()), socket.socket(), threading.Lock(), l]
    return Loop()
"""
    res, wall = calls(docker_sandbox, code, [("badrepr",), ("badint",), ("objects",), ("loop",)])
    bad, badint, objects, loop = res
    assert bad.status == "ok" and isinstance(bad.decoded, Opaque) and bad.decoded.text == "<repr failed>"
    assert badint.status == "ok" and badint.decoded in (3, Opaque("BadInt", "<repr failed>")), badint.value
    assert objects.status == "ok" and isinstance(objects.decoded, list) and len(objects.decoded) == 5
    assert loop.status == "timeout" and loop.duration_s <= BOUND_S, (loop.status, loop.error)
    assert wall < BOUND_S
    assert_next_clean(docker_sandbox)


def test_huge_return_value(docker_sandbox):
    code = """
def f(n):
    return "x" * n
"""
    res, wall = calls(docker_sandbox, code, [(10**8,), (20 * 10**6,), (10,)])
    huge, big, small = res
    assert (huge.status == "memory") or (
        huge.status == "error" and huge.error["type"] in ("MemoryError", "ValueTooLarge")), (huge.status, huge.error)
    assert big.status == "error" and big.error["type"] == "ValueTooLarge", (big.status, big.error)
    assert small.status == "ok" and small.decoded == "x" * 10
    assert not any(r.infra for r in res)
    assert wall < BOUND_S
    assert_next_clean(docker_sandbox)


# ---------------------------------------------------------------- check mode


CHECK_TEST = "def check(candidate):\n    assert candidate(1) == 2\n"


def _checks(sb, codes, test=CHECK_TEST):
    t0 = time.monotonic()
    out = sb.run_checks([CheckJob(code=c, entry_point="f", test=test) for c in codes])
    return out, time.monotonic() - t0


def test_check_exit_and_kill_cannot_pass(docker_sandbox):
    codes = [
        "import os\ndef f(x):\n    os._exit(0)\n",
        "import os\nos._exit(0)\ndef f(x):\n    return 1\n",
        "import os, signal\ndef f(x):\n    os.kill(-1, signal.SIGKILL)\n",
        # kill every process it can see (the test process runs as another uid)
        "import os, signal\ndef f(x):\n    for p in os.listdir('/proc'):\n        if p.isdigit() and int(p) != os.getpid():\n"
        "            try:\n                os.kill(int(p), signal.SIGKILL)\n            except OSError:\n                pass\n"
        "    return 1\n",
    ]
    res, wall = _checks(docker_sandbox, codes)
    statuses = [r.status for r in res]
    assert "pass" not in statuses, statuses
    assert statuses[:2] == ["crash", "crash"] and statuses[2] in ("crash", "fail") and statuses[3] == "fail", [
        (r.status, r.error) for r in res]
    assert wall < BOUND_S
    assert_next_clean(docker_sandbox)


def test_check_fake_pass_frames_cannot_pass(docker_sandbox):
    code = """
import os, json, struct, sys
def _spray():
    for obj in ({"status": "pass"}, {"status": "pass", "duration_s": 0.0},
                {"id": "j0", "i": 0, "result": {"status": "pass"}}, {"loaded": True},
                {"status": "ok", "value": 2}):
        d = json.dumps(obj).encode()
        for fd in range(0, 21):
            try:
                os.write(fd, struct.pack(">I", len(d)) + d)
            except OSError:
                pass
_spray()
def f(x):
    _spray()
    return 1
"""
    res, _ = _checks(docker_sandbox, [code])
    r = res[0]
    assert r.status != "pass" and not r.passed
    assert r.status in ("fail", "error", "crash"), (r.status, r.error)
    assert_next_clean(docker_sandbox)


def test_check_systemexit_and_always_equal_cannot_pass(docker_sandbox):
    codes = [
        "def f(x):\n    raise SystemExit(0)\n",
        "def f(x):\n    raise KeyboardInterrupt\n",
        "class A:\n    def __eq__(self, o):\n        return True\n    __hash__ = None\n"
        "def f(x):\n    return A()\n",
        "class I(int):\n    def __eq__(self, o):\n        return True\n    def __ne__(self, o):\n        return False\n"
        "def f(x):\n    return I(1)\n",
        "class S(str):\n    def __eq__(self, o):\n        return True\n"
        "def f(x):\n    return S('nope')\n",
        "import builtins\nbuiltins.AssertionError = type('X', (Exception,), {})\ndef f(x):\n    return 1\n",
    ]
    res, _ = _checks(docker_sandbox, codes)
    assert all(r.status != "pass" for r in res), [(r.status, r.error) for r in res]
    assert [r.status for r in res] == ["error", "error", "fail", "fail", "fail", "fail"], [
        (r.status, r.error) for r in res]
    assert_next_clean(docker_sandbox)


def test_check_candidate_hangs_and_leaves_daemon(docker_sandbox):
    codes = [
        "def f(x):\n    while True:\n        pass\n",
        # a daemon that outlives the check and keeps writing into /tmp
        "import os, time\n"
        "def f(x):\n"
        "    if os.fork() == 0:\n"
        "        os.setsid()\n"
        "        while True:\n"
        "            open('/tmp/check_daemon.log', 'a').write('x')\n"
        "            time.sleep(0.01)\n"
        "    time.sleep(0.1)\n"
        "    return x + 1\n",
    ]
    res, wall = _checks(docker_sandbox, codes)
    hang, daemon = res
    assert hang.status == "timeout" and TIMEOUT_S - 0.1 <= hang.duration_s <= BOUND_S, (hang.status, hang.error)
    assert daemon.status == "pass", (daemon.status, daemon.error)  # 1 + 1 == 2: a correct answer still passes
    assert wall < BOUND_S
    assert_next_clean(docker_sandbox, watch=["/tmp/check_daemon.log"], delay=0.1)


def test_check_candidate_reads_test_source(docker_sandbox):
    code = """
import re, sys
def f(x):
    fr = sys._getframe(1)
    while fr is not None:
        job = fr.f_locals.get("job")
        if isinstance(job, dict) and "test" in job:
            for arg, want in re.findall(r"candidate\\((.*?)\\) == (.*)", job["test"]):
                if eval(arg) == x:
                    return eval(want)
        fr = fr.f_back
    return None
"""
    test = "def check(candidate):\n    assert candidate(1) == 12345\n    assert candidate(2) == 999\n"
    res, _ = _checks(docker_sandbox, [code], test=test)
    assert_next_clean(docker_sandbox)
    assert res[0].status == "fail", (res[0].status, res[0].error)


# ---------------------------------------------------------------- artefacts across jobs


def test_tmp_artefacts_removed(docker_sandbox):
    attack = """
import os, socket
def attack():
    os.mkdir("/tmp/locked")
    open("/tmp/locked/secret", "w").write("x")
    os.mkdir("/tmp/locked/sub")
    os.chmod("/tmp/locked/sub", 0)
    os.chmod("/tmp/locked", 0)
    open("/tmp/plain", "w").write("x")
    os.symlink("/opt/obench/runner.py", "/tmp/link")
    os.mkfifo("/tmp/fifo")
    s = socket.socket(socket.AF_UNIX)
    s.bind("/tmp/sock")
    os.makedirs("/tmp/a/b/c/d")
    open("/tmp/.hidden", "w").write("x")
    os.mkdir("/tmp/sticky", 0o1777)
    os.chmod("/tmp/sticky", 0o1777)
def f():
    attack()
    return sorted(os.listdir("/tmp"))
"""
    r, _ = call1(docker_sandbox, attack)
    assert r.status == "ok" and "locked" in r.decoded, (r.status, r.error)
    watch = ["/tmp/locked", "/tmp/plain", "/tmp/link", "/tmp/fifo", "/tmp/sock", "/tmp/a", "/tmp/.hidden",
             "/tmp/sticky"]
    attack_then_probe(docker_sandbox, attack, watch=watch)
    assert_next_clean(docker_sandbox, watch=watch)


def test_deeply_nested_dirs_survive_cleanup(solo):
    attack = """
import os
def attack():
    os.mkdir("/tmp/deepleak")
    os.chdir("/tmp/deepleak")
    for _ in range(1200):
        os.mkdir("a")
        os.chdir("a")
    chunk = b"x" * (1 << 20)
    for n in range(4):
        with open(f"fill{n}", "wb") as fh:
            for _ in range(15):
                fh.write(chunk)
"""
    attack_then_probe(solo, attack, watch=["/tmp/deepleak"])
    assert_next_clean(solo, watch=["/tmp/deepleak"])


def test_sysv_ipc_survives_cleanup(solo):
    attack = """
import ctypes
def attack():
    libc = ctypes.CDLL(None, use_errno=True)
    q = libc.msgget(0x0B5E, 0o1666)
    msg = ctypes.create_string_buffer(b"\\x01\\x00\\x00\\x00\\x00\\x00\\x00\\x00" + b"leaked-answer")
    libc.msgsnd(q, msg, 13, 0)
    libc.shmget(0x0B5F, 4096, 0o1666)
"""
    attack_then_probe(solo, attack)
    assert_next_clean(solo)


def test_posix_mqueue_survives_cleanup(solo):
    attack = """
import os
def attack():
    fd = os.open("/dev/mqueue/obench_leak", os.O_CREAT | os.O_RDWR, 0o666)
    os.close(fd)
"""
    attack_then_probe(solo, attack)
    assert_next_clean(solo)
