"""IRC STARTTLS (IRCv3 tls extension) and implicit TLS against a real InspIRCd 3 (Debian's
`inspircd`), private instances with their own config on 127.0.0.1 high ports, run as the
`irc` user in the foreground and stopped by PID; plus real clients (openssl s_client
-starttls irc) and otls probe against otls's own IRC server role, and the STRIPTLS relay.

InspIRCd greets with a host-lookup NOTICE before it answers CAP LS, so a probe that does not
read past notices fails here. InspIRCd 3 keeps listing `tls` inside TLS (a second STARTTLS
gets 691), so the post-TLS list is compared with a raw session's, not assumed without `tls`.
"""

import os
import pwd
import shutil
import socket
import ssl
import unittest
from pathlib import Path

import harness as h

SERVERNAME = "irc.test"
LOCAL = h.LOOPBACK
INSPIRCD = "/usr/sbin/inspircd"
TOP_LEVEL_KEYS = ("target", "protocol", "mode", "outcome", "elapsed_ms")
IRC_USER = "irc"  # Debian's inspircd package account; InspIRCd refuses to run as root


class InspIRCd(h.Daemon):
    """A private InspIRCd: a plain listener (STARTTLS when `starttls`) and a TLS listener, both
    on 127.0.0.1 high ports, with config, certificate, PID file and log in `workdir`."""

    def __init__(self, workdir: Path, leaf: h.Leaf, *, starttls: bool = True, name: str = "inspircd"):
        self.dir = Path(workdir)
        self.dir.mkdir(parents=True, exist_ok=True)
        self.plain_port = h.fresh_port()
        self.tls_port = h.fresh_port()
        cert, key = self.dir / "cert.pem", self.dir / "key.pem"
        shutil.copyfile(leaf.cert, cert)
        shutil.copyfile(leaf.key, key)
        self.log = self.dir / "ircd.log"
        conf = self.dir / "inspircd.conf"
        conf.write_text(self._config(cert, key, starttls))
        pw = pwd.getpwnam(IRC_USER)
        for p in (self.dir, cert, key, conf):
            os.chown(p, pw.pw_uid, pw.pw_gid)
        os.chmod(key, 0o600)
        super().__init__([INSPIRCD, "--nofork", "--nopid", f"--config={conf}"], name=name, logdir=self.dir,
                         ready_regex=r"InspIRCd is now running", user=IRC_USER, extra_logs=[self.log])
        self.early_exit_hint = f"\n(config {conf})"

    def _config(self, cert, key, starttls):
        starttls_lines = ('<module name="starttls">\n<starttls enabled="yes" provider="otls">\n'
                          if starttls else "")
        # <dns> points at 127.0.0.1:53 where nothing answers: InspIRCd still sends its
        # "*** Looking up your hostname..." NOTICE first, and gives up after a second.
        return f"""
<server name="{SERVERNAME}" description="otls interop" network="OtlsTest">
<admin name="otls" nick="otls" email="otls@localhost">
<module name="cap">
<module name="ssl_gnutls">
{starttls_lines}<sslprofile name="otls" provider="gnutls" certfile="{cert}" keyfile="{key}" hash="sha256"
            requestclientcert="no">
<bind address="{LOCAL}" port="{self.plain_port}" type="clients">
<bind address="{LOCAL}" port="{self.tls_port}" type="clients" sslprofile="otls">
<connect allow="*" timeout="60" pingfreq="120" hardsendq="262144" softsendq="8192" recvq="8192"
         localmax="100" globalmax="100" useident="no">
<dns server="127.0.0.1" timeout="1">
<log method="file" type="* -USERINPUT -USEROUTPUT" level="default" target="{self.log}">
"""

    def start(self) -> "InspIRCd":
        super().start()
        try:
            for port in (self.plain_port, self.tls_port):
                h.wait_for_port(LOCAL, port, timeout=self.ready_timeout, alive=self.alive)
        except BaseException:
            self.stop()
            raise
        return self

    def url(self, scheme="irc"):
        return f"{scheme}://{LOCAL}:{self.tls_port if scheme == 'ircs' else self.plain_port}"


