"""A private ProFTPD 1.3.8 (Debian 12's `proftpd-basic`, with mod_tls) for the interop tests.

One standalone proftpd, run in the foreground as root (it binds, then each session drops to
the configured User/Group), with its own proftpd.conf, PID file, scoreboard, delay table and
logs in the work directory, bound to 127.0.0.1 only:

* `plain_port`: explicit FTPS (RFC 4217, AUTH TLS); TLS is required on control and data
  channels unless `tls_required=False`;
* `tls_port`: implicit FTPS (TLS from the first byte), a <VirtualHost 127.0.0.1> with its own
  Port and `TLSOptions UseImplicitSSL`;
* passive data connections on a small block of high ports (`passive_ports`);
* anonymous login (`anonymous`/`ftp`, any password) into a read-only directory holding
  `README_NAME` (content `README_TEXT`) and a sub-directory `pub`; and a real user
  `USER`/`PASSWORD` (from an AuthUserFile) chrooted into its own home, also read-only.

ProFTPD's default data-channel rule is kept on purpose: a TLS data connection must resume the
control connection's TLS session (no `NoSessionReuseRequired`), which is what curl does and
what Python's ftplib does not do.

Observed behaviour worth knowing (ProFTPD 1.3.8, mod_tls/2.9.2, OpenSSL 3.0):

* with --nodaemon ProFTPD writes its SystemLog lines to stderr (proftpd.stderr.log), the
  SystemLog file stays empty; mod_tls writes to `tls_log`, transfers go to `transfer_log`;
* readiness is both ports accepting a TCP connection, so every start leaves one harmless
  "unable to accept TLS connection ... unexpected eof" entry for the implicit port in tls_log;
* after a TLS data transfer ProFTPD sends its final 226 only once the client has sent its
  close_notify (or closed the data connection): a client must close the data channel before
  it waits for the transfer's final reply;
* the <VirtualHost> repeats every setting (PassivePorts included), since it inherits nothing.
"""

from __future__ import annotations

import os
import pwd
import grp
import random
import shutil
import socket
import subprocess
from pathlib import Path

import harness as h

PROFTPD = "/usr/sbin/proftpd"
MODULE_PATH = "/usr/lib/proftpd"
LOCAL = h.LOOPBACK


def _account(candidates, lookup):
    for name in candidates:
        try:
            lookup(name)
            return name
        except KeyError:
            continue
    raise h.HarnessError(f"none of the accounts {candidates!r} exists")


