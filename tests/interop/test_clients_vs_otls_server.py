"""Real SMTP clients (openssl s_client, swaks, Python's smtplib/ssl) against otls's own
server role, otls_test_server, with a certificate from the otls test CA for
127.0.0.1 and localhost."""

import re
import smtplib
import socket
import ssl
import unittest

import harness as h

HOSTNAME = "mx.test"


class ClientsVsOtlsServer(h.InteropTestCase):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        h.require_env("OTLS_TEST_SERVER")
        cls.ca = h.TestCA(cls.workdir / "ca")
        cls.other_ca = h.TestCA(cls.workdir / "other-ca")
        cls.leaf = cls.ca.leaf("localhost", "127.0.0.1", HOSTNAME, key="ecdsa")
        cls.server = cls.keep_daemon(h.OtlsTestServer(cls.workdir / "srv", cls.leaf, hostname=HOSTNAME,
                                                      name="otls_test_server"))
        cls.server.start()
        cls.addClassCleanup(cls.server.stop)
        cls.required = cls.keep_daemon(h.OtlsTestServer(cls.workdir / "srv-required", cls.leaf, hostname=HOSTNAME,
                                                        starttls_required=True, name="otls_test_server-required"))
        cls.required.start()
        cls.addClassCleanup(cls.required.stop)
        cls.implicit = cls.keep_daemon(h.OtlsTestServer(cls.workdir / "srv-implicit", cls.leaf, hostname=HOSTNAME,
                                                        implicit_tls=True, name="otls_test_server-implicit"))
        cls.implicit.start()
        cls.addClassCleanup(cls.implicit.stop)

    def context(self):
        return ssl.create_default_context(cafile=str(self.ca.pem))

    # -- openssl s_client

    def s_client(self, port, *extra, starttls=True, ca=None):
        # -nocommands: send "QUIT" to the server instead of treating it as s_client's Q command;
        # -ign_eof: keep reading after stdin ends, until the server closes after 221.
        argv = ["openssl", "s_client"] + (["-starttls", "smtp"] if starttls else []) + [
            "-connect", f"127.0.0.1:{port}", "-CAfile", str(ca or self.ca.pem), "-verify_return_error",
            "-ign_eof", "-nocommands", *extra]
        return h.run(argv, input="QUIT\r\n", timeout=30)

    def test_openssl_s_client_starttls(self):
        cp = self.s_client(self.server.port, "-verify_hostname", "localhost")
        d = h.describe(cp)
        self.assertIn("Verify return code: 0 (ok)", cp.stdout, d)
        self.assertRegex(cp.stdout, r"New, TLSv1\.3, Cipher is TLS_", d)
        self.assertRegex(cp.stdout, r"Protocol\s*: TLSv1\.3", d)
        self.assertRegex(cp.stdout, r"(?m)^221[ -]", "no reply to QUIT sent over TLS" + d)
        # s_client exits 1 on "unexpected eof while reading": the server must end TLS with close_notify
        self.assertEqual(cp.returncode, 0, "s_client failed (TLS closed without close_notify?)" + d)

    def test_openssl_s_client_rejects_other_ca_and_other_name(self):
        cp = self.s_client(self.server.port, ca=self.other_ca.pem)
        self.assertNotEqual(cp.returncode, 0, h.describe(cp))
        cp = self.s_client(self.server.port, "-verify_hostname", "other.example")
        self.assertNotEqual(cp.returncode, 0, h.describe(cp))
        self.assertIn("hostname mismatch", cp.stdout + cp.stderr, h.describe(cp))

    def test_openssl_s_client_implicit_tls(self):
        cp = self.s_client(self.implicit.port, "-verify_ip", "127.0.0.1", starttls=False)
        d = h.describe(cp)
        self.assertEqual(cp.returncode, 0, d)
        self.assertIn("Verify return code: 0 (ok)", cp.stdout, d)
        self.assertRegex(cp.stdout, r"(?m)^220 " + re.escape(HOSTNAME), d)
        self.assertRegex(cp.stdout, r"(?m)^221[ -]", d)

    # -- swaks (Debian 12's swaks 20201014: --tls-verify checks the chain, not the name)

    def swaks(self, port, ca, *extra):
        return h.run(["swaks", "--server", "127.0.0.1", "--port", str(port), "--tls", "--tls-verify",
                      "--tls-ca-path", str(ca), "--quit-after", "EHLO", "--timeout", "20", *extra], timeout=60)

    def test_swaks_starttls_verified(self):
        cp = self.swaks(self.server.port, self.ca.pem)
        d = h.describe(cp)
        self.assertEqual(cp.returncode, 0, d)
        self.assertIn("=== TLS started with cipher TLSv1.3:", cp.stdout, d)
        # the EHLO after TLS (lines prefixed "<~ ") must not offer STARTTLS again
        after = [l for l in cp.stdout.splitlines() if l.startswith("<~ ")]
        self.assertTrue(any(re.match(r"<~\s+250[ -]", l) for l in after), d)
        self.assertFalse(any("STARTTLS" in l.upper() for l in after), d)
        self.assertRegex(cp.stdout, r"<~\s+221", d)

    def test_swaks_fails_against_other_ca(self):
        cp = self.swaks(self.server.port, self.other_ca.pem)
        self.assertNotEqual(cp.returncode, 0, h.describe(cp))
        self.assertIn("certificate verify failed", cp.stdout + cp.stderr, h.describe(cp))

    # -- Python smtplib

    def test_smtplib_starttls_then_noop_quit(self):
        for host in ("127.0.0.1", "localhost"):  # IP SAN, then DNS SAN
            with self.subTest(host=host):
                s = smtplib.SMTP(host, self.server.port, timeout=20)
                try:
                    code, banner = s.ehlo()
                    self.assertEqual(code, 250)
                    self.assertTrue(s.has_extn("starttls"), s.esmtp_features)
                    code, _ = s.starttls(context=self.context())
                    self.assertEqual(code, 220)
                    self.assertEqual(s.sock.version(), "TLSv1.3")
                    code, _ = s.ehlo()
                    self.assertEqual(code, 250)
                    self.assertFalse(s.has_extn("starttls"), f"STARTTLS advertised after TLS: {s.esmtp_features}")
                    self.assertEqual(s.noop()[0], 250)
                    code, _ = s.quit()
                    self.assertEqual(code, 221)
                finally:
                    s.close()

    def test_greeting_names_the_server(self):
        s = smtplib.SMTP(timeout=20)
        try:
            code, msg = s.connect("127.0.0.1", self.server.port)
            self.assertEqual(code, 220)
            self.assertTrue(msg.decode().startswith(HOSTNAME), msg)  # RFC 5321 4.3.1: 220 <domain>
        finally:
            s.close()

    def test_smtplib_refuses_unverifiable_certificate(self):
        s = smtplib.SMTP("127.0.0.1", self.server.port, timeout=20)
        try:
            s.ehlo()
            with self.assertRaises(ssl.SSLCertVerificationError):
                s.starttls(context=ssl.create_default_context(cafile=str(self.other_ca.pem)))
        finally:
            s.close()

    def test_starttls_required(self):
        s = smtplib.SMTP("127.0.0.1", self.required.port, timeout=20)
        try:
            s.ehlo()
            self.assertTrue(s.has_extn("starttls"))
            code, msg = s.mail("sender@example.net")
            self.assertEqual(code, 530, msg)
            s.rset()
            s.starttls(context=self.context())
            s.ehlo()
            code, msg = s.mail("sender@example.net")
            self.assertNotEqual(code, 530, msg)
            self.assertEqual(code // 100, 2, msg)
            s.quit()
        finally:
            s.close()

    def test_implicit_tls_smtplib(self):
        with smtplib.SMTP_SSL("127.0.0.1", self.implicit.port, timeout=20, context=self.context()) as s:
            code, _ = s.ehlo()
            self.assertEqual(code, 250)
            self.assertEqual(s.sock.version(), "TLSv1.3")
            self.assertFalse(s.has_extn("starttls"))
            self.assertEqual(s.noop()[0], 250)

    # -- DESIGN.md rule 1: no plaintext crosses the upgrade (CVE-2011-0411)

    def test_pipelined_plaintext_after_starttls_is_discarded(self):
        sock = socket.create_connection(("127.0.0.1", self.server.port), timeout=20)
        try:
            f = sock.makefile("rb", buffering=0)  # unbuffered: never read past a reply
            code, lines = h.read_smtp_reply(f)
            self.assertEqual(code, 220, lines)
            sock.sendall(b"EHLO client.test\r\n")
            code, lines = h.read_smtp_reply(f)
            self.assertEqual(code, 250, lines)
            # STARTTLS and an injected command in one segment, as a STARTTLS-injection attacker sends them
            sock.sendall(b"STARTTLS\r\nXINJECTED-PLAINTEXT\r\n")
            code, lines = h.read_smtp_reply(f)
            self.assertEqual(code, 220, lines)
            f.close()  # the socket stays open
            tls = self.context().wrap_socket(sock, server_hostname="localhost")
            sock = tls
            tf = tls.makefile("rb")
            tls.sendall(b"NOOP\r\n")
            code, lines = h.read_smtp_reply(tf)
            self.assertEqual(code, 250, f"first reply after TLS is not NOOP's: {lines} (injected command executed?)")
            tls.sendall(b"QUIT\r\n")
            code, lines = h.read_smtp_reply(tf)
            self.assertEqual(code, 221, lines)
        finally:
            sock.close()


if __name__ == "__main__":
    unittest.main()
