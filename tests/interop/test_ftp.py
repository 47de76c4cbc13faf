"""FTP over TLS (RFC 4217 AUTH TLS, and implicit FTPS) against a real ProFTPD 1.3.8 with
mod_tls (Debian's `proftpd-basic`, private instances from ftp_daemon.py on 127.0.0.1 high
ports, stopped by PID), and real FTP clients against otls's FTP server role.

ProFTPD keeps its default that a TLS data connection must resume the control connection's TLS
session (RFC 4217 §10.2): `otls probe --data` must resume it, with TLS 1.3 (the ticket arrives
after the handshake) and TLS 1.2. curl is the referee for the listing; Python's ftplib, which
does not resume, is refused by the same server, which shows the requirement is really in force.

otls's server role has no data channel: real clients (curl -I, ftplib, openssl s_client,
gnutls-cli) upgrade, log in anonymously and set PROT P against it, and transfer commands are
refused with 502.
"""

import ftplib
import socket
import ssl
import unittest
from pathlib import Path

import harness as h
from ftp_daemon import ProFTPD

SERVERNAME = "ftp.test"
LOCAL = h.LOOPBACK
TOP_LEVEL_KEYS = ("target", "protocol", "mode", "outcome", "login", "data_channel", "elapsed_ms")
REUSED = "client reused TLS session for data connection"
NOT_REUSED = "client did not reuse TLS session, rejecting data connection"


def read_reply(f, limit=100):
    """One FTP reply (RFC 959 §4.2, multi-line aware) from a binary file: (code, lines)."""
    lines = []
    for _ in range(limit):
        raw = f.readline(8192)
        if not raw:
            raise h.ProtocolError(f"connection closed while reading a reply (got {lines!r})")
        line = raw.decode("utf-8", "replace").rstrip("\r\n")
        lines.append(line)
        if len(lines) == 1 and not (len(line) >= 3 and line[:3].isdigit()):
            raise h.ProtocolError(f"malformed FTP reply line {line!r}")
        if len(line) == 3 and len(lines) == 1:
            return int(line), lines
        if len(line) >= 4 and line[:3] == lines[0][:3] and line[3] == " ":
            return int(line[:3]), lines
    raise h.ProtocolError(f"FTP reply longer than {limit} lines")


def feat_lines(lines):
    """The features of a FEAT reply as otls reports them: label upper-cased, blanks trimmed."""
    out = []
    for line in lines[1:-1]:
        line = line.strip()
        if line:
            label, _, rest = line.partition(" ")
            out.append(label.upper() + (" " + rest if rest else ""))
    return out


def truth_features(port, ctx):
    """ProFTPD's FEAT before and after AUTH TLS, read with a raw socket (no otls code)."""
    sock = socket.create_connection((LOCAL, port), timeout=20)
    try:
        f = sock.makefile("rb", buffering=0)  # unbuffered: read nothing past the 234
        assert read_reply(f)[0] == 220
        sock.sendall(b"FEAT\r\n")
        before = feat_lines(read_reply(f)[1])
        sock.sendall(b"AUTH TLS\r\n")
        code, lines = read_reply(f)
        assert code == 234, lines
        sock = ctx.wrap_socket(sock, server_hostname=SERVERNAME)
        g = sock.makefile("rb")
        sock.sendall(b"FEAT\r\n")
        after = feat_lines(read_reply(g)[1])
        sock.sendall(b"QUIT\r\n")
        read_reply(g)
    finally:
        sock.close()
    return before, after


