"""Interop test harness: real third-party daemons and clients on loopback.

Reusable building blocks for tests/interop/ and bench/:

* free_port(), wait_for_port(): loopback ports, bounded polling (never a fixed sleep);
* Daemon: start an argv, record its PID, wait until it is ready (a port accepts or
  a stdout line matches), stop it by that PID (SIGTERM, bounded wait, SIGKILL) and
  keep its logs in the test's temporary directory;
* TestCA: the otls test-CA maker ($OTLS_TESTCA) wrapped for Python;
* Postfix: a private Postfix instance (own config, queue and data directories) with
  one or more smtpd listeners on 127.0.0.1 high ports (or a listener's own loopback
  address and fixed port, e.g. 127.0.2.1:25 for DANE);
* Dovecot: a private Dovecot (IMAP, POP3, ManageSieve, LMTP; STARTTLS and implicit TLS)
  on 127.0.0.2, reached from 127.0.0.1 so that it does not trust its clients by address;
* INN: a private INN tree with nnrpd (STARTTLS, NNTPS) and innd (transit mode) on 127.0.0.2;
* Nginx: a private nginx with TLS server blocks, each on its own address and certificate
  (e.g. MTA-STS policy hosts on 127.0.5.N:443), one access log per block;
* OtlsTestServer: otls's own server roles ($OTLS_TEST_SERVER, any registry protocol);
* OtlsTestMeddler: the STRIPTLS relay ($OTLS_TEST_MEDDLER);
* InteropTestCase: a unittest base class with a per-class work directory that prints
  the daemons' log tails when a test fails.

Only Debian's /usr/bin/python3 and its standard library are used. Network traffic
stays on loopback (127.0.0.1, and 127.0.0.2 for daemons that trust their own address).
Every loop is bounded in count and in time.
"""

from __future__ import annotations

import base64
import dataclasses
import errno
import grp
import hashlib
import json
import os
import pwd
import re
import secrets
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import threading
import time
import unittest
from pathlib import Path
from typing import Callable, Iterable, Optional, Sequence

LOOPBACK = "127.0.0.1"
POSTFIX_DAEMON_DIR = Path("/usr/lib/postfix/sbin")
POSTFIX_MASTER = POSTFIX_DAEMON_DIR / "master"
DEFAULT_POSTFIX_PATHS = (Path("/etc/postfix"), Path("/var/spool/postfix"), Path("/var/lib/postfix"))
KEEP_ENV = "OTLS_INTEROP_KEEP"  # set to 1 to keep work directories for post-mortems


class HarnessError(RuntimeError):
    """The harness could not set up or tear down what a test needs (not a test failure)."""


class ProtocolError(HarnessError):
    """A peer closed the connection or answered something that is not SMTP (may be transient)."""


class ForeignPort(HarnessError):
    """A port the harness chose is served by somebody else's process."""


# ---------------------------------------------------------------------------
# environment


def require_env(name: str) -> str:
    """The executable named by environment variable `name`.

    Unset: the test is skipped with a message (ctest always sets these variables, so
    this only happens when a developer runs a file by hand). Set but not an
    executable file: a hard error, never a skip.
    """
    value = os.environ.get(name)
    if not value:
        raise unittest.SkipTest(
            f"{name} is not set; run through ctest (ctest -L interop) or export {name}=/path/to/binary")
    if not (os.path.isfile(value) and os.access(value, os.X_OK)):
        raise HarnessError(f"{name}={value!r} is not an executable file")
    return value


def run(argv: Sequence[str], *, timeout: float = 60.0, input: Optional[str | bytes] = None,
        env: Optional[dict] = None, cwd: Optional[str] = None, text: bool = True) -> subprocess.CompletedProcess:
    """Run a command to completion with a bounded timeout; never raises on exit status.

    On timeout subprocess.run kills the child (by its PID) and TimeoutExpired is raised.
    """
    return subprocess.run([str(a) for a in argv], input=input, capture_output=True, timeout=timeout,
                          env=env, cwd=cwd, text=text, check=False)


def describe(cp: subprocess.CompletedProcess, limit: int = 6000) -> str:
    """A command, its exit status and its output, for assertion messages."""
    def clip(s):
        if s is None:
            return ""
        if isinstance(s, bytes):
            s = s.decode("utf-8", "replace")
        return s if len(s) <= limit else "...[clipped]...\n" + s[-limit:]
    cmd = " ".join(str(a) for a in cp.args) if isinstance(cp.args, (list, tuple)) else str(cp.args)
    return (f"\n$ {cmd}\nexit status: {cp.returncode}\n--- stdout ---\n{clip(cp.stdout)}"
            f"\n--- stderr ---\n{clip(cp.stderr)}")


# ---------------------------------------------------------------------------
# ports


def free_port(host: str = LOOPBACK) -> int:
    """A TCP port on `host` that was free a moment ago (bind to port 0, read, close)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((host, 0))
        return s.getsockname()[1]


_handed_out: set = set()  # ports fresh_port() gave out in this process: two must never share one


def fresh_port(host: str = LOOPBACK) -> int:
    """free_port(), but never one already handed out in this process: daemons that are given
    their ports before any of them binds (two listeners each) need distinct ones."""
    for _ in range(50):
        port = free_port(host)
        if port not in _handed_out:
            _handed_out.add(port)
            return port
    raise HarnessError("no fresh loopback port in 50 tries")


def reserve_ports(ports) -> bool:
    """Marks `ports` as handed out unless one already is (for blocks chosen by the caller)."""
    if any(p in _handed_out for p in ports):
        return False
    _handed_out.update(ports)
    return True


def chown_tree(path: Path | str, user: str) -> None:
    """Gives `path` and everything below it to `user` (daemons that drop to their own account)."""
    pw = pwd.getpwnam(user)
    os.chown(path, pw.pw_uid, pw.pw_gid)
    for root, dirs, files in os.walk(path):
        for name in dirs + files:
            os.chown(os.path.join(root, name), pw.pw_uid, pw.pw_gid)


def port_accepts(host: str, port: int, timeout: float = 1.0) -> bool:
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def wait_for_port(host: str, port: int, timeout: float = 15.0, interval: float = 0.05,
                  alive: Optional[Callable[[], bool]] = None) -> None:
    """Poll connect() until (host, port) accepts; bounded by `timeout` and an attempt count.

    `alive`, when given, is asked before every attempt; when it returns False (the
    daemon died) the wait ends at once with HarnessError.
    """
    deadline = time.monotonic() + timeout
    attempts = int(timeout / interval) + 2
    for _ in range(attempts):
        if alive is not None and not alive():
            raise HarnessError(f"process died before {host}:{port} accepted connections")
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            break
        if port_accepts(host, port, timeout=min(1.0, remaining)):
            return
        time.sleep(min(interval, max(0.0, deadline - time.monotonic())))
    raise TimeoutError(f"{host}:{port} did not accept a connection within {timeout:.1f}s")


def read_smtp_reply(f, limit: int = 100) -> tuple[int, list[str]]:
    """Read one (possibly multi-line) SMTP reply from a binary file object."""
    lines = []
    for _ in range(limit):
        raw = f.readline(4096)
        if not raw:
            raise ProtocolError(f"connection closed while reading a reply (got {lines!r})")
        line = raw.decode("utf-8", "replace").rstrip("\r\n")
        lines.append(line)
        if len(line) < 4 or not line[:3].isdigit():
            raise ProtocolError(f"malformed SMTP reply line {line!r}")
        if line[3] != "-":
            return int(line[:3]), lines
    raise ProtocolError(f"SMTP reply longer than {limit} lines")


def smtp_banner(host: str, port: int, *, implicit_tls: bool = False, timeout: float = 5.0) -> str:
    """Connect, read the 220 greeting (after a non-verifying TLS handshake for implicit TLS), QUIT."""
    sock = socket.create_connection((host, port), timeout=timeout)
    try:
        if implicit_tls:
            ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
            ctx.check_hostname = False
            ctx.verify_mode = ssl.CERT_NONE
            sock = ctx.wrap_socket(sock)
        with sock.makefile("rb") as f:
            code, lines = read_smtp_reply(f)
            try:
                sock.sendall(b"QUIT\r\n")
                read_smtp_reply(f)
            except (OSError, ProtocolError):
                pass
        if code != 220:
            raise ProtocolError(f"{host}:{port} greeted with {lines!r}")
        return "\n".join(lines)
    finally:
        sock.close()


# ---------------------------------------------------------------------------
# processes


def _proc_stat(pid: int) -> Optional[tuple[str, int]]:
    """(state, pgid) of a live process, None if gone."""
    try:
        data = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    rest = data[data.rfind(")") + 2:].split()  # after "pid (comm) "
    return rest[0], int(rest[2])


def _proc_cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode("utf-8", "replace").strip()
    except OSError:
        return ""


def _proc_environ(pid: int) -> dict[str, str]:
    try:
        raw = Path(f"/proc/{pid}/environ").read_bytes()
    except OSError:
        return {}
    env = {}
    for item in raw.split(b"\0"):
        k, sep, v = item.partition(b"=")
        if sep:
            env[k.decode("utf-8", "replace")] = v.decode("utf-8", "replace")
    return env


def _all_pids() -> list[int]:
    return [int(p) for p in os.listdir("/proc") if p.isdigit()]


def process_group_members(pgid: int) -> list[int]:
    """Live (non-zombie) processes in process group `pgid`."""
    out = []
    for pid in _all_pids():
        st = _proc_stat(pid)
        if st and st[1] == pgid and st[0] != "Z":
            out.append(pid)
    return out


def _tail(path: Path, lines: int, since: int = 0) -> str:
    """The last `lines` lines of a file, only from byte offset `since` on."""
    try:
        with open(path, "rb") as f:
            f.seek(0, os.SEEK_END)
            size = f.tell()
            f.seek(max(since, size - 64 * 1024, 0))
            data = f.read().decode("utf-8", "replace")
    except OSError as e:
        return f"({e})"
    return "\n".join(data.splitlines()[-lines:])


_WATCHDOG = r"""
import os, signal, sys, time
pid, grace = int(sys.argv[1]), float(sys.argv[2])
def stat(p):
    try:
        d = open(f"/proc/{p}/stat").read()
    except OSError:
        return None
    r = d[d.rfind(")") + 2:].split()
    return r[0], int(r[2]), r[19]  # state, process group, start time
def group():
    out = []
    for p in os.listdir("/proc"):
        s = stat(p) if p.isdigit() else None
        if s and s[1] == pid and s[0] != "Z":
            out.append(int(p))
    return out
first = stat(pid)
if sys.stdin.readline().strip() == "disarm" or first is None:
    sys.exit(0)
now = stat(pid)
if now and now[2] == first[2]:  # still the same process, not a reused PID
    os.kill(pid, signal.SIGTERM)
    end = time.monotonic() + grace
    for _ in range(int(grace / 0.05) + 1):
        if not group() or time.monotonic() > end:
            break
        time.sleep(0.05)
for p in group():
    try:
        os.kill(p, signal.SIGKILL)
    except OSError:
        pass
