"""Real IMAP, POP3, NNTP and ManageSieve clients against otls's own server roles
(otls_test_server --protocol imap|pop3|nntp|sieve), each upgrading to TLS and verifying
the certificate against the otls test CA, with negative checks that verification is real:
openssl s_client -starttls, gnutls-cli --starttls-proto, curl (imap://, pop3:// with
--ssl-reqd), Python's imaplib, poplib and nntplib. Plus, per protocol, the STARTTLS
command-injection check of DESIGN.md rule 1 with a raw socket.

The servers listen on 127.0.0.1 with a certificate for localhost, 127.0.0.1 and mail.test.
"""

import imaplib
import poplib
import re
import socket
import ssl
import unittest
import warnings

import harness as h

try:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # removed in Python 3.13; Debian 12 has 3.11
        import nntplib
except ImportError:  # pragma: no cover
    nntplib = None

HOSTNAME = "mail.test"
LOCAL = "127.0.0.1"
PROTOCOLS = ("imap", "pop3", "nntp", "sieve")
IMPLICIT = ("imap", "pop3", "nntp")  # protocols with an implicit-TLS twin (imaps, pop3s, nntps)

# what each client sends once TLS is up, and what must come back
AFTER_TLS = {
    "imap": ("a1 CAPABILITY\r\na2 LOGOUT\r\n", r"(?m)^\* CAPABILITY .*IMAP4", r"(?m)^a2 OK"),
    "pop3": ("CAPA\r\nQUIT\r\n", r"(?m)^\+OK", r"(?m)^\.\r?$"),
    "nntp": ("CAPABILITIES\r\nQUIT\r\n", r"(?m)^101 ", r"(?m)^205 "),
    "sieve": ("CAPABILITY\r\nLOGOUT\r\n", r'(?mi)^"IMPLEMENTATION" ', r"(?mi)^(OK|BYE)\b"),
}
# the pre-TLS upgrade offer; must not appear once TLS is up
OFFER = {"imap": r"\bSTARTTLS\b", "pop3": r"(?m)^STLS\b", "nntp": r"(?m)^STARTTLS\b", "sieve": r'(?mi)^"STARTTLS"'}


def read_to_eof(f, limit=400):
    """Every line until the peer closes (bounded in count; the socket's timeout bounds time)."""
    lines = []
    for _ in range(limit):
        try:
            raw = f.readline(8192)
        except (socket.timeout, ssl.SSLError, ConnectionError):
            break
        if not raw:
            break
        lines.append(raw.decode("utf-8", "replace").rstrip("\r\n"))
    return lines