class ProFTPD(h.Daemon):
    """A private ProFTPD with an explicit-FTPS and an implicit-FTPS listener on 127.0.0.1."""

    README_NAME = "README.otls"
    README_TEXT = "otls interop: hello from ProFTPD\n"
    PUB_DIR = "pub"
    USER = "otls"
    PASSWORD = "s3cret"
    PASSIVE_COUNT = 20

    def __init__(self, workdir, leaf: h.Leaf, *, tls_required: bool = True,
                 tls_protocols: str = "TLSv1.2 TLSv1.3", name: str = "proftpd"):
        if not Path(PROFTPD).exists():
            raise h.HarnessError(f"{PROFTPD} is missing (Debian package proftpd-basic)")
        self.dir = Path(workdir)
        self.dir.mkdir(parents=True, exist_ok=True)
        os.chmod(self.dir, 0o711)  # ProFTPD refuses logs in world-writable directories
        self.leaf = leaf
        self.tls_required = tls_required
        self.tls_protocols = tls_protocols
        self.plain_port = h.fresh_port()
        self.tls_port = h.fresh_port()
        self.passive_ports = self._passive_block(self.PASSIVE_COUNT)

        # the accounts sessions run as (Debian's package creates `ftp` in group nogroup)
        self.anon_user = _account(("ftp", "nobody"), pwd.getpwnam)
        self.anon_group = _account(("nogroup", "nobody"), grp.getgrnam)
        self.real_user_uid = pwd.getpwnam("nobody").pw_uid
        self.real_user_gid = grp.getgrnam(self.anon_group).gr_gid

        # certificate and key, copied so that the daemon's files all live in its directory
        self.cert = self.dir / "cert.pem"
        self.key = self.dir / "key.pem"
        self.cafile = self.dir / "ca.pem"
        shutil.copyfile(leaf.cert, self.cert)
        shutil.copyfile(leaf.key, self.key)
        os.chmod(self.key, 0o600)
        ca = Path(leaf.cert).parent / "ca.pem"
        if ca.is_file():
            shutil.copyfile(ca, self.cafile)
        else:
            shutil.copyfile(leaf.cert, self.cafile)

        # the anonymous tree and the real user's home (read-only for the sessions)
        self.anon_root = self.dir / "anon"
        self.user_home = self.dir / "home"
        for root in (self.anon_root, self.user_home):
            (root / self.PUB_DIR).mkdir(parents=True, exist_ok=True)
            (root / self.README_NAME).write_text(self.README_TEXT)
            for p in (root, root / self.PUB_DIR):
                os.chmod(p, 0o755)
            os.chmod(root / self.README_NAME, 0o644)

        # ftpasswd-style user file: name:crypt:uid:gid:gecos:home:shell
        self.passwd_file = self.dir / "ftpd.passwd"
        self.passwd_file.write_text(
            f"{self.USER}:{self._crypt(self.PASSWORD)}:{self.real_user_uid}:{self.real_user_gid}:"
            f"otls interop:{self.user_home}:/bin/false\n")
        os.chmod(self.passwd_file, 0o600)

        self.pid_file = self.dir / "proftpd.pid"
        self.system_log = self.dir / "proftpd.log"
        self.tls_log = self.dir / "tls.log"
        self.transfer_log = self.dir / "xferlog"
        self.conf = self.dir / "proftpd.conf"
        self.conf.write_text(self._config())
        argv = [PROFTPD, "--nodaemon", "--ipv4", "--config", str(self.conf)]
        super().__init__(argv, name=name, logdir=self.dir, ready_check=self._both_ports_accept,
                         extra_logs=[self.system_log, self.tls_log, self.transfer_log])
        self.early_exit_hint = f"\n(config {self.conf})"

    # -- ports

    @classmethod
    def _passive_block(cls, count: int) -> tuple[int, int]:
        """A block of `count` consecutive ports in 40000-60000 that were all free a moment ago."""
        rng = random.Random()
        for _ in range(50):
            first = rng.randrange(40000, 60000 - count)
            block = range(first, first + count)
            if all(cls._bindable(p) for p in block) and h.reserve_ports(block):
                return first, first + count - 1
        raise h.HarnessError(f"no block of {count} free loopback ports in 50 tries")

    @staticmethod
    def _bindable(port: int) -> bool:
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
            try:
                s.bind((LOCAL, port))
                return True
            except OSError:
                return False

    # -- config

    @staticmethod
    def _crypt(password: str) -> str:
        cp = h.run(["openssl", "passwd", "-6", "-stdin"], input=password + "\n", timeout=30)
        if cp.returncode != 0 or not cp.stdout.startswith("$6$"):
            raise h.HarnessError("openssl passwd -6 failed" + h.describe(cp))
        return cp.stdout.strip()

    def _tls_lines(self, implicit: bool) -> str:
        if self.leaf.key_type == "rsa":
            certs = f"TLSRSACertificateFile {self.cert}\n  TLSRSACertificateKeyFile {self.key}"
        else:
            certs = f"TLSECCertificateFile {self.cert}\n  TLSECCertificateKeyFile {self.key}"
        # TLSOptions deliberately lacks NoSessionReuseRequired: data connections must resume
        # the control connection's TLS session (ProFTPD's default).
        options = "TLSOptions UseImplicitSSL" if implicit else ""
        return f"""  TLSEngine on
  TLSLog {self.tls_log}
  TLSProtocol {self.tls_protocols}
  {certs}
  TLSCACertificateFile {self.cafile}
  TLSVerifyClient off
  TLSRenegotiate none
  TLSRequired {'on' if self.tls_required or implicit else 'off'}
  {options}"""

    def _server_body(self, implicit: bool) -> str:
        """What the main server and the implicit-TLS virtual host both need (a <VirtualHost>
        inherits nothing from the main server)."""
        return f"""  ServerName "otls interop ProFTPD{' (implicit TLS)' if implicit else ''}"
  Umask 022
  MaxLoginAttempts 3
  RequireValidShell off
  DefaultRoot ~
  AuthOrder mod_auth_file.c mod_auth_unix.c
  AuthUserFile {self.passwd_file}
  PassivePorts {self.passive_ports[0]} {self.passive_ports[1]}
  TimeoutIdle 60
  TimeoutNoTransfer 60
  TimeoutLogin 30
  AllowOverwrite off
  <Limit WRITE SITE_CHMOD>
    DenyAll
  </Limit>
{self._tls_lines(implicit)}
  <Anonymous {self.anon_root}>
    User {self.anon_user}
    Group {self.anon_group}
    UserAlias anonymous {self.anon_user}
    RequireValidShell off
    MaxClients 20
    <Limit WRITE SITE_CHMOD>
      DenyAll
    </Limit>
  </Anonymous>
"""

    def _config(self) -> str:
        return f"""# generated by tests/interop/ftp_daemon.py; nothing from /etc/proftpd is read
ServerType standalone
DefaultAddress {LOCAL}
SocketBindTight on
UseIPv6 off
Port {self.plain_port}
User nobody
Group {self.anon_group}
MaxInstances 30
PidFile {self.pid_file}
ScoreboardFile {self.dir / 'proftpd.scoreboard'}
DelayTable {self.dir / 'proftpd.delay'}
DelayEngine off
SystemLog {self.system_log}
TransferLog {self.transfer_log}
WtmpLog off
UseLastlog off
UseReverseDNS off
AuthPAM off
ControlsEngine off

ModulePath {MODULE_PATH}
LoadModule mod_tls.c
<IfModule mod_ident.c>
  IdentLookups off
</IfModule>

{self._server_body(implicit=False)}
<VirtualHost {LOCAL}>
  Port {self.tls_port}
{self._server_body(implicit=True)}</VirtualHost>
"""

    # -- lifecycle

    def _both_ports_accept(self) -> bool:
        return h.port_accepts(LOCAL, self.plain_port) and h.port_accepts(LOCAL, self.tls_port)

    def configtest(self) -> subprocess.CompletedProcess:
        """`proftpd -t` on the generated config (does not bind anything)."""
        return h.run([PROFTPD, "--configtest", "--ipv4", "--config", self.conf], timeout=30)

    def url(self, scheme: str = "ftp") -> str:
        return f"{scheme}://{LOCAL}:{self.tls_port if scheme == 'ftps' else self.plain_port}"