def read_lines(f, until, limit=100):
    """Lines until one matches `until` (bounded in count; the socket timeout bounds time)."""
    lines = []
    for _ in range(limit):
        raw = f.readline(8192)
        if not raw:
            break
        line = raw.decode("utf-8", "replace").rstrip("\r\n")
        lines.append(line)
        if until(line):
            break
    return lines


def truth_caps(host, port, ctx):
    """InspIRCd's CAP LS before and after STARTTLS, read with a raw socket (no otls code)."""
    def cap_ls(f, send):
        send(b"CAP LS 302\r\n")
        lines = read_lines(f, lambda l: " CAP " in l and " LS " in l and " LS * " not in l)
        caps = []
        for l in lines:
            if " CAP " in l and " LS " in l:
                caps += l.split(" :", 1)[1].split()
        return caps
    sock = socket.create_connection((host, port), timeout=20)
    try:
        f = sock.makefile("rb", buffering=0)  # unbuffered: read nothing past the 670
        before = cap_ls(f, sock.sendall)
        sock.sendall(b"STARTTLS\r\n")
        lines = read_lines(f, lambda l: " 670 " in l or " 691 " in l)
        assert lines and " 670 " in lines[-1], lines
        tls = ctx.wrap_socket(sock, server_hostname=SERVERNAME)
        sock = tls
        after = cap_ls(tls.makefile("rb"), tls.sendall)
        tls.sendall(b"CAP END\r\nQUIT\r\n")
    finally:
        sock.close()
    return before, after