class ClientsVsOtlsServerMail(h.InteropTestCase):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        h.require_env("OTLS_TEST_SERVER")
        cls.ca = h.TestCA(cls.workdir / "ca")
        cls.other_ca = h.TestCA(cls.workdir / "other-ca")
        cls.leaf = cls.ca.leaf("localhost", LOCAL, HOSTNAME, key="ecdsa")
        cls._servers = {}

    @classmethod
    def server(cls, protocol, variant="starttls"):
        """One otls_test_server per (protocol, variant), started on first use, stopped with the class."""
        key = (protocol, variant)
        if key not in cls._servers:
            s = h.OtlsTestServer(cls.workdir / f"srv-{protocol}-{variant}", cls.leaf, hostname=HOSTNAME,
                                 protocol=protocol, starttls_required=(variant == "required"),
                                 implicit_tls=(variant == "implicit"),
                                 name=f"otls_test_server-{protocol}-{variant}")
            cls.keep_daemon(s)
            s.start()
            cls.addClassCleanup(s.stop)
            cls._servers[key] = s
        return cls._servers[key].port

    def context(self, ca=None):
        return ssl.create_default_context(cafile=str(ca or self.ca.pem))

    def assert_after_tls(self, protocol, out, d):
        _, first, last = AFTER_TLS[protocol]
        self.assertRegex(out, first, "no answer to the command sent over TLS" + d)
        self.assertRegex(out, last, "no answer to the last command sent over TLS" + d)
        self.assertNotRegex(out, OFFER[protocol], "the upgrade is still offered after TLS" + d)

    # -- openssl s_client (OpenSSL 3.0: -starttls imap, pop3, nntp, sieve)

    def s_client(self, port, *extra, protocol=None, ca=None, stdin=""):
        # -nocommands: lines starting with Q or R are sent, not taken as s_client commands;
        # -ign_eof: keep reading after stdin ends, until the server closes
        argv = ["openssl", "s_client"] + (["-starttls", protocol] if protocol else []) + [
            "-connect", f"{LOCAL}:{port}", "-CAfile", str(ca or self.ca.pem), "-verify_return_error",
            "-ign_eof", "-nocommands", *extra]
        return h.run(argv, input=stdin, timeout=60)

    def test_openssl_s_client_starttls(self):
        for protocol in PROTOCOLS:
            with self.subTest(protocol=protocol):
                cp = self.s_client(self.server(protocol), "-verify_hostname", HOSTNAME, protocol=protocol,
                                   stdin=AFTER_TLS[protocol][0])
                d = h.describe(cp)
                self.assertIn("Verify return code: 0 (ok)", cp.stdout, d)
                self.assertRegex(cp.stdout, r"New, TLSv1\.3, Cipher is TLS_", d)
                self.assert_after_tls(protocol, cp.stdout, d)
                # s_client exits 1 on "unexpected eof while reading": the server must end TLS with close_notify
                self.assertEqual(cp.returncode, 0, "s_client failed (TLS closed without close_notify?)" + d)

    def test_openssl_s_client_sieve_reads_capabilities_sent_after_tls(self):
        # RFC 5804 §2.2: after STARTTLS the server sends its capabilities unasked
        cp = self.s_client(self.server("sieve"), "-verify_hostname", HOSTNAME, protocol="sieve", stdin="LOGOUT\r\n")
        d = h.describe(cp)
        self.assertEqual(cp.returncode, 0, d)
        self.assertRegex(cp.stdout, r'(?mi)^"IMPLEMENTATION" ', "no capabilities after TLS without asking" + d)
        self.assertNotRegex(cp.stdout, OFFER["sieve"], d)

    def test_openssl_s_client_rejects_other_ca_and_other_name(self):
        for protocol in PROTOCOLS:
            with self.subTest(protocol=protocol, check="ca"):
                cp = self.s_client(self.server(protocol), protocol=protocol, ca=self.other_ca.pem)
                self.assertNotEqual(cp.returncode, 0, h.describe(cp))
                self.assertRegex(cp.stdout + cp.stderr, r"unable to get local issuer certificate|verify error",
                                 h.describe(cp))
            with self.subTest(protocol=protocol, check="name"):
                cp = self.s_client(self.server(protocol), "-verify_hostname", "other.example", protocol=protocol)
                self.assertNotEqual(cp.returncode, 0, h.describe(cp))
                self.assertIn("hostname mismatch", cp.stdout + cp.stderr, h.describe(cp))

    def test_openssl_s_client_implicit_tls(self):
        greeting = {"imap": r"(?m)^\* OK", "pop3": r"(?m)^\+OK", "nntp": r"(?m)^20[01] "}
        for protocol in IMPLICIT:
            with self.subTest(protocol=protocol):
                cp = self.s_client(self.server(protocol, "implicit"), "-verify_ip", LOCAL,
                                   stdin=AFTER_TLS[protocol][0])
                d = h.describe(cp)
                self.assertIn("Verify return code: 0 (ok)", cp.stdout, d)
                self.assertRegex(cp.stdout, greeting[protocol], d)
                self.assert_after_tls(protocol, cp.stdout, d)
                self.assertEqual(cp.returncode, 0, d)

    # -- gnutls-cli 3.7 (--starttls-proto does the upgrade itself, then relays stdin)

    def gnutls_cli(self, port, *extra, protocol=None, ca=None, stdin=""):
        argv = ["gnutls-cli"] + ([f"--starttls-proto={protocol}"] if protocol else []) + [
            "--x509cafile", str(ca or self.ca.pem), "--port", str(port), *extra, LOCAL]
        return h.run(argv, input=stdin, timeout=60)

    def skip_if_gnutls_cannot_nntp(self, port):
        # gnutls-cli 3.7's NNTP upgrade waits for the text "200 " and nothing else, so it times out
        # on a "201" (no posting) greeting, which RFC 3977 §5.1 allows (INN's nnrpd sends it too).
        greeting = h.service_greeting(LOCAL, port, "nntp", timeout=10)
        if not greeting.startswith("200 "):
            self.skipTest(f"gnutls-cli --starttls-proto=nntp needs a '200 ' greeting; otls greets {greeting!r}")

    def test_gnutls_cli_starttls(self):
        for protocol in PROTOCOLS:
            with self.subTest(protocol=protocol):
                port = self.server(protocol)
                if protocol == "nntp":
                    self.skip_if_gnutls_cannot_nntp(port)
                cp = self.gnutls_cli(port, "--verify-hostname", HOSTNAME, protocol=protocol,
                                     stdin=AFTER_TLS[protocol][0])
                d = h.describe(cp)
                self.assertEqual(cp.returncode, 0, d)
                self.assertIn("Status: The certificate is trusted.", cp.stdout, d)
                self.assertIn("Handshake was completed", cp.stdout, d)
                self.assertIn("(TLS1.3", cp.stdout, d)
                after = cp.stdout.split("- Simple Client Mode:", 1)[-1]
                self.assert_after_tls(protocol, after, d)

    def test_gnutls_cli_rejects_other_ca_and_other_name(self):
        for protocol in ("imap", "pop3", "sieve"):
            with self.subTest(protocol=protocol, check="ca"):
                cp = self.gnutls_cli(self.server(protocol), protocol=protocol, ca=self.other_ca.pem)
                self.assertNotEqual(cp.returncode, 0, h.describe(cp))
                self.assertIn("The certificate is NOT trusted", cp.stdout + cp.stderr, h.describe(cp))
            with self.subTest(protocol=protocol, check="name"):
                cp = self.gnutls_cli(self.server(protocol), "--verify-hostname", "other.example", protocol=protocol)
                self.assertNotEqual(cp.returncode, 0, h.describe(cp))
                self.assertIn("does not match", cp.stdout + cp.stderr, h.describe(cp))

    def test_gnutls_cli_implicit_tls(self):
        for protocol in IMPLICIT:
            with self.subTest(protocol=protocol):
                cp = self.gnutls_cli(self.server(protocol, "implicit"), "--verify-hostname", HOSTNAME,
                                     stdin=AFTER_TLS[protocol][0])
                d = h.describe(cp)
                self.assertEqual(cp.returncode, 0, d)
                self.assertIn("Status: The certificate is trusted.", cp.stdout, d)
                self.assert_after_tls(protocol, cp.stdout.split("- Simple Client Mode:", 1)[-1], d)

    # -- curl 7.88 (imap://, pop3:// with --ssl-reqd: STARTTLS or fail)

    def curl(self, url, *extra, ca=None):
        return h.run(["curl", "-v", "--ssl-reqd", "--cacert", str(ca or self.ca.pem), "--user", "otls:secret",
                      "--max-time", "30", *extra, url], timeout=60)

    def test_curl_starttls_verified(self):
        # curl logs in after the upgrade; the server role refuses (exit 67, "login denied") or accepts:
        # either way TLS must have been established and verified first, and the capabilities re-read
        recheck = {"imap": r"(?m)^> A\d+ CAPABILITY", "pop3": r"(?m)^> CAPA"}
        for protocol in ("imap", "pop3"):
            with self.subTest(protocol=protocol):
                cp = self.curl(f"{protocol}://{LOCAL}:{self.server(protocol)}/")
                d = h.describe(cp)
                self.assertIn(cp.returncode, (0, 67), d)
                err = cp.stderr
                self.assertRegex(err, r"SSL connection using TLSv1\.3 / TLS_", d)
                self.assertIn("SSL certificate verify ok.", err, d)
                after = err.split("SSL connection using", 1)[1]
                self.assertRegex(after, recheck[protocol], "curl did not ask for capabilities after TLS" + d)
                server_lines = "\n".join(l[2:] for l in after.splitlines() if l.startswith("< "))
                self.assertNotRegex(server_lines, OFFER[protocol], "upgrade offered again after TLS" + d)

    def test_curl_implicit_tls_verified(self):
        for protocol in ("imap", "pop3"):
            with self.subTest(protocol=protocol):
                cp = self.curl(f"{protocol}s://{LOCAL}:{self.server(protocol, 'implicit')}/")
                d = h.describe(cp)
                self.assertIn(cp.returncode, (0, 67), d)
                self.assertIn("SSL certificate verify ok.", cp.stderr, d)

    def test_curl_rejects_other_ca_and_other_name(self):
        for protocol in ("imap", "pop3"):
            port = self.server(protocol)
            with self.subTest(protocol=protocol, check="ca"):
                cp = self.curl(f"{protocol}://{LOCAL}:{port}/", ca=self.other_ca.pem)
                self.assertEqual(cp.returncode, 60, h.describe(cp))  # CURLE_PEER_FAILED_VERIFICATION
            with self.subTest(protocol=protocol, check="name"):
                cp = self.curl(f"{protocol}://other.example:{port}/", "--resolve", f"other.example:{port}:{LOCAL}")
                self.assertEqual(cp.returncode, 60, h.describe(cp))

    # -- Python imaplib

    def test_imaplib_starttls(self):
        for host in (LOCAL, "localhost"):  # IP SAN, then DNS SAN
            with self.subTest(host=host):
                m = imaplib.IMAP4(host, self.server("imap"), timeout=20)
                try:
                    self.assertIn("STARTTLS", m.capabilities)
                    typ, _ = m.starttls(ssl_context=self.context())
                    self.assertEqual(typ, "OK")
                    self.assertEqual(m.sock.version(), "TLSv1.3")
                    # imaplib asked CAPABILITY again after the handshake
                    self.assertNotIn("STARTTLS", m.capabilities, m.capabilities)
                    self.assertNotIn("LOGINDISABLED", m.capabilities, m.capabilities)
                    typ, data = m.capability()
                    self.assertEqual(typ, "OK", data)
                    self.assertNotIn(b"STARTTLS", data[0].upper(), data)
                    self.assertEqual(m.noop()[0], "OK")
                finally:
                    typ, _ = m.logout()
                self.assertEqual(typ, "BYE")

    def test_imaplib_refuses_unverifiable_certificate(self):
        m = imaplib.IMAP4(LOCAL, self.server("imap"), timeout=20)
        try:
            with self.assertRaises(ssl.SSLCertVerificationError):
                m.starttls(ssl_context=self.context(self.other_ca.pem))
        finally:
            try:
                m.sock.close()
            except OSError:
                pass

    def test_imaplib_starttls_required(self):
        m = imaplib.IMAP4(LOCAL, self.server("imap", "required"), timeout=20)
        try:
            self.assertIn("STARTTLS", m.capabilities)
            self.assertIn("LOGINDISABLED", m.capabilities, "LOGINDISABLED not advertised before TLS")
            with self.assertRaises(imaplib.IMAP4.error) as refused:
                m.login("otls", "secret")
            self.assertRegex(str(refused.exception), r"(?i)PRIVACYREQUIRED|TLS|STARTTLS|disabled",
                             "LOGIN before TLS was not clearly refused")
            m.starttls(ssl_context=self.context())
            self.assertNotIn("LOGINDISABLED", m.capabilities, "LOGINDISABLED still advertised after TLS")
            self.assertNotIn("STARTTLS", m.capabilities)
            self.assertEqual(m.noop()[0], "OK")
        finally:
            m.logout()

    def test_imaplib_implicit_tls(self):
        m = imaplib.IMAP4_SSL(LOCAL, self.server("imap", "implicit"), ssl_context=self.context(), timeout=20)
        try:
            self.assertEqual(m.sock.version(), "TLSv1.3")
            self.assertNotIn("STARTTLS", m.capabilities)
            self.assertEqual(m.noop()[0], "OK")
        finally:
            m.logout()

    # -- Python poplib

    def test_poplib_stls(self):
        p = poplib.POP3(LOCAL, self.server("pop3"), timeout=20)
        try:
            self.assertIn("STLS", p.capa())
            resp = p.stls(context=self.context())
            self.assertTrue(resp.startswith(b"+OK"), resp)
            self.assertEqual(p.sock.version(), "TLSv1.3")
            caps = p.capa()  # asked again, over TLS
            self.assertNotIn("STLS", caps, caps)
        finally:
            resp = p.quit()
        self.assertTrue(resp.startswith(b"+OK"), resp)

    def test_poplib_refuses_unverifiable_certificate(self):
        p = poplib.POP3(LOCAL, self.server("pop3"), timeout=20)
        try:
            with self.assertRaises(ssl.SSLCertVerificationError):
                p.stls(context=self.context(self.other_ca.pem))
        finally:
            try:
                p.sock.close()
            except OSError:
                pass

    def test_poplib_stls_required(self):
        p = poplib.POP3(LOCAL, self.server("pop3", "required"), timeout=20)
        try:
            self.assertIn("STLS", p.capa())
            with self.assertRaises(poplib.error_proto):
                p.user("otls")  # -ERR before STLS
            p.stls(context=self.context())
            self.assertNotIn("STLS", p.capa())
        finally:
            p.quit()

    def test_poplib_implicit_tls(self):
        p = poplib.POP3_SSL(LOCAL, self.server("pop3", "implicit"), context=self.context(), timeout=20)
        try:
            self.assertEqual(p.sock.version(), "TLSv1.3")
            self.assertNotIn("STLS", p.capa())
        finally:
            p.quit()

    # -- Python nntplib (deprecated, still in Debian 12's Python 3.11)

    def test_nntplib_starttls(self):
        if nntplib is None:
            self.skipTest("nntplib not available in this Python")
        s = nntplib.NNTP(LOCAL, self.server("nntp"), timeout=20)
        try:
            self.assertIn("STARTTLS", s.getcapabilities())
            s.starttls(context=self.context())  # asks CAPABILITIES again over TLS
            self.assertTrue(s.tls_on)
            self.assertEqual(s.sock.version(), "TLSv1.3")
            self.assertNotIn("STARTTLS", s.getcapabilities(), s.getcapabilities())
        finally:
            s.quit()

    def test_nntplib_refuses_unverifiable_certificate(self):
        if nntplib is None:
            self.skipTest("nntplib not available in this Python")
        s = nntplib.NNTP(LOCAL, self.server("nntp"), timeout=20)
        try:
            with self.assertRaises(ssl.SSLCertVerificationError):
                s.starttls(context=self.context(self.other_ca.pem))
        finally:
            s.sock.close()

    def test_nntplib_implicit_tls(self):
        if nntplib is None:
            self.skipTest("nntplib not available in this Python")
        s = nntplib.NNTP_SSL(LOCAL, self.server("nntp", "implicit"), ssl_context=self.context(), timeout=20)
        try:
            self.assertEqual(s.sock.version(), "TLSv1.3")
            self.assertNotIn("STARTTLS", s.getcapabilities())
        finally:
            s.quit()

    # -- DESIGN.md rule 1: commands pipelined after the upgrade command are never executed

    INJECTION = {
        # protocol: (upgrade command + injected command in one segment, go-ahead prefix, goodbye)
        "imap": (b"a STARTTLS\r\nb CAPABILITY\r\n", "a OK", b"c LOGOUT\r\n"),
        "pop3": (b"STLS\r\nCAPA\r\n", "+OK", b"QUIT\r\n"),
        "nntp": (b"STARTTLS\r\nCAPABILITIES\r\n", "382", b"QUIT\r\n"),
        "sieve": (b"STARTTLS\r\nCAPABILITY\r\n", "OK", b"LOGOUT\r\n"),
    }

    def test_pipelined_plaintext_after_upgrade_is_discarded(self):
        for protocol, (upgrade, go_ahead, goodbye) in self.INJECTION.items():
            with self.subTest(protocol=protocol):
                sock = socket.create_connection((LOCAL, self.server(protocol)), timeout=20)
                try:
                    f = sock.makefile("rb", buffering=0)  # unbuffered: never read past a reply
                    if protocol == "sieve":
                        h.read_lines_until(f, h.sieve_final)
                    else:
                        h.read_line(f)
                    # the upgrade and an injected command in one segment, as an attacker sends them
                    sock.sendall(upgrade)
                    reply = h.read_line(f)
                    self.assertTrue(reply.upper().startswith(go_ahead.upper()), f"go-ahead expected, got {reply!r}")
                    f.close()  # the socket stays open
                    tls = self.context().wrap_socket(sock, server_hostname="localhost")
                    sock = tls
                    tf = tls.makefile("rb")
                    tls.sendall(goodbye)
                    lines = read_to_eof(tf)
                finally:
                    sock.close()
                text = "\n".join(lines)
                if protocol == "imap":
                    self.assertNotRegex(text, r"(?m)^(\* CAPABILITY|b )", f"injected command answered: {lines}")
                    self.assertRegex(text, r"(?m)^c OK", lines)
                elif protocol == "pop3":
                    self.assertEqual(len(lines), 1, f"more than QUIT's one line: {lines} (injected CAPA answered?)")
                    self.assertTrue(lines[0].startswith("+OK"), lines)
                elif protocol == "nntp":
                    self.assertEqual(len(lines), 1, f"more than QUIT's one line: {lines} (injected command answered?)")
                    self.assertTrue(lines[0].startswith("205"), lines)
                else:
                    # after TLS: the capabilities sent unasked (ending in OK), then LOGOUT's reply; an
                    # executed injected CAPABILITY would add a third final line
                    finals = [l for l in lines if h.sieve_final(l)]
                    self.assertEqual(len(finals), 2, f"unexpected responses after TLS: {lines}")


if __name__ == "__main__":
    unittest.main()