class FtpInterop(h.InteropTestCase):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        if not Path("/usr/sbin/proftpd").exists():
            raise unittest.SkipTest("Debian package proftpd-basic is not installed")
        h.require_env("OTLS_BIN")
        cls.ca = h.TestCA(cls.workdir / "ca")
        cls.leaf = cls.ca.leaf(SERVERNAME, "localhost", LOCAL, key="ecdsa")
        cls.ftpd = cls.start_class_daemon(ProFTPD(cls.workdir / "ftpd", cls.leaf), no_survivors=True)
        cls.ftpd12 = cls.start_class_daemon(
            ProFTPD(cls.workdir / "ftpd12", cls.leaf, tls_protocols="TLSv1.2", name="proftpd-tls12"),
            no_survivors=True)
        cls.ftpd_notls = cls.start_class_daemon(
            ProFTPD(cls.workdir / "ftpd-notls", cls.leaf, tls_required=False, name="proftpd-tls-optional"),
            no_survivors=True)
        cls.truth = truth_features(cls.ftpd.plain_port, cls.context())
        cls._otls_servers = {}

    @classmethod
    def context(cls, version=None):
        ctx = ssl.create_default_context(cafile=str(cls.ca.pem))
        if version is not None:
            ctx.minimum_version = ctx.maximum_version = version
        return ctx

    @classmethod
    def otls_server(cls, implicit=False, required=False):
        key = (implicit, required)
        if key not in cls._otls_servers:
            label = f"{'ftps' if implicit else 'ftp'}{'-required' if required else ''}"
            s = h.OtlsTestServer(cls.workdir / f"otls-{label}", cls.leaf, hostname=SERVERNAME,
                                 protocol="ftp", implicit_tls=implicit, starttls_required=required,
                                 name=f"otls_test_server-{label}")
            cls._otls_servers[key] = cls.start_class_daemon(s, no_survivors=True)
        return cls._otls_servers[key]

    def probe(self, url, *args, expect_rc, level="verify", env=None):
        r = h.otls_json(["probe", url, "--json", "--timeout", "20", "--cafile", self.ca.pem, "--servername",
                         SERVERNAME, "--level", level, *args], timeout=90, env=env)
        self.assertEqual(r.rc, expect_rc, f"unexpected exit status{r.describe()}")
        self.assertIsNotNone(r.json, f"--json did not print one JSON object{r.describe()}")
        for k in TOP_LEVEL_KEYS:
            self.assertIn(k, r.json, f"JSON lacks {k!r}{r.describe()}")
        return r.json, r

    def tls_log_offset(self, d):
        return d.tls_log.stat().st_size if d.tls_log.exists() else 0

    def tls_log_since(self, d, offset):
        with open(d.tls_log, "rb") as f:
            f.seek(offset)
            return f.read().decode("utf-8", "replace")

    def assert_verified(self, j, r, version="TLSv1.3"):
        d = r.describe()
        self.assertEqual(j["outcome"], "ok", d)
        self.assertIsNone(j.get("error"), d)
        self.assertEqual(j["protocol"], "ftp", d)
        self.assertEqual(j["tls"]["version"], version, d)
        self.assertIs(j["certificate"]["trusted"], True, d)
        self.assertIs(j["certificate"]["hostname_match"], True, d)
        self.assertEqual(h.digest_bytes(j["certificate"]["chain"][0]["sha256_fingerprint"]),
                         self.leaf.sha256_fingerprint(), d)

    def assert_listing(self, j, r, d_ftpd, version="TLSv1.3"):
        """The data channel ran under TLS, resumed the control session, and carried ProFTPD's
        listing of the anonymous root (ls -l lines naming README.otls and pub)."""
        d = r.describe()
        data = j["data_channel"]
        self.assertIsNotNone(data, d)
        self.assertIs(data["protected"], True, d)
        self.assertEqual(data["tls"]["version"], version, d)
        self.assertIs(data["tls"]["resumed"], True, "the data connection did not resume" + d)
        self.assertEqual(data["command"], "LIST", d)
        names = sorted(line.split()[-1] for line in data["lines"] if line.strip())
        self.assertEqual(names, sorted([d_ftpd.README_NAME, d_ftpd.PUB_DIR]), d)
        self.assertEqual(data["bytes"], sum(len(l) + 2 for l in data["lines"]), d)
        host, port = data["address"].rsplit(":", 1)
        self.assertEqual(host, LOCAL, d)
        first, last = d_ftpd.passive_ports
        self.assertTrue(first <= int(port) <= last, f"data port {port} outside {first}-{last}{d}")

    # -- ProFTPD: the control channel

    def test_proftpd_auth_tls_verified(self):
        j, r = self.probe(self.ftpd.url("ftp"), expect_rc=0)
        d = r.describe()
        self.assert_verified(j, r)
        self.assertEqual(j["mode"], "starttls", d)
        self.assertIs(j["starttls"]["offered"], True, d)
        self.assertIs(j["starttls"]["accepted"], True, d)
        self.assertIn("ProFTPD Server", j["banner"], d)
        before, after = j["capabilities"]["before_tls"], j["capabilities"]["after_tls"]
        self.assertEqual(before, self.truth[0], "pre-TLS FEAT differs from a raw session's" + d)
        self.assertEqual(after, self.truth[1], "post-TLS FEAT differs (not asked again?)" + d)
        self.assertIn("AUTH TLS", before, d)
        self.assertIsNone(j["login"], d)
        self.assertIsNone(j["data_channel"], d)

    def test_proftpd_implicit_tls_verified(self):
        j, r = self.probe(self.ftpd.url("ftps"), expect_rc=0)
        d = r.describe()
        self.assert_verified(j, r)
        self.assertEqual(j["mode"], "implicit", d)
        self.assertEqual(j["capabilities"]["before_tls"], [], d)
        self.assertEqual(j["capabilities"]["after_tls"], self.truth[1], d)

    def test_proftpd_without_tls_required_still_upgrades(self):
        j, r = self.probe(self.ftpd_notls.url("ftp"), "--data", expect_rc=0)
        self.assert_verified(j, r)
        self.assert_listing(j, r, self.ftpd_notls)

    # -- ProFTPD: --data, the protected data channel with session resumption

    def test_proftpd_data_channel_resumes_tls13(self):
        before = self.tls_log_offset(self.ftpd)
        j, r = self.probe(self.ftpd.url("ftp"), "--data", expect_rc=0)
        d = r.describe()
        self.assert_verified(j, r)
        self.assertEqual(j["login"], "anonymous", d)
        self.assert_listing(j, r, self.ftpd)
        log = self.tls_log_since(self.ftpd, before)
        self.assertIn(REUSED, log, "ProFTPD did not see the session reused" + d)
        self.assertNotIn(NOT_REUSED, log, d)
        self.assertIn("TLSv1.3 data connection accepted", log, d)

    def test_proftpd_data_channel_resumes_tls12(self):
        before = self.tls_log_offset(self.ftpd12)
        j, r = self.probe(self.ftpd12.url("ftp"), "--data", expect_rc=0)
        self.assert_verified(j, r, version="TLSv1.2")
        self.assert_listing(j, r, self.ftpd12, version="TLSv1.2")
        log = self.tls_log_since(self.ftpd12, before)
        self.assertIn(REUSED, log, r.describe())

    def test_proftpd_implicit_data_channel(self):
        j, r = self.probe(self.ftpd.url("ftps"), "--data", expect_rc=0)
        self.assert_verified(j, r)
        self.assert_listing(j, r, self.ftpd)

    def test_listing_matches_curl(self):
        # The referee: curl lists the same directory (curl also resumes the session).
        cp = h.run(["curl", "-sS", "--ssl-reqd", "--cacert", self.ca.pem, "--max-time", "30",
                    self.ftpd.url("ftp") + "/"], timeout=60)
        self.assertEqual(cp.returncode, 0, h.describe(cp))
        j, r = self.probe(self.ftpd.url("ftp"), "--data", expect_rc=0)
        self.assertEqual(j["data_channel"]["lines"], cp.stdout.splitlines(), r.describe())

    def test_ftplib_without_resumption_is_refused_by_the_same_server(self):
        # Shows the requirement otls meets is in force: ftplib makes a full handshake on the
        # data connection, and ProFTPD answers 425.
        ftp = ftplib.FTP_TLS(context=self.context(), timeout=20)
        try:
            ftp.connect(LOCAL, self.ftpd.plain_port)
            ftp.login()
            ftp.prot_p()
            with self.assertRaises(ftplib.error_temp) as cm:
                ftp.nlst()
            self.assertTrue(str(cm.exception).startswith("425 "), str(cm.exception))
            ftp.quit()
        finally:
            ftp.close()

    def test_proftpd_named_user_from_environment(self):
        d = self.ftpd
        j, r = self.probe(d.url("ftp"), "--data", "--user", d.USER, expect_rc=0,
                          env={"OTLS_PASSWORD": d.PASSWORD})
        self.assert_verified(j, r)
        self.assertEqual(j["login"], d.USER, r.describe())
        self.assert_listing(j, r, d)
        self.assertNotIn(d.PASSWORD, r.cp.stdout + r.cp.stderr, "the password was echoed")

    def test_proftpd_wrong_password_is_login_failed(self):
        d = self.ftpd
        j, r = self.probe(d.url("ftp"), "--user", d.USER, "--password", "wrong", expect_rc=14)
        dd = r.describe()
        self.assertEqual(j["outcome"], "login-failed", dd)
        self.assertIn("530 Login incorrect.", j["error"]["peer_text"], dd)
        self.assertIsNone(j["login"], dd)
        self.assertEqual(j["tls"]["version"], "TLSv1.3", "the login was not inside TLS" + dd)

    # -- STRIPTLS in front of ProFTPD

    def test_meddler_strips_auth_tls_at_verify(self):
        m = self.start_daemon(h.OtlsTestMeddler(self.scratch_dir(), (LOCAL, self.ftpd.plain_port), "ftp"))
        j, r = self.probe(m.url(), "--data", expect_rc=3)
        d = r.describe()
        self.assertEqual(j["outcome"], "starttls-not-supported", d)
        self.assertIs(j["starttls"]["offered"], False, d)
        self.assertIsNone(j["tls"], d)
        before = j["capabilities"]["before_tls"]
        self.assertIn("EPSV", before, "FEAT was not read through the relay" + d)
        self.assertNotIn("AUTH TLS", before, d)
        self.assertIsNone(j["login"], d)

    def test_meddler_at_may_sends_no_credentials(self):
        d = self.ftpd_notls
        m = self.start_daemon(h.OtlsTestMeddler(self.scratch_dir(), (LOCAL, d.plain_port), "ftp"))
        log_from = h.file_offset(d.stderr_log)
        j, r = self.probe(m.url(), "--user", d.USER, "--password", d.PASSWORD, expect_rc=0, level="may")
        dd = r.describe()
        self.assertEqual(j["outcome"], "ok", dd)
        self.assertIsNone(j["tls"], dd)
        self.assertIsNone(j["login"], dd)
        warnings = " ".join(j["warnings"]).lower()
        self.assertIn("plaintext", warnings, dd)
        self.assertIn("login and data transfer skipped", warnings, dd)
        # ProFTPD logs every login attempt; there was none
        with open(d.stderr_log, "rb") as f:
            f.seek(log_from)
            log = f.read().decode("utf-8", "replace")
        self.assertIn("FTP session opened", log, "the probe did not reach ProFTPD" + dd)
        self.assertNotIn(f"USER {d.USER}", log, "credentials went out in plaintext" + dd)

    # -- otls's own server role

    def test_otls_probe_against_otls_server(self):
        for implicit in (False, True):
            with self.subTest(implicit=implicit):
                s = self.otls_server(implicit)
                j, r = self.probe(f"{'ftps' if implicit else 'ftp'}://{LOCAL}:{s.port}", expect_rc=0)
                d = r.describe()
                self.assert_verified(j, r)
                self.assertEqual(j["capabilities"]["before_tls"],
                                 [] if implicit else ["AUTH TLS", "PBSZ", "PROT", "UTF8"], d)
                self.assertEqual(j["capabilities"]["after_tls"], ["PBSZ", "PROT", "UTF8"], d)

    def test_otls_server_has_no_data_channel(self):
        s = self.otls_server()
        j, r = self.probe(f"ftp://{LOCAL}:{s.port}", "--data", expect_rc=14)
        d = r.describe()
        self.assertEqual(j["outcome"], "data-channel-failure", d)
        self.assertEqual(j["login"], "anonymous", d)
        self.assertIn("502 No data channel on this server (control channel only)",
                      j["error"]["peer_text"], d)

    def test_curl_ssl_reqd_against_otls_server(self):
        # curl -I on a directory URL logs in and checks the path without a data connection.
        for implicit in (False, True):
            with self.subTest(implicit=implicit):
                s = self.otls_server(implicit)
                url = f"{'ftps' if implicit else 'ftp'}://{LOCAL}:{s.port}/"
                cp = h.run(["curl", "-sS", "-v", "--ssl-reqd", "--cacert", self.ca.pem, "--max-time", "30",
                            "-I", url], timeout=60)
                d = h.describe(cp)
                self.assertEqual(cp.returncode, 0, d)
                self.assertIn("SSL certificate verify ok", cp.stderr, d)
                if not implicit:
                    self.assertRegex(cp.stderr, r"< 234 AUTH (SSL|TLS) successful", d)
                self.assertIn("< 230 Anonymous access granted", cp.stderr, d)
                self.assertIn("< 200 Protection level set to P", cp.stderr, d)
                self.assertIn('< 257 "/" is the current directory', cp.stderr, d)

    def test_ftplib_against_otls_server(self):
        s = self.otls_server(required=True)
        ftp = ftplib.FTP_TLS(context=self.context(), timeout=20)
        try:
            ftp.connect(LOCAL, s.port)
            # before AUTH TLS a required-TLS server refuses the login
            with self.assertRaises(ftplib.error_perm) as cm:
                ftp.sendcmd("USER anonymous")
            self.assertTrue(str(cm.exception).startswith("530 "), str(cm.exception))
            self.assertEqual(ftp.auth(), "234 AUTH TLS successful")
            self.assertEqual(ftp.sock.version(), "TLSv1.3")
            self.assertEqual(ftp.login(), "230 Anonymous access granted")
            self.assertEqual(ftp.prot_p(), "200 Protection level set to P")
            self.assertEqual(ftp.pwd(), "/")
            with self.assertRaises(ftplib.error_perm) as cm:
                ftp.nlst()
            self.assertTrue(str(cm.exception).startswith("502 "), str(cm.exception))
            self.assertEqual(ftp.quit(), "221 Goodbye")
        finally:
            ftp.close()
        # a named user is refused: the server role has no accounts
        ftp = ftplib.FTP_TLS(context=self.context(), timeout=20)
        try:
            ftp.connect(LOCAL, s.port)
            with self.assertRaises(ftplib.error_perm) as cm:
                ftp.login("otls", "s3cret")
            self.assertEqual(str(cm.exception), "530 Login incorrect")
        finally:
            ftp.close()

    def test_openssl_s_client_starttls_ftp_against_otls_server(self):
        s = self.otls_server()
        cp = h.run(["openssl", "s_client", "-connect", f"{LOCAL}:{s.port}", "-CAfile", str(self.ca.pem),
                    "-verify_return_error", "-verify_hostname", SERVERNAME, "-ign_eof", "-nocommands",
                    "-starttls", "ftp"], input="FEAT\r\nPBSZ 0\r\nPROT P\r\nQUIT\r\n", timeout=60)
        d = h.describe(cp)
        self.assertIn("Verify return code: 0 (ok)", cp.stdout, d)
        self.assertRegex(cp.stdout, r"New, TLSv1\.3, Cipher is TLS_", d)
        # inside TLS: FEAT without AUTH, PBSZ and PROT accepted, QUIT answered
        self.assertRegex(cp.stdout, r"(?m)^211-Features:\r?$", d)
        self.assertNotRegex(cp.stdout.split("Verify return code")[-1], r"(?m)^ AUTH TLS", d)
        self.assertRegex(cp.stdout, r"(?m)^200 PBSZ=0\r?$", d)
        self.assertRegex(cp.stdout, r"(?m)^200 Protection level set to P\r?$", d)
        self.assertRegex(cp.stdout, r"(?m)^221 Goodbye\r?$", d)
        self.assertEqual(cp.returncode, 0, d)

    def test_gnutls_cli_starttls_ftp_against_otls_server(self):
        s = self.otls_server()
        cp = h.run(["gnutls-cli", "--starttls-proto=ftp", "--x509cafile", str(self.ca.pem), "-p", str(s.port),
                    LOCAL], input="PBSZ 0\r\nPROT P\r\nQUIT\r\n", timeout=60)
        d = h.describe(cp)
        self.assertIn("Handshake was completed", cp.stdout + cp.stderr, d)
        self.assertRegex(cp.stdout, r"(?m)^200 PBSZ=0\r?$", d)
        self.assertRegex(cp.stdout, r"(?m)^221 Goodbye\r?$", d)

    def test_otls_server_discards_plaintext_pipelined_behind_auth_tls(self):
        # DESIGN.md rule 1: commands smuggled behind AUTH TLS must not run inside TLS
        s = self.otls_server()
        sock = socket.create_connection((LOCAL, s.port), timeout=20)
        try:
            f = sock.makefile("rb", buffering=0)
            self.assertEqual(read_reply(f)[0], 220)
            sock.sendall(b"AUTH TLS\r\nUSER anonymous\r\nPASS x@\r\n")
            self.assertEqual(read_reply(f), (234, ["234 AUTH TLS successful"]))
            sock = self.context().wrap_socket(sock, server_hostname=SERVERNAME)
            g = sock.makefile("rb")
            sock.sendall(b"PWD\r\n")
            code, lines = read_reply(g)
            self.assertEqual(code, 530, f"the smuggled login ran: {lines}")
            sock.sendall(b"QUIT\r\n")
            self.assertEqual(read_reply(g)[0], 221)
        finally:
            sock.close()


if __name__ == "__main__":
    unittest.main()