"""


class Daemon:
    """A daemon the harness starts, owns by PID and stops by that PID.

    Readiness: `ready_port` (host, port) accepting connections, and/or the first
    stdout line matching `ready_regex` (the match is kept in `.match`), then the
    optional `ready_check()` returning True. All bounded by `ready_timeout`.

    The daemon runs in its own session (setsid) so that the process group id equals
    the recorded PID: after the daemon exits, members of that group that outlive a
    grace period are reported in `.survivors` and killed by their PIDs. A small
    watchdog process stops the daemon the same way if the test process dies without
    calling stop() (e.g. killed by a ctest timeout).
    """

    def __init__(self, argv: Sequence[str], *, name: str, logdir: Path | str,
                 env: Optional[dict] = None, cwd: Optional[str] = None,
                 ready_port: Optional[tuple[str, int]] = None, ready_regex: Optional[str] = None,
                 ready_check: Optional[Callable[[], bool]] = None, ready_timeout: float = 20.0,
                 stop_timeout: float = 10.0, extra_logs: Iterable[Path | str] = (),
                 user: Optional[str] = None):
        self.argv = [str(a) for a in argv]
        # run as this user (and its primary group, no supplementary groups) instead of root;
        # for daemons that refuse to run as root or must not (INN runs as "news")
        self.user = user
        self.name = name
        self.logdir = Path(logdir)
        self.env = env
        self.cwd = cwd
        self.ready_port = ready_port
        self.ready_regex = re.compile(ready_regex) if ready_regex else None
        self.ready_check = ready_check
        self.ready_timeout = ready_timeout
        self.stop_timeout = stop_timeout
        self.stdout_log = self.logdir / f"{name}.stdout.log"
        self.stderr_log = self.logdir / f"{name}.stderr.log"
        self.extra_logs = [Path(p) for p in extra_logs]
        self.proc: Optional[subprocess.Popen] = None
        self.pid: Optional[int] = None
        self.match: Optional[re.Match] = None
        self.returncode: Optional[int] = None
        self.survivors: list[tuple[int, str]] = []
        self.killed = False
        self._matched = threading.Event()
        self._reader: Optional[threading.Thread] = None
        self._files = []
        self._final_tail: Optional[str] = None
        self._watchdog: Optional[subprocess.Popen] = None
        self._watchdog_w: Optional[int] = None
        self.early_exit_hint = ""

    # -- lifecycle

    def start(self) -> "Daemon":
        if self.proc is not None:
            raise HarnessError(f"{self.name} already started")
        self.logdir.mkdir(parents=True, exist_ok=True)
        err = open(self.stderr_log, "wb")
        self._files.append(err)
        if self.ready_regex is not None:
            stdout = subprocess.PIPE
        else:
            stdout = open(self.stdout_log, "wb")
            self._files.append(stdout)
        identity = {}
        if self.user is not None:
            pw = pwd.getpwnam(self.user)
            identity = {"user": pw.pw_uid, "group": pw.pw_gid, "extra_groups": []}
        self.proc = subprocess.Popen(self.argv, stdin=subprocess.DEVNULL, stdout=stdout, stderr=err,
                                     env=self.env, cwd=self.cwd, start_new_session=True, **identity)
        self.pid = self.proc.pid
        self._start_watchdog()
        if self.ready_regex is not None:
            self._reader = threading.Thread(target=self._read_stdout, name=f"{self.name}-stdout", daemon=True)
            self._reader.start()
        try:
            self._wait_ready()
        except BaseException:
            self.stop()
            raise
        return self

    def _start_watchdog(self) -> None:
        # The daemon runs in its own session, so nothing would stop it if this test process
        # died (e.g. killed by a ctest timeout). A watchdog in its own session holds the read
        # end of a pipe; EOF without "disarm" means we died: it stops the daemon by PID.
        # (PR_SET_PDEATHSIG is no help: Postfix's master changes its euid, which clears it.)
        r, w = os.pipe()
        try:
            self._watchdog = subprocess.Popen(
                [sys.executable, "-B", "-c", _WATCHDOG, str(self.pid), str(self.stop_timeout)],
                stdin=r, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
        finally:
            os.close(r)
        self._watchdog_w = w

    def _disarm_watchdog(self) -> None:
        w, self._watchdog_w = self._watchdog_w, None
        if w is not None:
            try:
                os.write(w, b"disarm\n")
            except OSError:
                pass
            os.close(w)
        wd, self._watchdog = self._watchdog, None
        if wd is not None:
            try:
                wd.wait(timeout=10)
            except subprocess.TimeoutExpired:
                wd.kill()
                wd.wait(timeout=5)

    def _read_stdout(self) -> None:
        with open(self.stdout_log, "wb") as log:
            for raw in self.proc.stdout:  # ends at EOF, i.e. when the daemon exits
                log.write(raw)
                log.flush()
                if not self._matched.is_set():
                    m = self.ready_regex.search(raw.decode("utf-8", "replace").rstrip("\r\n"))
                    if m:
                        self.match = m
                        self._matched.set()

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def _wait_ready(self) -> None:
        deadline = time.monotonic() + self.ready_timeout
        interval = 0.05
        for _ in range(int(self.ready_timeout / interval) + 2):
            if not self.alive():
                raise HarnessError(f"{self.name} exited with status {self.proc.returncode} before it was ready"
                                   + self.early_exit_hint + self.tail_text())
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                break
            if self.ready_regex is not None and not self._matched.is_set():
                self._matched.wait(min(interval, remaining))
                continue
            if self.ready_port is not None and not port_accepts(*self.ready_port, timeout=min(1.0, remaining)):
                time.sleep(min(interval, max(0.0, deadline - time.monotonic())))
                continue
            if self.ready_check is not None:
                try:
                    ok = self.ready_check()
                except (OSError, ssl.SSLError, ProtocolError):
                    ok = False  # not listening or not talking yet: poll again
                if not ok:
                    time.sleep(min(interval, max(0.0, deadline - time.monotonic())))
                    continue
            return
        raise HarnessError(f"{self.name} was not ready within {self.ready_timeout:.1f}s" + self.tail_text())

    def stop(self) -> list[tuple[int, str]]:
        """SIGTERM the recorded PID, wait (bounded), SIGKILL if needed; then reap its process group.

        Returns (and keeps in .survivors) the group members that outlived the daemon by
        more than the grace period; they have been killed by PID.
        """
        if self.proc is None:
            return []
        self._disarm_watchdog()
        if self.proc.poll() is None:
            try:
                os.kill(self.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
            try:
                self.proc.wait(timeout=self.stop_timeout)
            except subprocess.TimeoutExpired:
                self.killed = True
                try:
                    os.kill(self.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
                self.proc.wait(timeout=10)
        self.returncode = self.proc.returncode
        self.survivors = self._reap_group()
        if self._reader is not None:
            self._reader.join(timeout=5)
        for f in self._files:
            f.close()
        self._files = []
        if self.proc.stdout is not None:
            self.proc.stdout.close()
        self._final_tail = self.tail_text()
        return self.survivors

    def _reap_group(self) -> list[tuple[int, str]]:
        # The daemon is gone; its children normally follow within moments (Postfix's
        # master SIGTERMs its process group). Wait a bounded time, then kill by PID.
        grace = min(self.stop_timeout, 5.0)
        deadline = time.monotonic() + grace
        members = process_group_members(self.pid)
        for _ in range(int(grace / 0.05) + 1):
            if not members or time.monotonic() >= deadline:
                break
            time.sleep(0.05)
            members = process_group_members(self.pid)
        survivors = [(pid, _proc_cmdline(pid)) for pid in members]
        for pid, _ in survivors:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        for _ in range(100):  # at most ~5 s
            if not process_group_members(self.pid):
                break
            time.sleep(0.05)
        return survivors

    def __enter__(self) -> "Daemon":
        return self.start()

    def __exit__(self, exc_type, exc, tb) -> None:
        self.stop()
        if exc_type is not None and not issubclass(exc_type, unittest.SkipTest):
            sys.stderr.write(self.tail_text() + "\n")

    # -- logs

    def log_paths(self) -> list[Path]:
        return [self.stdout_log, self.stderr_log, *self.extra_logs]

    def log_sizes(self) -> dict[Path, int]:
        """Current size of each log, to show later only what was logged after this point."""
        return {p: (p.stat().st_size if p.exists() else 0) for p in self.log_paths()}

    def tail_text(self, lines: int = 40, since: Optional[dict] = None) -> str:
        if self._final_tail is not None and not all(p.exists() for p in self.log_paths()):
            return self._final_tail
        parts = []
        for p in self.log_paths():
            start = (since or {}).get(p, 0)
            if p.exists() and p.stat().st_size > start:
                what = f"last {lines} lines" + (" logged during the test" if start else "")
                parts.append(f"\n----- {self.name}: {what} of {p} -----\n{_tail(p, lines, start)}")
        return "".join(parts) or f"\n----- {self.name}: no new log output -----"


# ---------------------------------------------------------------------------
# test CA (wraps otls_testca)


@dataclasses.dataclass(frozen=True)
class Leaf:
    cert: Path
    key: Path
    names: tuple[str, ...]
    key_type: str  # "ecdsa" | "rsa"
    expired: bool = False

    def pem_certs(self) -> list[str]:
        text = self.cert.read_text()
        return re.findall(r"-----BEGIN CERTIFICATE-----.*?-----END CERTIFICATE-----", text, re.S)

    def der(self) -> bytes:
        return ssl.PEM_cert_to_DER_cert(self.pem_certs()[0])

    def sha256_fingerprint(self) -> bytes:
        return hashlib.sha256(self.der()).digest()

    def spki_sha256(self) -> bytes:
        pub = run(["openssl", "x509", "-in", self.cert, "-noout", "-pubkey"], timeout=30)
        if pub.returncode != 0:
            raise HarnessError("openssl x509 -pubkey failed" + describe(pub))
        der = run(["openssl", "pkey", "-pubin", "-outform", "DER"], input=pub.stdout.encode(),
                  timeout=30, text=False)
        if der.returncode != 0:
            raise HarnessError("openssl pkey -pubin failed" + describe(der))
        return hashlib.sha256(der.stdout).digest()


def digest_bytes(value: str) -> Optional[bytes]:
    """A 32-byte digest written as hex (any case, optional ':' separators) or base64."""
    if not isinstance(value, str):
        return None
    h = value.replace(":", "").strip()
    if re.fullmatch(r"[0-9A-Fa-f]{64}", h):
        return bytes.fromhex(h)
    try:
        b = base64.b64decode(value, validate=True)
        return b if len(b) == 32 else None
    except (ValueError, TypeError):
        return None


class TestCA:
    """A throw-away CA made by otls_testca (`$OTLS_TESTCA`), the one test-CA maker."""

    __test__ = False  # not a unittest/pytest test class

    def __init__(self, directory: Path | str, key: str = "ecdsa", tool: Optional[str] = None):
        self.tool = tool or require_env("OTLS_TESTCA")
        self.dir = Path(directory)
        self.dir.mkdir(parents=True, exist_ok=True)
        self._count = 0
        cp = run([self.tool, "ca", "--out", self.dir, "--key", key], timeout=60)
        if cp.returncode != 0:
            raise HarnessError("otls_testca ca failed" + describe(cp))
        self.pem = self.dir / "ca.pem"
        self.key = self.dir / "ca.key"
        for p in (self.pem, self.key):
            if not p.is_file() or p.stat().st_size == 0:
                raise HarnessError(f"otls_testca ca did not write {p}" + describe(cp))

    def leaf(self, *names: str, key: str = "ecdsa", expired: bool = False, prefix: Optional[str] = None) -> Leaf:
        if not names:
            raise ValueError("a leaf needs at least one name")
        self._count += 1
        stem = prefix or f"leaf{self._count}-{key}{'-expired' if expired else ''}"
        out = self.dir / stem
        argv = [self.tool, "leaf", "--ca", self.dir, "--out", out, "--key", key]
        for n in names:
            argv += ["--name", n]
        if expired:
            argv.append("--expired")
        cp = run(argv, timeout=60)
        if cp.returncode != 0:
            raise HarnessError("otls_testca leaf failed" + describe(cp))
        leaf = Leaf(cert=Path(f"{out}.crt"), key=Path(f"{out}.key"), names=tuple(names), key_type=key,
                    expired=expired)
        for p in (leaf.cert, leaf.key):
            if not p.is_file() or p.stat().st_size == 0:
                raise HarnessError(f"otls_testca leaf did not write {p}" + describe(cp))
        return leaf


# ---------------------------------------------------------------------------
# Postfix


@dataclasses.dataclass
class Listener:
    """One smtpd listener of a private Postfix instance (one port on 127.0.0.1, or on `address`).

    level: smtpd_tls_security_level: "may" (STARTTLS offered), "encrypt" (STARTTLS
    required), "none" (STARTTLS not offered). wrapper: implicit TLS (smtps, port 465
    style; level is then forced to "encrypt"). leafs: certificates served (an ECDSA
    and an RSA leaf may be combined). tls_protocols: smtpd_tls_protocols, e.g.
    ">=TLSv1.2, <=TLSv1.2". refuse_starttls: STARTTLS is advertised but the command
    is rewritten by smtpd_command_filter, so Postfix answers "500 5.5.2 Error:
    command not recognized". address: the loopback address to bind (DANE tests give each
    MX host its own 127.0.x.y). fixed_port: bind this port (e.g. 25, as root) instead of
    a free high port; a taken fixed port is not retried with another one.
    """
    name: str
    leafs: Sequence[Leaf] = ()
    level: str = "may"
    wrapper: bool = False
    tls_protocols: Optional[str] = None
    refuse_starttls: bool = False
    hostname: Optional[str] = None  # myhostname for this listener (banner, EHLO)
    address: str = LOOPBACK
    fixed_port: int = 0
    port: int = 0
    token: str = ""

    @property
    def syslog_name(self) -> str:
        return f"postfix-{self.name}"


def _safe_token(s: str) -> str:
    if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_.-]*", s):
        raise ValueError(f"unsafe name {s!r}")
    return s


def default_postfix_state() -> dict:
    """A fingerprint of the system's default Postfix instance: PIDs of master processes
    that serve /etc/postfix, and (name, mtime, size) of its config and pid files (and of
    /var/lib/postfix unless a default master is running and legitimately writing there).
    Compare before and after a test to prove the default instance was neither touched
    nor started."""
    masters = []
    for pid in _all_pids():
        cmd = _proc_cmdline(pid).split()
        if not cmd or not (cmd[0].endswith("/master") or cmd[0] == "master"):
            continue
        conf = _proc_environ(pid).get("MAIL_CONFIG")
        if "-c" in cmd and cmd.index("-c") + 1 < len(cmd):
            conf = cmd[cmd.index("-c") + 1]
        if conf in (None, "/etc/postfix", "/etc/postfix/"):
            masters.append(pid)
    roots = [Path("/etc/postfix"), Path("/var/spool/postfix/pid")]
    if not masters:
        roots.append(Path("/var/lib/postfix"))
    files = {}
    for root in roots:
        if not root.exists():
            continue
        for p in sorted(root.rglob("*")):
            try:
                st = p.lstat()
            except OSError:
                continue
            files[str(p)] = (st.st_mtime_ns, st.st_size)
    return {"files": files, "default_masters": sorted(masters)}


class _Instance:
    """A private daemon instance made of harness-owned Daemons: context management and the
    logs shown when a test fails are the same for Postfix, Dovecot and INN."""

    def running_daemons(self) -> list["Daemon"]:
        raise NotImplementedError

    def __enter__(self):
        return self.start()

    def __exit__(self, exc_type, exc, tb) -> None:
        self.stop()
        if exc_type is not None:
            sys.stderr.write(self.tail_text() + "\n")

    def tail_text(self, lines: int = 60, since: Optional[dict] = None) -> str:
        return "".join(d.tail_text(lines, since) for d in self.running_daemons())

    def log_sizes(self) -> dict:
        sizes = {}
        for d in self.running_daemons():
            sizes.update(d.log_sizes())
        return sizes


class Postfix(_Instance):
    """A private Postfix instance run as `master -c CONFDIR -d` with the harness owning its PID.

    Layout under `workdir`: conf/ (main.cf, master.cf), q/ (queue_directory, created
    with the ownership and modes of Debian's /etc/postfix/postfix-files; short because
    master and postlogd use q/public/postlog by absolute path, limited to 107 bytes),
    data/ (data_directory), log/postfix.log (maillog_file, written by postlogd).
    Nothing under /etc/postfix, /var/spool/postfix or /var/lib/postfix is used for
    configuration or written; postfix(1), postfix-script and post-install are not
    used, so /etc/postfix/main.cf needs no alternate_config_directories entry.
    master.cf holds the smtpd listeners plus the services smtpd needs (tlsmgr, anvil,
    trivial-rewrite, proxymap, cleanup, qmgr, bounce, discard, error, postlogd);
    everything runs unchrooted. Mail accepted from 127.0.0.0/8 is discarded.

    Stop: SIGTERM to master's PID; master SIGTERMs its process group (the harness
    starts it with setsid, so that group is exactly this instance).

    Must run as root (master starts smtpd as root to bind and load keys, then drops
    to mail_owner=postfix).
    """

    def __init__(self, workdir: Path | str, listeners: Sequence[Listener], *, hostname: str = "mx.test",
                 ready_timeout: float = 30.0, stop_timeout: float = 15.0, extra_main: Optional[dict] = None):
        if os.geteuid() != 0:
            raise HarnessError("a private Postfix instance needs root (master binds, loads keys, then drops "
                               "privileges to mail_owner=postfix); run the interop tests as root")
        if not POSTFIX_MASTER.exists():
            raise HarnessError(f"{POSTFIX_MASTER} not found: install Debian package 'postfix'")
        if not listeners:
            raise ValueError("Postfix needs at least one listener")
        names = [_safe_token(l.name) for l in listeners]
        if len(set(names)) != len(names):
            raise ValueError("listener names must be unique")
        self.workdir = Path(workdir).resolve()
        for forbidden in DEFAULT_POSTFIX_PATHS:
            if self.workdir == forbidden or forbidden in self.workdir.parents:
                raise HarnessError(f"refusing to use {self.workdir}: inside the default instance's {forbidden}")
        self.listeners = {l.name: l for l in listeners}
        self.hostname = hostname
        self.ready_timeout = ready_timeout
        self.stop_timeout = stop_timeout
        self.extra_main = dict(extra_main or {})
        self.confdir = self.workdir / "conf"
        self.queuedir = self.workdir / "q"
        # master and postlogd talk over queue/public/postlog by absolute path; a longer
        # path makes master die at once, logging why only to syslog (/dev/log).
        longest = self.queuedir / "public" / "postlog"
        if len(str(longest).encode()) > 100:
            raise HarnessError(f"work directory too deep for a unix socket path: {longest} "
                               f"({len(str(longest).encode())} bytes > 100); use a shorter TMPDIR")
        self.datadir = self.workdir / "data"
        self.logdir = self.workdir / "log"
        self.maillog = self.logdir / "postfix.log"
        self.token = secrets.token_hex(6)
        self.daemon: Optional[Daemon] = None
        self.survivors: list[tuple[int, str]] = []

    # -- public API

    def port(self, name: str) -> int:
        return self.listeners[name].port

    def listener(self, name: str) -> Listener:
        return self.listeners[name]

    @property
    def pid(self) -> Optional[int]:
        return self.daemon.pid if self.daemon else None

    def start(self, attempts: int = 3) -> "Postfix":
        """Write the instance and start master; retries with fresh ports if a port was taken."""
        last = None
        for attempt in range(attempts):
            for l in self.listeners.values():
                l.port = l.fixed_port or free_port(l.address)
                l.token = f"otls-interop-{self.token}-{l.name}"
            self._write_instance()
            self._preflight()
            self.daemon = Daemon([POSTFIX_MASTER, "-c", self.confdir, "-d"], name="postfix-master",
                                 logdir=self.logdir, env=self._env(), cwd=str(self.workdir),
                                 ready_check=self._ready, ready_timeout=self.ready_timeout,
                                 stop_timeout=self.stop_timeout,
                                 extra_logs=[self.logdir / "postconf.log", self.maillog])
            self.daemon.early_exit_hint = (
                "\n(Postfix's master logs errors before postlogd runs only to syslog via /dev/log; if the "
                f"logs below say nothing, run: strace -f -e trace=connect,sendto {POSTFIX_MASTER} -c "
                f"{self.confdir} -d)")
            try:
                self.daemon.start()
                return self
            except HarnessError as e:
                last = e
                self.survivors += self.daemon.survivors
                port_taken = isinstance(e, ForeignPort) or "Address already in use" in self.daemon.tail_text(200)
                if not port_taken or all(l.fixed_port for l in self.listeners.values()):
                    raise  # fixed ports would only be taken again
        raise HarnessError(f"Postfix did not start after {attempts} attempts: {last}")

    def stop(self) -> list[tuple[int, str]]:
        """Stop master by PID; returns leftover processes (group members or processes of this
        instance by MAIL_CONFIG) that had to be killed; empty when Postfix shut down cleanly."""
        if self.daemon is None:
            return []
        self.survivors += self.daemon.stop()
        self.survivors += kill_by_pid(self.instance_processes())
        return self.survivors

    def instance_processes(self) -> list[tuple[int, str]]:
        """Live processes that belong to this instance (by MAIL_CONFIG or master's -c argument)."""
        conf = str(self.confdir)
        return processes_where(
            lambda pid, cmd: _proc_environ(pid).get("MAIL_CONFIG") == conf or f"-c {conf}" in cmd)

    def running_daemons(self) -> list[Daemon]:
        return [self.daemon] if self.daemon else []

    def log_offset(self) -> int:
        try:
            return self.maillog.stat().st_size
        except OSError:
            return 0

    def wait_for_log(self, regex: str, *, since: int = 0, timeout: float = 10.0) -> re.Match:
        """Wait (bounded) for a maillog line after byte offset `since` matching `regex`."""
        pattern = re.compile(regex)
        deadline = time.monotonic() + timeout
        for _ in range(int(timeout / 0.05) + 2):
            try:
                with open(self.maillog, "rb") as f:
                    f.seek(since)
                    text = f.read().decode("utf-8", "replace")
            except OSError:
                text = ""
            for line in text.splitlines():
                m = pattern.search(line)
                if m:
                    return m
            if time.monotonic() >= deadline:
                break
            time.sleep(0.05)
        raise AssertionError(f"no Postfix log line matching {regex!r} within {timeout}s; new log:\n"
                             + (text[-4000:] if text else "(empty)"))

    # -- instance files

    def _preflight(self) -> None:
        """postconf parses both files and reports unknown or malformed settings on stderr."""
        out = []
        for flags in (["-n"], ["-M"]):
            cp = run(["postconf", "-c", self.confdir, *flags], timeout=30, env=self._env())
            out.append(cp.stderr)
            if cp.returncode != 0:
                raise HarnessError("postconf rejects the generated configuration" + describe(cp))
        (self.logdir / "postconf.log").write_text("".join(out))

    def _env(self) -> dict:
        return {"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "LANG": "C", "TZ": "UTC", "MAIL_CONFIG": str(self.confdir)}

    def _ready(self) -> bool:
        for l in self.listeners.values():
            banner = smtp_banner(l.address, l.port, implicit_tls=l.wrapper, timeout=5.0)
            if l.token not in banner:
                raise ForeignPort(f"port {l.port} answered with someone else's banner: {banner!r}")
        return True

    def _write_instance(self) -> None:
        pf = pwd.getpwnam("postfix")
        postdrop = grp.getgrnam("postdrop").gr_gid
        if self.queuedir.exists():  # a retry: start from scratch
            shutil.rmtree(self.queuedir)
            shutil.rmtree(self.datadir, ignore_errors=True)
        for d in (self.workdir, self.confdir, self.logdir):
            d.mkdir(parents=True, exist_ok=True)
            os.chmod(d, 0o755)
        # Unprivileged daemons (tlsmgr as user postfix) open absolute paths under
        # data_directory: every ancestor needs search permission for others.
        for parent in self.workdir.parents:
            if parent.stat().st_mode & 0o001 == 0:
                raise HarnessError(f"{parent} is not searchable by user postfix (mode "
                                   f"{parent.stat().st_mode & 0o7777:o}); use harness.make_workdir()")
        # queue_directory as in Debian's /etc/postfix/postfix-files
        self.queuedir.mkdir(mode=0o755)
        os.chmod(self.queuedir, 0o755)
        for sub in ("active", "bounce", "corrupt", "defer", "deferred", "flush", "hold", "incoming",
                    "private", "saved", "trace"):
            p = self.queuedir / sub
            p.mkdir()
            os.chown(p, pf.pw_uid, -1)
            os.chmod(p, 0o700)
        for sub, mode in (("maildrop", 0o1730), ("public", 0o2710)):
            p = self.queuedir / sub
            p.mkdir()
            os.chown(p, pf.pw_uid, postdrop)
            os.chmod(p, mode)
        (self.queuedir / "pid").mkdir()
        os.chmod(self.queuedir / "pid", 0o755)
        self.datadir.mkdir(exist_ok=True)
        os.chown(self.datadir, pf.pw_uid, -1)
        os.chmod(self.datadir, 0o700)
        (self.confdir / "main.cf").write_text(self._main_cf())
        (self.confdir / "master.cf").write_text(self._master_cf())
        (self.confdir / "refuse_starttls.regexp").write_text("/^STARTTLS$/ XSTARTTLS-REFUSED-BY-TEST\n")

    def _main_cf(self) -> str:
        main = {
            "compatibility_level": "3.7",
            "queue_directory": str(self.queuedir),
            "data_directory": str(self.datadir),
            "mail_owner": "postfix",
            "setgid_group": "postdrop",
            "myhostname": self.hostname,
            "mydomain": "test",
            "myorigin": "$myhostname",
            "mydestination": "",
            "relay_domains": "",
            "mynetworks": "127.0.0.0/8",
            # not the listeners' own addresses: Postfix accepts only interface addresses here
            # ("no local interface found for 127.0.2.1"), while a master.cf entry may bind any
            # address routed to lo (all of 127.0.0.0/8)
            "inet_interfaces": LOOPBACK,
            "inet_protocols": "ipv4",
            "smtp_bind_address": LOOPBACK,
            "alias_maps": "",
            "alias_database": "",
            "local_recipient_maps": "",
            "default_transport": "discard",
            "relay_transport": "discard",
            "local_transport": "discard",
            "biff": "no",
            "maillog_file": str(self.maillog),
            "maillog_file_prefixes": str(self.workdir),
            "smtpd_client_port_logging": "yes",
            "smtpd_tls_loglevel": "1",
            "smtpd_tls_session_cache_database": "",
            "smtpd_tls_security_level": "none",
            "smtpd_banner": f"$myhostname ESMTP otls-interop-{self.token}",
        }
        main.update(self.extra_main)
        lines = ["# private Postfix instance written by tests/interop/harness.py; not the system's"]
        lines += [f"{k} = {v}" for k, v in main.items()]
        return "\n".join(lines) + "\n"

    def _master_cf(self) -> str:
        lines = ["# private Postfix instance written by tests/interop/harness.py",
                 "# service type private unpriv chroot wakeup maxproc command"]
        for l in self.listeners.values():
            opts = {"syslog_name": l.syslog_name,
                    "smtpd_banner": f"$myhostname ESMTP {l.token}"}
            if l.hostname:
                opts["myhostname"] = l.hostname
            if l.wrapper:
                opts["smtpd_tls_wrappermode"] = "yes"
                opts["smtpd_tls_security_level"] = "encrypt"
            else:
                if l.level not in ("none", "may", "encrypt"):
                    raise ValueError(f"listener {l.name}: level must be none, may or encrypt")
                opts["smtpd_tls_security_level"] = l.level
            if l.leafs:
                files = []
                for leaf in l.leafs:
                    files += [str(leaf.key), str(leaf.cert)]
                opts["smtpd_tls_chain_files"] = ", ".join(files)
            elif l.wrapper or l.level != "none":
                raise ValueError(f"listener {l.name}: TLS needs at least one leaf certificate")
            if l.tls_protocols:
                opts["smtpd_tls_protocols"] = l.tls_protocols
                opts["smtpd_tls_mandatory_protocols"] = l.tls_protocols
            if l.refuse_starttls:
                opts["smtpd_command_filter"] = f"regexp:{self.confdir / 'refuse_starttls.regexp'}"
            for v in opts.values():
                if "}" in v or "\n" in v:
                    raise ValueError(f"unsupported master.cf value {v!r}")
            args = " ".join(f"-o {{ {k} = {v} }}" for k, v in opts.items())
            lines.append(f"{l.address}:{l.port} inet n - n - - smtpd {args}")
        lines += [
            "tlsmgr    unix  -       -       n       1000?   1       tlsmgr",
            "anvil     unix  -       -       n       -       1       anvil",
            "rewrite   unix  -       -       n       -       -       trivial-rewrite",
            "proxymap  unix  -       -       n       -       -       proxymap",
            "cleanup   unix  n       -       n       -       0       cleanup",
            "qmgr      unix  n       -       n       300     1       qmgr",
            "bounce    unix  -       -       n       -       0       bounce",
            "defer     unix  -       -       n       -       0       bounce",
            "trace     unix  -       -       n       -       0       bounce",
            "discard   unix  -       -       n       -       -       discard",
            "error     unix  -       -       n       -       -       error",
            "retry     unix  -       -       n       -       -       error",
            "postlog   unix-dgram n  -       n       -       1       postlogd",
        ]
        return "\n".join(lines) + "\n"


# ---------------------------------------------------------------------------
# mail and news daemons: shared helpers

# Daemons that trust clients connecting from their own address listen here, so that the
# clients' source address (127.0.0.1, the kernel's choice for all of 127.0.0.0/8 on lo)
# differs from the server's: Dovecot treats a client whose address equals its own as
# secured, then allows plaintext LOGIN and omits LOGINDISABLED.
SERVER_LOOPBACK = "127.0.0.2"

# the command that ends a session politely, per greeting kind
_GOODBYE = {"imap": b"Z LOGOUT\r\n", "pop3": b"QUIT\r\n", "sieve": b"LOGOUT\r\n", "nntp": b"QUIT\r\n",
            "smtp": b"QUIT\r\n", "lmtp": b"QUIT\r\n"}


def source_address_for(host: str) -> str:
    """The source address the kernel picks for a TCP connection to `host` (a UDP connect()
    asks the routing table and sends nothing)."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.connect((host, 9))
        return s.getsockname()[0]


def port_is_taken(host: str, port: int) -> bool:
    """True if somebody listens on (host, port) right now: our bind fails with EADDRINUSE even
    with SO_REUSEADDR (which ignores connections of a dead daemon left in TIME_WAIT)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind((host, port))
        except OSError as e:
            return e.errno == errno.EADDRINUSE
    return False


def read_line(f, limit: int = 8192) -> str:
    """One CRLF- (or LF-) terminated line from a binary file object, without the line end."""
    raw = f.readline(limit)
    if not raw:
        raise ProtocolError("connection closed while reading a line")
    if not raw.endswith(b"\n"):
        raise ProtocolError(f"line longer than {limit} bytes or cut off: {raw[:200]!r}")
    return raw.decode("utf-8", "replace").rstrip("\r\n")


def read_lines_until(f, final: Callable[[str], bool], limit: int = 200) -> list[str]:
    """Lines up to and including the first for which final(line) is true (bounded)."""
    lines = []
    for _ in range(limit):
        lines.append(read_line(f))
        if final(lines[-1]):
            return lines
    raise ProtocolError(f"no final line within {limit} lines (last: {lines[-5:]!r})")


def sieve_final(line: str) -> bool:
    """The end of a ManageSieve response: OK, NO or BYE (RFC 5804 §4)."""
    return re.match(r"(?i)(OK|NO|BYE)(\s|$)", line) is not None


def service_greeting(host: str, port: int, protocol: str, *, implicit_tls: bool = False,
                     timeout: float = 5.0) -> str:
    """Connect, read the greeting (after a non-verifying TLS handshake for implicit TLS) and
    say goodbye. protocol: imap, pop3, sieve, nntp, smtp or lmtp. Returns the greeting's lines
    joined by newlines; ProtocolError if it is not a positive greeting of that protocol."""
    if protocol not in _GOODBYE:
        raise ValueError(f"unknown greeting kind {protocol!r}")
    sock = socket.create_connection((host, port), timeout=timeout)
    try:
        if implicit_tls:
            ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
            ctx.check_hostname = False
            ctx.verify_mode = ssl.CERT_NONE
            sock = ctx.wrap_socket(sock)
        with sock.makefile("rb") as f:
            if protocol in ("smtp", "lmtp"):
                code, lines = read_smtp_reply(f)
                ok = code == 220
            elif protocol == "sieve":
                lines = read_lines_until(f, sieve_final)
                ok = lines[-1][:2].upper() == "OK"
            else:
                lines = [read_line(f)]
                ok = {"imap": lines[0].startswith(("* OK", "* PREAUTH")),
                      "pop3": lines[0].startswith("+OK"),
                      "nntp": lines[0][:4] in ("200 ", "201 ")}[protocol]
            try:
                sock.sendall(_GOODBYE[protocol])
            except OSError:
                pass
        if not ok:
            raise ProtocolError(f"{host}:{port} greeted with {lines!r}")
        return "\n".join(lines)
    finally:
        sock.close()


def wait_for_line(path: Path | str, regex: str, *, since: int = 0, timeout: float = 10.0,
                  what: str = "log") -> re.Match:
    """Wait (bounded) for a line of file `path` after byte offset `since` matching `regex`."""
    pattern = re.compile(regex)
    deadline = time.monotonic() + timeout
    text = ""
    for _ in range(int(timeout / 0.05) + 2):
        try:
            with open(path, "rb") as f:
                f.seek(since)
                text = f.read().decode("utf-8", "replace")
        except OSError:
            text = ""
        for line in text.splitlines():
            m = pattern.search(line)
            if m:
                return m
        if time.monotonic() >= deadline:
            break
        time.sleep(0.05)
    raise AssertionError(f"no {what} line matching {regex!r} within {timeout}s; new lines:\n"
                         + (text[-4000:] if text else "(none)"))


def file_offset(path: Path | str) -> int:
    try:
        return Path(path).stat().st_size
    except OSError:
        return 0


def tree_state(roots: Iterable[Path | str]) -> dict[str, tuple[int, int]]:
    """(mtime_ns, size) of every file under `roots`: compare before and after a test to prove
    that a system configuration directory (/etc/dovecot, /etc/news) was not touched."""
    files = {}
    for root in map(Path, roots):
        if not root.exists():
            continue
        for p in sorted([root, *root.rglob("*")]):
            try:
                st = p.lstat()
            except OSError:
                continue
            files[str(p)] = (st.st_mtime_ns, st.st_size)
    return files


def processes_where(predicate: Callable[[int, str], bool]) -> list[tuple[int, str]]:
    """Live processes (not this one) for which predicate(pid, command line) holds."""
    out = []
    for pid in _all_pids():
        if pid == os.getpid():
            continue
        st = _proc_stat(pid)
        if st is None or st[0] == "Z":
            continue
        cmd = _proc_cmdline(pid)
        if predicate(pid, cmd):
            out.append((pid, cmd))
    return out


def processes_matching(needle: str) -> list[tuple[int, str]]:
    """Live processes (not this one) whose command line contains `needle`."""
    return processes_where(lambda _pid, cmd: needle in cmd)


def kill_by_pid(processes: list[tuple[int, str]]) -> list[tuple[int, str]]:
    """SIGKILL each (pid, command) by its PID; returns the list for the caller's record."""
    for pid, _ in processes:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    return processes


def _check_short_socket_dir(d: Path, longest_name: str) -> None:
    longest = d / longest_name
    if len(str(longest).encode()) > 100:
        raise HarnessError(f"work directory too deep for a unix socket path: {longest} "
                           f"({len(str(longest).encode())} bytes > 100); use a shorter TMPDIR")


# ---------------------------------------------------------------------------
# Dovecot

DOVECOT_BIN = Path("/usr/sbin/dovecot")
DOVECONF_BIN = Path("/usr/bin/doveconf")
DEFAULT_DOVECOT_PATHS = (Path("/etc/dovecot"), Path("/run/dovecot"), Path("/var/lib/dovecot"))


@dataclasses.dataclass(frozen=True)
class DovecotService:
    """One inet_listener of a private Dovecot: `name` is the listener's name in dovecot.conf,
    `protocol` Dovecot's protocol (and the greeting kind), `service` the service holding it."""
    name: str
    protocol: str
    service: str
    implicit_tls: bool


DOVECOT_SERVICES = {s.name: s for s in (
    DovecotService("imap", "imap", "imap-login", False),    # STARTTLS
    DovecotService("imaps", "imap", "imap-login", True),
    DovecotService("pop3", "pop3", "pop3-login", False),    # STLS
    DovecotService("pop3s", "pop3", "pop3-login", True),
    DovecotService("sieve", "sieve", "managesieve-login", False),  # STARTTLS
    DovecotService("lmtp", "lmtp", "lmtp", False),          # STARTTLS
)}


class Dovecot(_Instance):
    """A private Dovecot 2.3 instance run as `dovecot -F -c CONF`; the harness owns its PID.

    Layout under `workdir`: dovecot.conf (nothing is included from /etc/dovecot), users
    (passwd-file passdb and userdb with one user, password in .password), run/ (base_dir:
    the master, config, auth and login sockets), state/ (state_dir), home/USER (mail, owned
    by nobody), log/dovecot.log (log_path, info_log_path; the login processes log each
    session with rip/rport/lip/lport and the TLS version and cipher, see session()).

    Listeners (DOVECOT_SERVICES, choose with `services`) bind `address`, by default
    127.0.0.2, on high ports; the clients' source address is then 127.0.0.1, so Dovecot does
    not treat them as secured (login_trusted_networks stays empty): before TLS it offers
    STARTTLS and LOGINDISABLED and refuses plaintext LOGIN. Built-in default listeners
    (143, 993, 110, 995, 4190) are overridden or disabled with port 0, never bound.

    ssl: "yes" (STARTTLS offered, not required), "required" (no authentication at all
    without TLS) or "no" (no STARTTLS; STARTTLS listeners only). disable_plaintext_auth:
    Dovecot's setting (default yes; no gives AUTH=PLAIN and no LOGINDISABLED before TLS).

    Stop: SIGTERM to the master's PID (it stops its children); then processes of this
    instance (titles "dovecot-otls-TOKEN/...", or the -c CONF argument) that outlived it
    are killed by PID and reported. Must run as root (the master binds, starts the login
    processes as dovenull and the auth process as dovecot).
    """

    def __init__(self, workdir: Path | str, leaf: Optional[Leaf], *,
                 services: Iterable[str] = tuple(DOVECOT_SERVICES), hostname: str = "mail.test",
                 address: str = SERVER_LOOPBACK, ssl: str = "yes", disable_plaintext_auth: bool = True,
                 user: str = "otlsuser", ready_timeout: float = 30.0, stop_timeout: float = 15.0,
                 extra_conf: Optional[dict] = None, name: str = "dovecot"):
        if os.geteuid() != 0:
            raise HarnessError("a private Dovecot needs root (the master binds and starts login processes as "
                               "dovenull); run the interop tests as root")
        for binary in (DOVECOT_BIN, DOVECONF_BIN):
            if not binary.exists():
                raise HarnessError(f"{binary} not found: install Debian packages dovecot-imapd dovecot-pop3d "
                                   "dovecot-managesieved dovecot-lmtpd")
        self.services = {n: DOVECOT_SERVICES[n] for n in services}  # KeyError: unknown service
        if not self.services:
            raise ValueError("Dovecot needs at least one service")
        if ssl not in ("yes", "required", "no"):
            raise ValueError("ssl must be yes, required or no")
        if ssl == "no" and any(s.implicit_tls for s in self.services.values()):
            raise ValueError("ssl = no cannot serve implicit-TLS listeners")
        if ssl != "no" and leaf is None:
            raise ValueError("TLS needs a leaf certificate")
        missing = [p for p in ("managesieve-login", "lmtp", "imap-login", "pop3-login")
                   if any(s.service == p for s in self.services.values())
                   and not (Path("/usr/lib/dovecot") / p).exists()]
        if missing:
            raise HarnessError(f"Dovecot programs missing: {missing}; install dovecot-imapd dovecot-pop3d "
                               "dovecot-managesieved dovecot-lmtpd")
        self.workdir = Path(workdir).resolve()
        for forbidden in DEFAULT_DOVECOT_PATHS:
            if self.workdir == forbidden or forbidden in self.workdir.parents:
                raise HarnessError(f"refusing to use {self.workdir}: inside the system instance's {forbidden}")
        self.leaf = leaf
        self.hostname = hostname
        self.address = address
        self.ssl = ssl
        self.disable_plaintext_auth = disable_plaintext_auth
        self.user = _safe_token(user)
        self.password = secrets.token_hex(8)
        self.ready_timeout = ready_timeout
        self.stop_timeout = stop_timeout
        self.extra_conf = dict(extra_conf or {})
        self.name = name
        self.token = secrets.token_hex(6)
        self.instance_name = f"otls-{self.token}"
        self.greeting_token = f"otls-interop-{self.token}"
        self.conf = self.workdir / "dovecot.conf"
        self.users = self.workdir / "users"
        self.base_dir = self.workdir / "run"
        self.state_dir = self.workdir / "state"
        self.home = self.workdir / "home" / self.user
        self.logdir = self.workdir / "log"
        self.log = self.logdir / "dovecot.log"
        _check_short_socket_dir(self.base_dir, "token-login/imap-urlauth")
        self.ports: dict[str, int] = {}
        self.daemon: Optional[Daemon] = None
        self.survivors: list[tuple[int, str]] = []

    # -- public API

    def port(self, service: str) -> int:
        return self.ports[service]

    def url(self, service: str, host: Optional[str] = None) -> str:
        """otls's URL for a listener: imap://, imaps://, pop3://, pop3s://, sieve://, lmtp://."""
        return f"{service}://{host or self.address}:{self.ports[service]}"

    @property
    def pid(self) -> Optional[int]:
        return self.daemon.pid if self.daemon else None

    def start(self, attempts: int = 3) -> "Dovecot":
        src = source_address_for(self.address)
        if src == self.address:
            raise HarnessError(f"clients would connect to {self.address} from {src}, Dovecot's own address, "
                               "and be treated as secured; listen on another loopback address")
        last = None
        for _ in range(attempts):
            self.ports = {n: free_port(self.address) for n in self.services}
            self._write_instance()
            self._preflight()
            self.daemon = Daemon([DOVECOT_BIN, "-F", "-c", self.conf], name=self.name, logdir=self.logdir,
                                 env=self._env(), cwd=str(self.workdir), ready_check=self._ready,
                                 ready_timeout=self.ready_timeout, stop_timeout=self.stop_timeout,
                                 extra_logs=[self.log, self.logdir / "doveconf.log"])
            try:
                self.daemon.start()
                return self
            except HarnessError as e:
                last = e
                self.survivors += self.daemon.survivors
                taken = isinstance(e, ForeignPort) or "Address already in use" in self.daemon.tail_text(200)
                if not taken:
                    raise
        raise HarnessError(f"Dovecot did not start after {attempts} attempts: {last}")

    def stop(self) -> list[tuple[int, str]]:
        """Stop the master by PID; returns leftover processes that had to be killed (empty
        when Dovecot shut down cleanly)."""
        if self.daemon is None:
            return []
        self.survivors += self.daemon.stop()
        self.survivors += kill_by_pid(self.instance_processes())
        return self.survivors

    def instance_processes(self) -> list[tuple[int, str]]:
        """Live processes of this instance: the master (-c CONF) and its children, whose
        titles start with the instance name."""
        return sorted(set(processes_matching(f"{self.instance_name}/")) |
                      set(processes_matching(f"-c {self.conf}")))

    def running_daemons(self) -> list[Daemon]:
        return [self.daemon] if self.daemon else []

    def log_offset(self) -> int:
        return file_offset(self.log)

    def wait_for_log(self, regex: str, *, since: int = 0, timeout: float = 10.0) -> re.Match:
        return wait_for_line(self.log, regex, since=since, timeout=timeout, what="Dovecot log")

    def session(self, service: str, since: int, timeout: float = 10.0) -> dict:
        """What a login process (imap-login, pop3-login, managesieve-login) logged about the
        first session on listener `service` after log offset `since`: message, user, rip,
        rport, lip, lport, secured ("TLS"; "TLS handshaking: ..." when the handshake failed;
        "secured" for a client trusted by address; "" for plaintext) and, when TLS was up,
        version and cipher (login_log_format_elements has %k; Dovecot leaves out empty
        elements). LMTP logs no such line."""
        svc = self.services[service]
        if svc.service == "lmtp":
            raise ValueError("Dovecot's lmtp logs no login line")
        m = self.wait_for_log(
            rf"{re.escape(svc.service)}: Info: (?P<message>.*?): user=<(?P<user>[^>]*)>, (?:method=\S+, )?"
            rf"rip=(?P<rip>[0-9.]+), rport=(?P<rport>\d+), lip=(?P<lip>[0-9.]+), "
            rf"lport={self.ports[service]}, (?:mpid=\d+, )?(?P<rest>.*?)session=<",
            since=since, timeout=timeout)
        out = m.groupdict()
        rest = out.pop("rest")
        ssl_m = re.search(r"ssl=<([^>]*)>, ", rest)
        out["ssl"] = ssl_m.group(1) if ssl_m else ""
        out["secured"] = (rest[:ssl_m.start()] if ssl_m else rest).strip().rstrip(",")
        out["lport"] = self.ports[service]
        v = re.match(r"(\S+) with cipher (\S+)", out["ssl"])
        out["version"], out["cipher"] = (v.group(1), v.group(2)) if v else (None, None)
        return out

    # -- instance files

    def _env(self) -> dict:
        return {"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "LANG": "C", "TZ": "UTC"}

    def _preflight(self) -> None:
        """doveconf parses the file and reports unknown or malformed settings."""
        cp = run([DOVECONF_BIN, "-c", self.conf, "-n"], timeout=30, env=self._env())
        (self.logdir / "doveconf.log").write_text(cp.stderr)
        if cp.returncode != 0 or "Warning" in cp.stderr:
            raise HarnessError("doveconf rejects or warns about the generated configuration" + describe(cp))

    def _ready(self) -> bool:
        for name, svc in self.services.items():
            greeting = service_greeting(self.address, self.ports[name], svc.protocol,
                                        implicit_tls=svc.implicit_tls, timeout=5.0)
            if self.greeting_token not in greeting:
                raise ForeignPort(f"port {self.ports[name]} answered with someone else's greeting: {greeting!r}")
        return True

    def _write_instance(self) -> None:
        if self.base_dir.exists():  # a retry: start from scratch
            shutil.rmtree(self.base_dir)
            shutil.rmtree(self.state_dir, ignore_errors=True)
        for d in (self.workdir, self.logdir, self.state_dir):
            d.mkdir(parents=True, exist_ok=True)
            os.chmod(d, 0o755)
        # login processes (dovenull), auth (dovecot) and mail processes (nobody) open paths
        # under the work directory: every ancestor needs search permission for others
        for parent in self.workdir.parents:
            if parent.stat().st_mode & 0o001 == 0:
                raise HarnessError(f"{parent} is not searchable by Dovecot's unprivileged users (mode "
                                   f"{parent.stat().st_mode & 0o7777:o}); use harness.make_workdir()")
        nobody = pwd.getpwnam("nobody")
        self.home.mkdir(parents=True, exist_ok=True)
        os.chmod(self.home.parent, 0o755)
        os.chown(self.home, nobody.pw_uid, nobody.pw_gid)
        os.chmod(self.home, 0o700)
        self.users.write_text(f"{self.user}:{{PLAIN}}{self.password}:{nobody.pw_uid}:{nobody.pw_gid}::"
                              f"{self.home}::\n")
        os.chown(self.users, 0, grp.getgrnam("dovecot").gr_gid)
        os.chmod(self.users, 0o640)
        self.conf.write_text(self._config())
        os.chmod(self.conf, 0o644)

    def _config(self) -> str:
        protocols = []
        for svc in self.services.values():
            if svc.protocol not in protocols:
                protocols.append(svc.protocol)
        settings = {
            "instance_name": self.instance_name,
            "protocols": " ".join(protocols),
            "listen": self.address,
            "base_dir": str(self.base_dir),
            "state_dir": str(self.state_dir),
            "log_path": str(self.log),
            "info_log_path": str(self.log),
            "debug_log_path": str(self.log),
            "hostname": self.hostname,
            "login_greeting": f"{self.greeting_token} ready.",
            "login_trusted_networks": "",
            "login_log_format_elements": ("user=<%u> method=%m rip=%r rport=%b lip=%l lport=%a mpid=%e %c "
                                          "ssl=<%k> session=<%{session}>"),
            "ssl": self.ssl,
            "disable_plaintext_auth": "yes" if self.disable_plaintext_auth else "no",
            "auth_mechanisms": "plain login",
            "mail_location": "maildir:~/Maildir",
            "first_valid_uid": "1",
        }
        if self.ssl != "no":
            settings["ssl_cert"] = f"<{self.leaf.cert}"
            settings["ssl_key"] = f"<{self.leaf.key}"
        settings.update(self.extra_conf)
        lines = ["# private Dovecot instance written by tests/interop/harness.py; not the system's"]
        for k, v in settings.items():
            if "\n" in str(v):
                raise ValueError(f"unsupported dovecot.conf value {v!r}")
            lines.append(f"{k} = {v}")
        lines += [
            # %n: the user part, so that LMTP's RCPT TO:<user@domain> finds the user too
            "passdb {", "  driver = passwd-file", f"  args = scheme=PLAIN username_format=%n {self.users}", "}",
            "userdb {", "  driver = passwd-file", f"  args = username_format=%n {self.users}", "}",
        ]
        # every listener of the services we run: ours on a high port, the others disabled
        for service in ("imap-login", "pop3-login", "managesieve-login", "lmtp"):
            names = [s for s in DOVECOT_SERVICES.values() if s.service == service]
            if not any(s.protocol in protocols for s in names):
                continue
            lines.append(f"service {service} {{")
            for s in names:
                lines.append(f"  inet_listener {s.name} {{")
                lines.append(f"    address = {self.address}")
                lines.append(f"    port = {self.ports.get(s.name, 0)}")
                if s.implicit_tls:
                    lines.append("    ssl = yes")
                lines.append("  }")
            lines.append("}")
        return "\n".join(lines) + "\n"


_INETD = r"""
import os, select, signal, socket, subprocess, sys
host, limit, argv = sys.argv[1], int(sys.argv[2]), sys.argv[3:]

def terminate(signum, frame):  # SIGTERM to our PID: pass it on to the sessions, then exit
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    os.killpg(os.getpgrp(), signal.SIGTERM)
    os._exit(0)

signal.signal(signal.SIGTERM, terminate)
srv = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
srv.bind((host, 0))
srv.listen(16)
print("listening %s:%d" % srv.getsockname(), flush=True)

def relay(conn):
    # pipes, not the socket itself: Dovecot's imap refuses a socket on stdout when started as root
    p = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, close_fds=True)
    out = p.stdout.fileno()
    try:
        for _ in range(100000):  # bounded in count; 60 s without traffic ends it too
            ready, _, _ = select.select([conn, out], [], [], 60)
            if not ready:
                break
            if conn in ready:
                data = conn.recv(65536)
                if not data:
                    p.stdin.close()
                    break
                p.stdin.write(data)
                p.stdin.flush()
            if out in ready:
                data = os.read(out, 65536)
                if not data:
                    break
                conn.sendall(data)
    except OSError:
        pass
    finally:
        conn.close()
        try:
            p.wait(timeout=5)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()

for _ in range(limit):  # bounded in connections; stopped by PID with its process group
    conn, _ = srv.accept()
    if os.fork() == 0:
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        srv.close()
        relay(conn)
        os._exit(0)
    conn.close()
    try:
        while os.waitpid(-1, os.WNOHANG)[0] > 0:
            pass
    except ChildProcessError:
        pass
"""


class DovecotPreauth(Daemon):
    """A pre-authenticated IMAP service, as an rsh/ssh- or inetd-started imapd gives: a tiny
    inetd (Python, on the Dovecot's address, port chosen by the kernel) that runs Dovecot's
    own `doveadm -c CONF exec imap -u USER` per connection and relays between the socket
    and its stdin/stdout (imap refuses a socket there when started as root), so the client
    is greeted by Dovecot with `* PREAUTH [CAPABILITY ...] Logged in
    as USER` in cleartext: no STARTTLS is possible any more (RFC 9051 §7.1.4; the "NO
    STARTTLS" stripping case). Needs the Dovecot instance running (config socket)."""

    def __init__(self, dovecot: Dovecot, workdir: Path | str, *, max_connections: int = 1000,
                 ready_timeout: float = 20.0):
        argv = [sys.executable, "-B", "-c", _INETD, dovecot.address, str(max_connections),
                "/usr/bin/doveadm", "-c", str(dovecot.conf), "exec", "imap", "-u", dovecot.user]
        super().__init__(argv, name="dovecot-preauth", logdir=workdir, env=dovecot._env(),
                         ready_regex=rf"^listening {re.escape(dovecot.address)}:(\d+)$", ready_timeout=ready_timeout)
        self.address = dovecot.address
        self.port = 0

    def start(self) -> "DovecotPreauth":
        super().start()
        self.port = int(self.match.group(1))
        try:
            wait_for_port(self.address, self.port, timeout=self.ready_timeout, alive=self.alive)
        except BaseException:
            self.stop()
            raise
        return self

    def url(self) -> str:
        return f"imap://{self.address}:{self.port}"


# ---------------------------------------------------------------------------
# INN

INN_BIN_DIR = Path("/usr/lib/news/bin")
DEFAULT_INN_PATHS = (Path("/etc/news"), Path("/var/lib/news"), Path("/var/spool/news"), Path("/run/news"))
INN_LISTENERS = ("nntp", "nntps", "innd")


class _Innd(Daemon):
    """innd acts on SIGTERM only when its select() wakes up (otherwise up to 300 s later):
    SIGTERM, then one TCP connection to its port (`wake`) to wake it; it exits with status 0
    about a second later. Then Daemon.stop (SIGTERM, bounded wait, SIGKILL) as for any daemon."""

    wake: Optional[tuple[str, int]] = None

    def stop(self) -> list[tuple[int, str]]:
        if self.proc is not None and self.proc.poll() is None and self.wake is not None:
            try:
                os.kill(self.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
            port_accepts(*self.wake, timeout=1.0)
            try:
                self.proc.wait(timeout=min(5.0, self.stop_timeout))
            except subprocess.TimeoutExpired:
                pass
        return super().stop()


class INN(_Instance):
    """A private INN 2.7 tree with nnrpd as standalone daemons and, optionally, innd.

    Layout under `workdir` (owned by news): etc/ (inn.conf, readers.conf, storage.conf,
    newsfeeds, incoming.conf, cert.pem, key.pem (0600), ca.pem, an empty filter/),
    db/ (active with control, junk and `groups`, newsgroups, history with its dbz index),
    run/ (pid files, innd's control sockets), spool/ (tradspool articles, tradindexed
    overview), tmp/, log/. cafile, when given, becomes tlscafile (sent to complete the chain). Every program gets INNCONF=etc/inn.conf, so nothing under
    /etc/news or /var/lib/news is read or written (except the programs in /usr/lib/news).

    Listeners (each on `address`, default 127.0.0.2, high ports; all run as user news):
      nntp:  `nnrpd -D -f -b ADDR -p PORT`: a reader server offering STARTTLS;
      nntps: `nnrpd -D -f -S -b ADDR -p PORT`: NNTPS, TLS from the first byte;
      innd:  `innd -d -N -P PORT -4 ADDR`: the transit server. With innd_transit (default),
             127.0.0.1 is listed in incoming.conf, so clients from there get transit mode
             (200, CAPABILITIES with MODE-READER and no STARTTLS) until they send MODE READER,
             which hands them to nnrpd (201, STARTTLS). Without it innd hands every client
             to nnrpd at once.
    readers.conf grants 127.0.0.1 read access without authentication.

    INN logs only through syslog(3); where /dev/log does not exist its messages are lost,
    so startup failures are diagnosed with strace (see the error message).

    Stop: SIGTERM to each daemon's PID (nnrpd -D and innd run in the foreground here),
    bounded wait, SIGKILL; per-connection nnrpd children are in the daemon's process group
    and are killed by PID if they outlive it.
    """

    def __init__(self, workdir: Path | str, leaf: Leaf, *, listeners: Iterable[str] = ("nntp", "nntps"),
                 hostname: str = "news.test", address: str = SERVER_LOOPBACK, groups: Sequence[str] = ("otls.test",),
                 innd_transit: bool = True, cafile: Optional[Path | str] = None, ready_timeout: float = 30.0,
                 stop_timeout: float = 15.0):
        if os.geteuid() != 0:
            raise HarnessError("a private INN tree needs root (files are chowned to news and the daemons "
                               "started as news); run the interop tests as root")
        for prog in ("nnrpd", "innd", "makedbz", "tdx-util", "innconfval"):
            if not (INN_BIN_DIR / prog).exists():
                raise HarnessError(f"{INN_BIN_DIR / prog} not found: install Debian package inn2")
        self.listeners = list(listeners)
        for l in self.listeners:
            if l not in INN_LISTENERS:
                raise ValueError(f"unknown INN listener {l!r}; choose from {INN_LISTENERS}")
        if not self.listeners or len(set(self.listeners)) != len(self.listeners):
            raise ValueError("INN needs at least one listener, each once")
        self.workdir = Path(workdir).resolve()
        for forbidden in DEFAULT_INN_PATHS:
            if self.workdir == forbidden or forbidden in self.workdir.parents:
                raise HarnessError(f"refusing to use {self.workdir}: inside the system's {forbidden}")
        self.leaf = leaf
        self.hostname = hostname
        self.address = address
        self.groups = [_safe_token(g) for g in groups]
        self.innd_transit = innd_transit
        self.cafile = Path(cafile) if cafile else None
        self.ready_timeout = ready_timeout
        self.stop_timeout = stop_timeout
        self.token = secrets.token_hex(6)
        # the greeting names pathhost: the token proves that a port is ours
        self.pathhost = f"otls-{self.token}.{hostname}"
        self.etc = self.workdir / "etc"
        self.db = self.workdir / "db"
        self.rundir = self.workdir / "run"
        self.spool = self.workdir / "spool"
        self.logdir = self.workdir / "log"
        self.inn_conf = self.etc / "inn.conf"
        _check_short_socket_dir(self.rundir, "nntpin")
        self.ports: dict[str, int] = {}
        self.daemons: dict[str, Daemon] = {}
        self.survivors: list[tuple[int, str]] = []
        self._written = False

    # -- public API

    def port(self, listener: str) -> int:
        return self.ports[listener]

    def url(self, listener: str, host: Optional[str] = None) -> str:
        scheme = "nntps" if listener == "nntps" else "nntp"
        return f"{scheme}://{host or self.address}:{self.ports[listener]}"

    def pid(self, listener: str) -> Optional[int]:
        d = self.daemons.get(listener)
        return d.pid if d else None

    def start(self, attempts: int = 3) -> "INN":
        if not self._written:
            self._write_tree()
            self._written = True
        try:
            for listener in self.listeners:
                self._start_listener(listener, attempts)
        except BaseException:
            self.stop()
            raise
        return self

    def stop(self) -> list[tuple[int, str]]:
        """Stop every daemon by PID (innd first: it hands connections to nnrpd children)."""
        for name in sorted(self.daemons, key=lambda n: n != "innd"):
            self.survivors += self.daemons[name].stop()
        self.survivors += kill_by_pid(self.instance_processes())
        return self.survivors

    def instance_processes(self) -> list[tuple[int, str]]:
        """Live processes whose environment names this tree's inn.conf."""
        conf = str(self.inn_conf)
        return processes_where(lambda pid, _cmd: _proc_environ(pid).get("INNCONF") == conf)

    def running_daemons(self) -> list[Daemon]:
        return list(self.daemons.values())

    # -- daemons

    def _env(self) -> dict:
        return {"PATH": f"{INN_BIN_DIR}:/usr/sbin:/usr/bin:/sbin:/bin", "LANG": "C", "TZ": "UTC",
                "HOME": str(self.workdir), "INNCONF": str(self.inn_conf)}

    def _argv(self, listener: str, port: int) -> list:
        if listener == "innd":
            # -d: foreground, -N: no Perl/Python filters (none are configured anyway)
            return [INN_BIN_DIR / "innd", "-d", "-N", "-P", port, "-4", self.address]
        argv = [INN_BIN_DIR / "nnrpd", "-D", "-f", "-b", self.address, "-p", port]
        if listener == "nntps":
            argv.append("-S")
        return argv

    def _start_listener(self, listener: str, attempts: int) -> None:
        last = None
        for _ in range(attempts):
            port = free_port(self.address)
            if listener == "innd":
                for stale in ("innd.pid", "control", "nntpin"):
                    (self.rundir / stale).unlink(missing_ok=True)
            cls = _Innd if listener == "innd" else Daemon
            d = cls(self._argv(listener, port), name=f"inn-{listener}", logdir=self.logdir, env=self._env(),
                       cwd=str(self.workdir), user="news", ready_timeout=self.ready_timeout,
                       stop_timeout=self.stop_timeout,
                       ready_check=lambda listener=listener, port=port: self._ready(listener, port))
            if isinstance(d, _Innd):
                d.wake = (self.address, port)
            d.early_exit_hint = (
                "\n(INN logs only to syslog, and this machine may have no /dev/log; to see why it exited run: "
                f"strace -f -s 200 -e trace=openat,bind,connect setpriv --reuid news --regid news --init-groups "
                f"env INNCONF={self.inn_conf} " + " ".join(map(str, self._argv(listener, port))) + ")")
            try:
                d.start()
            except HarnessError as e:
                last = e
                self.survivors += d.survivors
                if isinstance(e, ForeignPort) or port_is_taken(self.address, port):
                    continue
                raise
            self.daemons[listener] = d
            self.ports[listener] = port
            return
        raise HarnessError(f"INN {listener} did not start after {attempts} attempts: {last}")

    def _ready(self, listener: str, port: int) -> bool:
        greeting = service_greeting(self.address, port, "nntp", implicit_tls=(listener == "nntps"), timeout=5.0)
        if self.pathhost not in greeting:
            raise ForeignPort(f"port {port} answered with someone else's greeting: {greeting!r}")
        return True

    # -- the tree

    def _write_tree(self) -> None:
        news = pwd.getpwnam("news")
        for parent in self.workdir.parents:
            if parent.stat().st_mode & 0o001 == 0:
                raise HarnessError(f"{parent} is not searchable by user news (mode "
                                   f"{parent.stat().st_mode & 0o7777:o}); use harness.make_workdir()")
        dirs = [self.workdir, self.etc, self.etc / "filter", self.db, self.rundir, self.logdir, self.workdir / "tmp",
                self.workdir / "http", self.spool, self.spool / "articles", self.spool / "overview",
                self.spool / "incoming", self.spool / "incoming" / "bad", self.spool / "outgoing",
                self.spool / "archive"]
        for d in dirs:
            d.mkdir(parents=True, exist_ok=True)
            os.chmod(d, 0o755)
        shutil.copyfile(self.leaf.cert, self.etc / "cert.pem")
        shutil.copyfile(self.leaf.key, self.etc / "key.pem")
        os.chmod(self.etc / "key.pem", 0o600)  # nnrpd refuses a key others can read
        if self.cafile:
            shutil.copyfile(self.cafile, self.etc / "ca.pem")
        files = {
            self.inn_conf: self._inn_conf(),
            self.etc / "readers.conf": ('auth "otls-interop" {\n    hosts: "127.0.0.1"\n    default: "<reader>"\n}\n'
                                        'access "otls-interop" {\n    users: "<reader>"\n    newsgroups: "*"\n'
                                        '    access: "R"\n}\n'),
            self.etc / "storage.conf": "method tradspool {\n    newsgroups: *\n    class: 0\n}\n",
            self.etc / "newsfeeds": "ME:*::\n",
            self.etc / "incoming.conf": ('peer otls-interop {\n    hostname: "127.0.0.1"\n}\n'
                                         if self.innd_transit else "# no peers: every client is a reader\n"),
            self.db / "active": "".join(f"{g} 0000000000 0000000001 {f}\n" for g, f in
                                        [("control", "n"), ("control.cancel", "n"), ("junk", "n")] +
                                        [(g, "y") for g in self.groups]),
            self.db / "active.times": "",
            self.db / "newsgroups": "".join(f"{g}\totls interop test group\n" for g in self.groups),
            self.db / "history": "",
        }
        for path, text in files.items():
            path.write_text(text)
        for root, ds, fs in os.walk(self.workdir):
            for n in ds + fs:
                os.lchown(os.path.join(root, n), news.pw_uid, news.pw_gid)
        os.chown(self.workdir, news.pw_uid, news.pw_gid)
        self._as_news([INN_BIN_DIR / "innconfval", "-C"], "inn.conf check")
        self._as_news([INN_BIN_DIR / "makedbz", "-i", "-o", "-f", self.db / "history"], "history index")
        for g, flag in [("control", "n"), ("control.cancel", "n"), ("junk", "n")] + [(g, "y") for g in self.groups]:
            self._as_news([INN_BIN_DIR / "tdx-util", "-c", "-n", g, "-f", flag], f"overview for {g}")

    def _as_news(self, argv: Sequence, what: str) -> None:
        news = pwd.getpwnam("news")
        cp = subprocess.run([str(a) for a in argv], capture_output=True, text=True, timeout=60, env=self._env(),
                            cwd=str(self.workdir), user=news.pw_uid, group=news.pw_gid, extra_groups=[],
                            check=False)
        if cp.returncode != 0 or cp.stderr.strip():
            raise HarnessError(f"INN set-up step failed ({what})" + describe(cp))

    def _inn_conf(self) -> str:
        w = self.workdir
        conf = {
            "domain": "test",  # Debian's inn2 insists on a domain where the host name has none
            "pathhost": self.pathhost,
            "server": self.address,
            "organization": '"otls interop test"',
            "mta": '"/bin/false %s"',  # never mail anybody
            "ovmethod": "tradindexed",
            "hismethod": "hisv6",
            "enableoverview": "true",
            "port": "119",  # nnrpd and innd get their ports on the command line
            "bindaddress": self.address,
            "pathnews": "/usr/lib/news",
            "pathbin": str(INN_BIN_DIR),
            "pathcontrol": str(INN_BIN_DIR / "control"),
            "pathfilter": str(self.etc / "filter"),
            "pathetc": str(self.etc),
            "pathdb": str(self.db),
            "pathrun": str(self.rundir),
            "pathlog": str(self.logdir),
            "pathtmp": str(w / "tmp"),
            "pathhttp": str(w / "http"),
            "pathspool": str(self.spool),
            "patharticles": str(self.spool / "articles"),
            "pathoverview": str(self.spool / "overview"),
            "pathincoming": str(self.spool / "incoming"),
            "pathoutgoing": str(self.spool / "outgoing"),
            "patharchive": str(self.spool / "archive"),
            "tlscertfile": str(self.etc / "cert.pem"),
            "tlskeyfile": str(self.etc / "key.pem"),
            "tlscapath": str(self.etc),
            "nnrpdloadlimit": "0",  # never "400 load too high" on a busy CI machine
            "doinnwatch": "false",
            "status": "0",
            "timer": "0",
        }
        if self.cafile:
            conf["tlscafile"] = str(self.etc / "ca.pem")  # sent along to complete the chain
        lines = ["# private INN tree written by tests/interop/harness.py; not the system's"]
        lines += [f"{k}: {v}" for k, v in conf.items()]
        return "\n".join(lines) + "\n"


# ---------------------------------------------------------------------------
# nginx (HTTPS hosts, e.g. MTA-STS policy hosts)

NGINX_BIN = Path("/usr/sbin/nginx")
NGINX_READY_PATH = "/.otls-interop-ready"  # answered with the instance token; never access-logged


@dataclasses.dataclass
class NginxServer:
    """One TLS server block of a private nginx, on its own ADDRESS:PORT with its own certificate.

    name: a token naming the block (its access log is log/access-NAME.log, its document root
    www/NAME/ unless `root` is given). directives: raw nginx text placed inside the server block
    (locations, add_header, ...); the harness adds listen, server_name, the certificate, root,
    the access log and the readiness location. port: fixed (e.g. 443 as root); a taken fixed
    port fails the start rather than retrying elsewhere. 0 picks a free high port."""
    name: str
    address: str
    leaf: Leaf
    port: int = 0
    server_name: str = "_"
    directives: str = ""
    root: Optional[Path] = None
    bound_port: int = 0


class Nginx(_Instance):
    """A private nginx: `nginx -p DIR -e DIR/log/error.log -c DIR/nginx.conf -g 'daemon off;'` in
    the foreground with the harness owning the master's PID (SIGTERM: fast shutdown; the
    workers are in its process group).

    Layout under `workdir`: nginx.conf (nothing included from /etc/nginx; a small `types` map:
    .txt is text/plain, anything else application/octet-stream), www/NAME/ (document roots),
    log/error.log, log/access-NAME.log (one line per request: see ACCESS_FORMAT), tmp/ (the
    temp paths, so /var/lib/nginx is not used), nginx.pid. Workers run as `user` (default
    nobody), so document roots must be world-readable (they are, under make_workdir()).

    Ready when every server answers GET NGINX_READY_PATH over TLS with this instance's token
    (another process on a fixed port is reported as ForeignPort)."""

    # $request is logged escaped; fields separated by " | "
    ACCESS_FORMAT = ('$time_iso8601 | $server_addr:$server_port | $ssl_server_name | $request | $status | '
                     '$body_bytes_sent | $sent_http_content_type')

    def __init__(self, workdir: Path | str, servers: Sequence[NginxServer], *, user: str = "nobody",
                 ready_timeout: float = 20.0, stop_timeout: float = 10.0, http_directives: str = ""):
        if not NGINX_BIN.exists():
            raise HarnessError(f"{NGINX_BIN} not found: install Debian package 'nginx'")
        if not servers:
            raise ValueError("nginx needs at least one server")
        names = [_safe_token(x.name) for x in servers]
        if len(set(names)) != len(names):
            raise ValueError("server names must be unique")
        if os.geteuid() != 0 and any(x.port and x.port < 1024 for x in servers):
            raise HarnessError("nginx on a port below 1024 needs root")
        self.workdir = Path(workdir).resolve()
        if self.workdir == Path("/etc/nginx") or Path("/etc/nginx") in self.workdir.parents:
            raise HarnessError(f"refusing to use {self.workdir}: inside /etc/nginx")
        self.servers = {x.name: x for x in servers}
        self.user = user
        self.ready_timeout = ready_timeout
        self.stop_timeout = stop_timeout
        self.http_directives = http_directives
        self.conf = self.workdir / "nginx.conf"
        self.logdir = self.workdir / "log"
        self.error_log = self.logdir / "error.log"
        self.token = f"otls-interop-{secrets.token_hex(6)}"
        self.daemon: Optional[Daemon] = None
        self.survivors: list[tuple[int, str]] = []

    # -- public API

    def root(self, name: str) -> Path:
        x = self.servers[name]
        return Path(x.root) if x.root else self.workdir / "www" / name

    def access_log(self, name: str) -> Path:
        return self.logdir / f"access-{_safe_token(name)}.log"

    def access_offset(self, name: str) -> int:
        return file_offset(self.access_log(name))

    def requests(self, name: str, since: int = 0) -> list[dict]:
        """The requests server `name` logged after byte offset `since`: dicts with time, local,
        sni, request, status (int), bytes (int), content_type."""
        out = []
        try:
            with open(self.access_log(name), "rb") as f:
                f.seek(since)
                text = f.read().decode("utf-8", "replace")
        except OSError:
            return out
        keys = ("time", "local", "sni", "request", "status", "bytes", "content_type")
        for line in text.splitlines():
            parts = line.split(" | ")
            if len(parts) != len(keys):
                raise HarnessError(f"unexpected nginx access log line {line!r}")
            rec = dict(zip(keys, parts))
            rec["status"], rec["bytes"] = int(rec["status"]), int(rec["bytes"])
            out.append(rec)
        return out

    @property
    def pid(self) -> Optional[int]:
        return self.daemon.pid if self.daemon else None

    def start(self, attempts: int = 3) -> "Nginx":
        last = None
        for _ in range(attempts):
            for x in self.servers.values():
                x.bound_port = x.port or free_port(x.address)
            self._write_instance()
            self._preflight()
            self.daemon = Daemon([NGINX_BIN, "-p", self.workdir, "-e", self.error_log, "-c", self.conf,
                                  "-g", "daemon off;"], name="nginx", logdir=self.logdir, cwd=str(self.workdir),
                                 env={"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "LANG": "C", "TZ": "UTC"},
                                 ready_check=self._ready, ready_timeout=self.ready_timeout,
                                 stop_timeout=self.stop_timeout, extra_logs=[self.error_log])
            try:
                self.daemon.start()
                return self
            except HarnessError as e:
                last = e
                self.survivors += self.daemon.survivors
                taken = isinstance(e, ForeignPort) or "Address already in use" in self.daemon.tail_text(200)
                if not taken or any(x.port for x in self.servers.values()):
                    raise  # fixed ports would only be taken again
        raise HarnessError(f"nginx did not start after {attempts} attempts: {last}")

    def stop(self) -> list[tuple[int, str]]:
        """Stop the master by PID (its workers follow; stragglers in its group are killed by PID
        and returned)."""
        if self.daemon is None:
            return []
        self.survivors += self.daemon.stop()
        return self.survivors

    def running_daemons(self) -> list[Daemon]:
        return [self.daemon] if self.daemon else []

    def url(self, name: str, path: str = "/") -> str:
        x = self.servers[name]
        return f"https://{x.address}:{x.bound_port}{path}"

    # -- instance files

    def _ready(self) -> bool:
        for x in self.servers.values():
            ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
            ctx.check_hostname = False
            ctx.verify_mode = ssl.CERT_NONE
            with socket.create_connection((x.address, x.bound_port), timeout=5.0) as raw:
                with ctx.wrap_socket(raw, server_hostname=None) as tls:
                    tls.sendall(f"GET {NGINX_READY_PATH} HTTP/1.0\r\nHost: ready\r\n\r\n".encode())
                    data = b""
                    for _ in range(64):  # bounded: the answer is a few hundred bytes
                        chunk = tls.recv(4096)
                        if not chunk:
                            break
                        data += chunk
            if self.token.encode() not in data:
                raise ForeignPort(f"{x.address}:{x.bound_port} answered without this nginx's token: "
                                  f"{data[:300]!r}")
        return True

    def _preflight(self) -> None:
        cp = run([NGINX_BIN, "-t", "-q", "-p", self.workdir, "-e", self.error_log, "-c", self.conf], timeout=30)
        if cp.returncode != 0:
            raise HarnessError("nginx -t rejects the generated configuration" + describe(cp))

    def _write_instance(self) -> None:
        for d in (self.workdir, self.logdir, self.workdir / "tmp"):
            d.mkdir(parents=True, exist_ok=True)
            os.chmod(d, 0o755)
        for x in self.servers.values():
            self.root(x.name).mkdir(parents=True, exist_ok=True)
        w = self.workdir / "tmp"
        group = grp.getgrgid(pwd.getpwnam(self.user).pw_gid).gr_name  # nginx's default group is the user's name
        lines = ["# private nginx written by tests/interop/harness.py; not the system's",
                 f"user {self.user} {group};", "worker_processes 1;", f"pid {self.workdir / 'nginx.pid'};",
                 f"error_log {self.error_log} info;", "events { worker_connections 64; }", "http {",
                 "  types { text/plain txt; }", "  default_type application/octet-stream;",
                 "  charset off;", "  server_tokens off;", "  keepalive_timeout 5;", "  access_log off;",
                 f"  log_format otls '{self.ACCESS_FORMAT}';",
                 *(f"  {k}_temp_path {w / k};" for k in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")),
                 "  ssl_protocols TLSv1.2 TLSv1.3;"]
        if self.http_directives:
            lines.append(self.http_directives)
        for x in self.servers.values():
            lines += [
                "  server {",
                f"    listen {x.address}:{x.bound_port} ssl;",
                f"    server_name {x.server_name};",
                f"    ssl_certificate {x.leaf.cert};",
                f"    ssl_certificate_key {x.leaf.key};",
                f"    root {self.root(x.name)};",
                f"    access_log {self.access_log(x.name)} otls;",
                f"    location = {NGINX_READY_PATH} {{ access_log off; default_type text/plain; "
                f"return 200 \"{self.token}\\n\"; }}",
                x.directives,
                "  }",
            ]
        lines.append("}")
        self.conf.write_text("\n".join(lines) + "\n")


# ---------------------------------------------------------------------------
# the STRIPTLS attacker


class OtlsTestMeddler(Daemon):
    """otls_test_meddler ($OTLS_TEST_MEDDLER): a relay on 127.0.0.1 (port chosen by the kernel,
    read from its stdout line `listening 127.0.0.1:PORT`) to `upstream`, removing the
    protocol's STARTTLS offer from the server's bytes."""

    def __init__(self, workdir: Path | str, upstream: tuple[str, int], protocol: str, *,
                 name: Optional[str] = None, ready_timeout: float = 20.0):
        argv = [require_env("OTLS_TEST_MEDDLER"), "--listen", f"{LOOPBACK}:0",
                "--upstream", f"{upstream[0]}:{upstream[1]}", "--protocol", protocol]
        super().__init__(argv, name=name or f"otls_test_meddler-{protocol}", logdir=workdir,
                         ready_regex=r"^listening 127\.0\.0\.1:(\d+)$", ready_timeout=ready_timeout)
        self.upstream = upstream
        self.protocol = protocol
        self.port = 0

    def start(self) -> "OtlsTestMeddler":
        super().start()
        self.port = int(self.match.group(1))
        try:
            wait_for_port(LOOPBACK, self.port, timeout=self.ready_timeout, alive=self.alive)
        except BaseException:
            self.stop()
            raise
        return self

    def url(self, scheme: Optional[str] = None) -> str:
        return f"{scheme or self.protocol}://{LOOPBACK}:{self.port}"


# ---------------------------------------------------------------------------
# otls's own server role and CLI


class OtlsTestServer(Daemon):
    """otls_test_server ($OTLS_TEST_SERVER) on 127.0.0.1, port chosen by the kernel and
    read from its one stdout line `listening 127.0.0.1:PORT`.

    protocol: a registry scheme (smtp, lmtp, imap, pop3, nntp, sieve, ...); None keeps the
    server's default (smtp). implicit_tls selects the scheme's "s" twin (imap -> imaps)."""

    def __init__(self, workdir: Path | str, leaf: Leaf, *, hostname: Optional[str] = None,
                 starttls_required: bool = False, implicit_tls: bool = False, name: str = "otls_test_server",
                 ready_timeout: float = 20.0, protocol: Optional[str] = None):
        argv = [require_env("OTLS_TEST_SERVER"), "--listen", f"{LOOPBACK}:0", "--cert", leaf.cert, "--key", leaf.key]
        if hostname:
            argv += ["--hostname", hostname]
        if protocol:
            argv += ["--protocol", protocol]
        if starttls_required:
            argv.append("--starttls-required")
        if implicit_tls:
            argv.append("--implicit-tls")
        super().__init__(argv, name=name, logdir=workdir, ready_regex=r"^listening 127\.0\.0\.1:(\d+)$",
                         ready_timeout=ready_timeout)
        self.implicit_tls = implicit_tls
        self.protocol = protocol or "smtp"
        self.port = 0

    def start(self) -> "OtlsTestServer":
        super().start()
        self.port = int(self.match.group(1))
        try:
            wait_for_port(LOOPBACK, self.port, timeout=self.ready_timeout, alive=self.alive)
        except BaseException:
            self.stop()
            raise
        return self


@dataclasses.dataclass
class ProbeResult:
    cp: subprocess.CompletedProcess
    json: Optional[dict]
    json_error: Optional[str]

    @property
    def rc(self) -> int:
        return self.cp.returncode

    def describe(self) -> str:
        return describe(self.cp) + (f"\nJSON error: {self.json_error}" if self.json_error else "")


def otls_json(args: Sequence[str], *, timeout: float = 60.0, json_output: bool = True,
              env: Optional[dict] = None) -> ProbeResult:
    """Run `$OTLS_BIN ARGS...` (bounded; `env` added to the environment) and parse the one JSON
    object it prints."""
    cp = run([require_env("OTLS_BIN"), *[str(a) for a in args]], timeout=timeout,
             env={**os.environ, **env} if env else None)
    obj, err = None, None
    if json_output:
        try:
            obj = json.loads(cp.stdout)
            if not isinstance(obj, dict):
                obj, err = None, "stdout is JSON but not an object"
        except ValueError as e:
            err = f"stdout is not one JSON object: {e}"
    return ProbeResult(cp, obj, err)


def otls_probe(url: str, *args: str, timeout: float = 60.0, json_output: bool = True) -> ProbeResult:
    """Run `$OTLS_BIN probe URL [--json] ARGS...` (bounded) and parse its JSON object."""
    return otls_json(["probe", url] + (["--json"] if json_output else []) + list(args), timeout=timeout,
                     json_output=json_output)


# ---------------------------------------------------------------------------
# unittest glue


def make_workdir(label: str) -> Path:
    """A fresh private directory under $TMPDIR (never the source tree).

    Keep the label short: Postfix's queue sockets must fit in 107 bytes (sun_path).
    """
    d = Path(tempfile.mkdtemp(prefix=f"otls-{_safe_token(label)[:24]}-"))
    os.chmod(d, 0o711)
    return d


def remove_workdir(path: Path) -> None:
    if os.environ.get(KEEP_ENV) == "1":
        sys.stderr.write(f"[harness] keeping {path} ({KEEP_ENV}=1)\n")
        return
    shutil.rmtree(path, ignore_errors=True)


def _stop_class_daemon(d, no_survivors: bool) -> None:
    survivors = d.stop()
    if no_survivors and survivors:
        raise HarnessError(f"{d.name}: processes outlived the daemon: {survivors!r}")


class InteropTestCase(unittest.TestCase):
    """Base class: a class-wide work directory and daemon log tails on failure.

    Register daemons with `cls.keep_daemon(d)` (class level) or `self.start_daemon(d)`
    (started now, stopped at the end of the test); their log tails are printed to
    stderr when a test fails or errors.
    """

    workdir: Path
    _class_daemons: list

    @classmethod
    def setUpClass(cls) -> None:
        super().setUpClass()
        cls._class_daemons = []
        cls.workdir = make_workdir(cls.__name__)
        cls.addClassCleanup(remove_workdir, cls.workdir)

    @classmethod
    def keep_daemon(cls, d):
        cls._class_daemons.append(d)
        return d

    @classmethod
    def start_class_daemon(cls, d, *, no_survivors: bool = False):
        """Starts `d` for the whole class: kept for log tails and stopped by PID when the class
        ends. With no_survivors, a process that outlived the daemon fails the class."""
        cls.keep_daemon(d)
        cls.addClassCleanup(_stop_class_daemon, d, no_survivors)
        d.start()
        return d

    def start_daemon(self, d):
        self._test_daemons.append(d)
        d.start()
        self.addCleanup(d.stop)
        return d

    def scratch_dir(self) -> Path:
        d = Path(tempfile.mkdtemp(prefix="t-", dir=self.workdir))  # short: see make_workdir
        os.chmod(d, 0o711)
        return d

    def run(self, result=None):
        self._test_daemons = []
        class_daemons = list(getattr(type(self), "_class_daemons", []))
        sizes = {}
        for d in class_daemons:
            try:
                sizes[id(d)] = d.log_sizes()
            except OSError:
                pass
        before = _problem_count(result)
        out = super().run(result)
        if result is not None and _problem_count(result) > before:
            for d in [*self._test_daemons, *class_daemons]:
                try:
                    text = d.tail_text(since=sizes.get(id(d)))
                except Exception as e:  # never mask the test's own failure
                    text = f"(could not read logs: {e})"
                sys.stderr.write(f"\n===== logs after failure of {self.id()} ====={text}\n")
        return out


def _problem_count(result) -> int:
    if result is None:
        return 0
    return len(result.failures) + len(result.errors) + len(getattr(result, "unexpectedSuccesses", []))