class IrcInterop(h.InteropTestCase):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        if not Path(INSPIRCD).exists():
            raise unittest.SkipTest("Debian package inspircd is not installed")
        h.require_env("OTLS_BIN")
        cls.ca = h.TestCA(cls.workdir / "ca")
        cls.leaf = cls.ca.leaf(SERVERNAME, "localhost", LOCAL, key="ecdsa")
        cls.ircd = cls.start_class_daemon(InspIRCd(cls.workdir / "ircd", cls.leaf))
        cls.ircd_plain = cls.start_class_daemon(InspIRCd(cls.workdir / "ircd-nostarttls", cls.leaf, starttls=False,
                                             name="inspircd-nostarttls"))
        ctx = ssl.create_default_context(cafile=str(cls.ca.pem))
        cls.truth = truth_caps(LOCAL, cls.ircd.plain_port, ctx)
        cls._otls_servers = {}

    @classmethod
    def otls_server(cls, implicit=False):
        if implicit not in cls._otls_servers:
            s = h.OtlsTestServer(cls.workdir / f"otls-{'ircs' if implicit else 'irc'}", cls.leaf,
                                 hostname=SERVERNAME, protocol="irc", implicit_tls=implicit,
                                 name=f"otls_test_server-{'ircs' if implicit else 'irc'}")
            cls._otls_servers[implicit] = cls.start_class_daemon(s)
        return cls._otls_servers[implicit]

    def probe(self, url, *args, expect_rc, level="verify"):
        r = h.otls_probe(url, "--timeout", "20", "--cafile", self.ca.pem, "--servername", SERVERNAME,
                         "--level", level, *args, timeout=90)
        self.assertEqual(r.rc, expect_rc, f"unexpected exit status{r.describe()}")
        self.assertIsNotNone(r.json, f"--json did not print one JSON object{r.describe()}")
        for k in TOP_LEVEL_KEYS:
            self.assertIn(k, r.json, f"JSON lacks {k!r}{r.describe()}")
        return r.json, r

    def assert_verified(self, j, r):
        d = r.describe()
        self.assertEqual(j["outcome"], "ok", d)
        self.assertIsNone(j.get("error"), d)
        self.assertEqual(j["protocol"], "irc", d)
        self.assertEqual(j["tls"]["version"], "TLSv1.3", d)
        self.assertIs(j["certificate"]["trusted"], True, d)
        self.assertIs(j["certificate"]["hostname_match"], True, d)
        self.assertEqual(h.digest_bytes(j["certificate"]["chain"][0]["sha256_fingerprint"]),
                         self.leaf.sha256_fingerprint(), d)

    # -- InspIRCd

    def test_inspircd_starttls_verified(self):
        j, r = self.probe(self.ircd.url("irc"), expect_rc=0)
        d = r.describe()
        self.assert_verified(j, r)
        self.assertEqual(j["mode"], "starttls", d)
        self.assertIs(j["starttls"]["offered"], True, d)
        self.assertIs(j["starttls"]["accepted"], True, d)
        # the host-lookup NOTICE came before the CAP reply and was read past
        self.assertIn("Looking up your hostname", str(j["banner"]), d)
        before, after = j["capabilities"]["before_tls"], j["capabilities"]["after_tls"]
        truth_before, truth_after = self.truth
        self.assertEqual(before, truth_before, "pre-TLS CAP LS differs from a raw session's" + d)
        self.assertEqual(after, truth_after, "post-TLS CAP LS differs (not asked again?)" + d)
        self.assertIn("tls", before, d)
        # InspIRCd 3 keeps listing tls inside TLS, so the lists match and cannot show that the
        # probe asked again; irc_client_test's transcripts do (CAP LS is written after the
        # handshake, and the post-TLS list is the one read then).

    def test_inspircd_implicit_tls_verified(self):
        j, r = self.probe(self.ircd.url("ircs"), expect_rc=0)
        d = r.describe()
        self.assert_verified(j, r)
        self.assertEqual(j["mode"], "implicit", d)
        self.assertFalse(j["capabilities"]["before_tls"], d)
        self.assertEqual(j["capabilities"]["after_tls"], self.truth[1], d)

    def test_inspircd_without_starttls_module(self):
        j, r = self.probe(self.ircd_plain.url("irc"), expect_rc=3)
        d = r.describe()
        self.assertEqual(j["outcome"], "starttls-not-supported", d)
        self.assertIs(j["starttls"]["offered"], False, d)
        self.assertIsNone(j["tls"], d)
        self.assertTrue(j["capabilities"]["before_tls"], "CAP LS was not read" + d)
        self.assertNotIn("tls", j["capabilities"]["before_tls"], d)
        # the same InspIRCd still serves implicit TLS
        j, r = self.probe(self.ircd_plain.url("ircs"), expect_rc=0)
        self.assert_verified(j, r)

    def test_meddler_strips_tls_from_inspircd_at_verify(self):
        m = self.start_daemon(h.OtlsTestMeddler(self.scratch_dir(), (LOCAL, self.ircd.plain_port), "irc"))
        j, r = self.probe(m.url(), expect_rc=3)
        d = r.describe()
        self.assertEqual(j["outcome"], "starttls-not-supported", d)
        self.assertIs(j["starttls"]["offered"], False, d)
        self.assertIsNone(j["tls"], d)
        before = j["capabilities"]["before_tls"]
        self.assertIn("inspircd.org/poison", before, "CAP LS was not read through the relay" + d)
        self.assertNotIn("tls", before, d)

    def test_meddler_at_may_is_plaintext_with_warning(self):
        m = self.start_daemon(h.OtlsTestMeddler(self.scratch_dir(), (LOCAL, self.ircd.plain_port), "irc"))
        j, r = self.probe(m.url(), expect_rc=0, level="may")
        d = r.describe()
        self.assertEqual(j["outcome"], "ok", d)
        self.assertIsNone(j["tls"], d)
        self.assertTrue(any("plaintext" in str(w).lower() for w in j.get("warnings") or []), d)

    # -- otls's own server role

    def test_otls_probe_against_otls_server(self):
        for implicit in (False, True):
            with self.subTest(implicit=implicit):
                s = self.otls_server(implicit)
                j, r = self.probe(f"{'ircs' if implicit else 'irc'}://{LOCAL}:{s.port}", expect_rc=0)
                d = r.describe()
                self.assert_verified(j, r)
                self.assertEqual(j["capabilities"]["before_tls"], [] if implicit else ["tls"], d)
                self.assertFalse(j["capabilities"]["after_tls"], d)

    def test_meddler_against_otls_server(self):
        s = self.otls_server()
        m = self.start_daemon(h.OtlsTestMeddler(self.scratch_dir(), (LOCAL, s.port), "irc"))
        j, r = self.probe(m.url(), expect_rc=3)
        self.assertEqual(j["outcome"], "starttls-not-supported", r.describe())

    def s_client(self, port, *extra, stdin=""):
        argv = ["openssl", "s_client", "-connect", f"{LOCAL}:{port}", "-CAfile", str(self.ca.pem),
                "-verify_return_error", "-verify_hostname", SERVERNAME, "-ign_eof", "-nocommands", *extra]
        return h.run(argv, input=stdin, timeout=60)

    def test_openssl_s_client_starttls_irc_against_otls_server(self):
        cp = self.s_client(self.otls_server().port, "-starttls", "irc", stdin="CAP LS 302\r\nQUIT\r\n")
        d = h.describe(cp)
        self.assertIn("Verify return code: 0 (ok)", cp.stdout, d)
        self.assertRegex(cp.stdout, r"New, TLSv1\.3, Cipher is TLS_", d)
        # inside TLS: CAP LS answered without tls, QUIT answered with ERROR
        self.assertRegex(cp.stdout, r"(?m)^:irc\.test CAP \* LS :\r?$", d)
        self.assertRegex(cp.stdout, r"(?m)^ERROR :Closing link", d)
        self.assertEqual(cp.returncode, 0, "s_client failed (TLS closed without close_notify?)" + d)

    def test_openssl_s_client_starttls_irc_gives_up_on_inspircds_notice(self):
        # OpenSSL 3.0's s_client -starttls irc stops at the first line before the 670 that is
        # not a numeric reply, and InspIRCd writes its host-lookup NOTICE as it accepts, before
        # it reads STARTTLS: s_client reports "Server does not support STARTTLS" where otls
        # reads past the notice (test_inspircd_starttls_verified). This pins that difference.
        cp = self.s_client(self.ircd.plain_port, "-starttls", "irc", stdin="QUIT\r\n")
        d = h.describe(cp)
        self.assertNotEqual(cp.returncode, 0, d)
        self.assertIn("Server does not support STARTTLS", cp.stderr, d)

    def test_otls_server_discards_plaintext_pipelined_behind_starttls(self):
        # DESIGN.md rule 1: a command smuggled behind STARTTLS must not run inside TLS
        s = self.otls_server()
        sock = socket.create_connection((LOCAL, s.port), timeout=20)
        try:
            f = sock.makefile("rb", buffering=0)
            sock.sendall(b"STARTTLS\r\nNICK evil\r\nUSER e 0 * :e\r\n")
            lines = read_lines(f, lambda l: " 670 " in l or " 691 " in l)
            self.assertTrue(lines and " 670 " in lines[-1], lines)
            ctx = ssl.create_default_context(cafile=str(self.ca.pem))
            tls = ctx.wrap_socket(sock, server_hostname=SERVERNAME)
            sock = tls
            tls.sendall(b"PING :after\r\n")
            got = read_lines(tls.makefile("rb"), lambda l: "PONG" in l, limit=10)
            self.assertTrue(got and "PONG" in got[-1], got)
            self.assertFalse(any(" 001 " in l for l in got), f"the smuggled registration ran: {got}")
        finally:
            sock.close()


if __name__ == "__main__":
    unittest.main()
