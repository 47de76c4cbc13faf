"""Harness self-test: private Dovecot and INN instances against real clients (Python's
imaplib, poplib, smtplib.LMTP, nntplib, openssl s_client, gnutls-cli), independent of otls's
own code except the test-CA maker.

If these fail, the Dovecot and INN scenarios that test_dovecot_probe and test_inn_probe rely
on are not what they claim to be; if these pass and those fail, look at otls.
"""

import email.message
import imaplib
import os
import poplib
import pwd
import select
import signal
import smtplib
import socket
import ssl
import subprocess
import sys
import time
import unittest
import warnings

import harness as h

try:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        import nntplib
except ImportError:  # pragma: no cover
    nntplib = None

MAIL = "mail.test"
NEWS = "news.test"
SYSTEM_CONFIG = ("/etc/dovecot", "/etc/news")


def process_user(pid):
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("Uid:"):
                    return pwd.getpwuid(int(line.split()[1])).pw_name
    except (OSError, KeyError):
        return None
    return None


class DovecotHarnessTests(h.InteropTestCase):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.system_before = h.tree_state(SYSTEM_CONFIG)
        cls.ca = h.TestCA(cls.workdir / "ca")
        cls.other_ca = h.TestCA(cls.workdir / "other-ca")
        cls.leaf = cls.ca.leaf(MAIL, "localhost", h.SERVER_LOOPBACK)
        cls.dc = cls.keep_daemon(h.Dovecot(cls.workdir / "dc", cls.leaf, hostname=MAIL))
        cls.dc.start()
        cls.addClassCleanup(cls.dc.stop)

    def ctx(self, ca=None):
        return ssl.create_default_context(cafile=str(ca or self.ca.pem))

    def imap(self, dc=None, service="imap"):
        dc = dc or self.dc
        return imaplib.IMAP4(dc.address, dc.port(service), timeout=20)

    # -- the premise: clients come from another address, so Dovecot does not trust them

    def test_clients_come_from_another_loopback_address(self):
        self.assertEqual(h.source_address_for(h.SERVER_LOOPBACK), "127.0.0.1")
        with self.assertRaises(h.HarnessError):
            h.Dovecot(self.scratch_dir() / "d", self.leaf, address="127.0.0.1").start()

    def test_imap_plaintext_login_refused_then_allowed_over_verified_tls(self):
        off = self.dc.log_offset()
        m = self.imap()
        try:
            self.assertIn("STARTTLS", m.capabilities)
            self.assertIn("LOGINDISABLED", m.capabilities)
            self.assertFalse(any(c.startswith("AUTH=") for c in m.capabilities), m.capabilities)
            with self.assertRaises(imaplib.IMAP4.error) as refused:
                m.login(self.dc.user, self.dc.password)
            self.assertIn("PRIVACYREQUIRED", str(refused.exception))
            ctx = self.ctx()
            m.starttls(ssl_context=ctx)  # verifies the IP SAN 127.0.0.2
            self.assertNotIn("STARTTLS", m.capabilities)
            self.assertNotIn("LOGINDISABLED", m.capabilities)
            self.assertIn("AUTH=PLAIN", m.capabilities)
            version, cipher = m.sock.version(), m.sock.cipher()[0]
            self.assertEqual(m.login(self.dc.user, self.dc.password)[0], "OK")
            self.assertEqual(m.select("INBOX")[0], "OK")
        finally:
            m.logout()
        log = self.dc.session("imap", off)
        self.assertRegex(log["message"], r"^Login", log)
        self.assertEqual((log["secured"], log["version"], log["cipher"]), ("TLS", version, cipher), log)
        self.assertEqual((log["rip"], log["lip"]), ("127.0.0.1", h.SERVER_LOOPBACK), log)

    def test_imaps_verified(self):
        with imaplib.IMAP4_SSL(self.dc.address, self.dc.port("imaps"), ssl_context=self.ctx(), timeout=20) as m:
            self.assertIn("AUTH=PLAIN", m.capabilities)
            self.assertEqual(m.sock.version(), "TLSv1.3")
            self.assertEqual(m.login(self.dc.user, self.dc.password)[0], "OK")

    def test_wrong_ca_and_wrong_name_fail(self):
        m = self.imap()
        try:
            with self.assertRaises(ssl.SSLCertVerificationError):
                m.starttls(ssl_context=self.ctx(self.other_ca.pem))
        finally:
            m.sock.close()
        cp = h.run(["openssl", "s_client", "-starttls", "imap", "-connect",
                    f"{self.dc.address}:{self.dc.port('imap')}", "-CAfile", self.ca.pem, "-verify_return_error",
                    "-verify_hostname", "other.example"], input="", timeout=30)
        self.assertNotEqual(cp.returncode, 0, h.describe(cp))
        self.assertIn("hostname mismatch", cp.stdout + cp.stderr, h.describe(cp))

    def test_pop3_user_refused_before_stls(self):
        p = poplib.POP3(self.dc.address, self.dc.port("pop3"), timeout=20)
        try:
            caps = p.capa()
            self.assertIn("STLS", caps)
            self.assertNotIn("USER", caps)
            with self.assertRaises(poplib.error_proto):
                p.user(self.dc.user)
            p.stls(context=self.ctx())
            caps = p.capa()
            self.assertNotIn("STLS", caps)
            self.assertEqual(caps.get("SASL"), ["PLAIN", "LOGIN"])
            p.user(self.dc.user)
            self.assertTrue(p.pass_(self.dc.password).startswith(b"+OK"))
        finally:
            p.quit()

    def test_pop3s_verified(self):
        p = poplib.POP3_SSL(self.dc.address, self.dc.port("pop3s"), context=self.ctx(), timeout=20)
        try:
            self.assertNotIn("STLS", p.capa())
            p.user(self.dc.user)
            self.assertTrue(p.pass_(self.dc.password).startswith(b"+OK"))
        finally:
            p.quit()

    def test_managesieve_gnutls_cli_and_s_client(self):
        port = self.dc.port("sieve")
        cp = h.run(["gnutls-cli", "--starttls-proto=sieve", "--x509cafile", self.ca.pem, "--verify-hostname", MAIL,
                    "--port", port, self.dc.address], input="LOGOUT\r\n", timeout=30)
        d = h.describe(cp)
        self.assertEqual(cp.returncode, 0, d)
        self.assertIn("Status: The certificate is trusted.", cp.stdout, d)
        after = cp.stdout.split("- Simple Client Mode:", 1)[-1]
        self.assertRegex(after, r'(?m)^"SASL" "PLAIN LOGIN"', "capabilities are re-sent after TLS" + d)
        self.assertNotIn('"STARTTLS"', after, d)
        cp = h.run(["openssl", "s_client", "-starttls", "sieve", "-connect", f"{self.dc.address}:{port}", "-CAfile",
                    self.ca.pem, "-verify_return_error", "-verify_hostname", MAIL, "-ign_eof", "-nocommands"],
                   input="LOGOUT\r\n", timeout=30)
        self.assertEqual(cp.returncode, 0, h.describe(cp))
        self.assertIn("Verify return code: 0 (ok)", cp.stdout, h.describe(cp))

    def test_lmtp_delivery_over_verified_starttls_reaches_the_mailbox(self):
        token = f"otls-{time.monotonic_ns()}"
        msg = email.message.EmailMessage()
        msg["From"], msg["To"], msg["Subject"] = "sender@example.net", f"{self.dc.user}@{MAIL}", token
        msg.set_content("delivered by the harness self-test\n")
        with smtplib.LMTP(self.dc.address, self.dc.port("lmtp"), timeout=20) as s:
            s.ehlo()
            self.assertTrue(s.has_extn("starttls"), s.esmtp_features)
            s.starttls(context=self.ctx())
            self.assertEqual(s.sock.version(), "TLSv1.3")
            s.ehlo()
            self.assertFalse(s.has_extn("starttls"), s.esmtp_features)
            refused = s.send_message(msg)
            self.assertEqual(refused, {})
        with imaplib.IMAP4_SSL(self.dc.address, self.dc.port("imaps"), ssl_context=self.ctx(), timeout=20) as m:
            m.login(self.dc.user, self.dc.password)
            m.select("INBOX")
            typ, data = m.search(None, "SUBJECT", token)
            self.assertEqual(typ, "OK")
            self.assertEqual(len(data[0].split()), 1, f"message {token} not delivered: {data}")

    def test_login_processes_run_unprivileged(self):
        m = self.imap()  # keeps an imap-login process busy
        try:
            logins = [pid for pid, cmd in self.dc.instance_processes() if cmd.endswith("/imap-login")]
            self.assertTrue(logins, self.dc.instance_processes())
            self.assertEqual({process_user(pid) for pid in logins}, {"dovenull"})
        finally:
            m.logout()

    def test_preauth_service_greets_preauth_in_cleartext(self):
        pre = self.start_daemon(h.DovecotPreauth(self.dc, self.scratch_dir()))
        m = imaplib.IMAP4(pre.address, pre.port, timeout=20)
        try:
            self.assertEqual(m.state, "AUTH")
            self.assertRegex(m.welcome, rb"^\* PREAUTH \[CAPABILITY .*\] Logged in as " + self.dc.user.encode())
            self.assertNotIn("STARTTLS", m.capabilities)
            self.assertEqual(m.select("INBOX")[0], "OK")
        finally:
            m.logout()
        self.assertEqual(pre.stop(), [])

    # -- variants

    def test_variants(self):
        req = self.start_daemon(h.Dovecot(self.scratch_dir(), self.leaf, services=("imap",), ssl="required",
                                          name="dovecot-required"))
        m = imaplib.IMAP4(req.address, req.port("imap"), timeout=20)
        try:
            self.assertIn("LOGINDISABLED", m.capabilities)
            with self.assertRaises(imaplib.IMAP4.error) as refused:
                m.authenticate("PLAIN", lambda _: f"\0{req.user}\0{req.password}".encode())
            self.assertRegex(str(refused.exception), r"PRIVACYREQUIRED|SSL|TLS")
        finally:
            m.logout()

        lax = self.start_daemon(h.Dovecot(self.scratch_dir(), self.leaf, services=("imap",),
                                          disable_plaintext_auth=False, name="dovecot-lax"))
        m = imaplib.IMAP4(lax.address, lax.port("imap"), timeout=20)
        try:
            self.assertIn("STARTTLS", m.capabilities)
            self.assertNotIn("LOGINDISABLED", m.capabilities)
            self.assertEqual(m.login(lax.user, lax.password)[0], "OK")  # plaintext, on purpose
        finally:
            m.logout()

        plain = self.start_daemon(h.Dovecot(self.scratch_dir(), None, services=("imap", "pop3", "sieve"), ssl="no",
                                            name="dovecot-plain"))
        m = imaplib.IMAP4(plain.address, plain.port("imap"), timeout=20)
        try:
            self.assertNotIn("STARTTLS", m.capabilities)
        finally:
            m.logout()
        p = poplib.POP3(plain.address, plain.port("pop3"), timeout=20)
        try:
            self.assertNotIn("STLS", p.capa())
        finally:
            p.quit()
        greeting = h.service_greeting(plain.address, plain.port("sieve"), "sieve")
        self.assertNotIn('"STARTTLS"', greeting)
        self.assertIn(plain.greeting_token, greeting)

    # -- lifecycle

    def test_lifecycle_stop_by_pid_leaves_nothing(self):
        dc = h.Dovecot(self.scratch_dir(), self.leaf, services=("imap", "lmtp"), name="dovecot-lifecycle")
        self.start_daemon(dc)
        pid, port = dc.pid, dc.port("imap")
        h.service_greeting(dc.address, port, "imap")
        self.assertGreater(len(dc.instance_processes()), 1, dc.instance_processes())
        survivors = dc.stop()
        self.assertEqual(survivors, [], "processes outlived the master and had to be killed")
        self.assertEqual(dc.instance_processes(), [])
        self.assertIsNone(h._proc_stat(pid), f"master {pid} still exists")
        self.assertFalse(h.port_accepts(h.SERVER_LOOPBACK, port, timeout=1.0), f"port {port} still accepts")
        self.assertFalse(dc.daemon.killed, "the master needed SIGKILL")

    def test_lifecycle_stop_with_a_client_connected(self):
        # Dovecot's login processes keep serving connected clients after the master exits (so that
        # a restart does not cut sessions), and they keep log, anvil, auth and config alive: the
        # harness kills those by PID after the grace period and reports them; nothing is left.
        dc = h.Dovecot(self.scratch_dir(), self.leaf, services=("imap",), name="dovecot-lifecycle-client")
        self.start_daemon(dc)
        m = self.imap(dc)
        try:
            started = time.monotonic()
            survivors = dc.stop()
            self.assertLess(time.monotonic() - started, 30)
            self.assertEqual(dc.instance_processes(), [])
            self.assertTrue(all(dc.instance_name in cmd for _, cmd in survivors), survivors)
            with self.assertRaises((imaplib.IMAP4.abort, OSError)):
                m.noop()  # the connection is gone
        finally:
            m.sock.close()

    def test_lifecycle_dovecot_dies_with_the_test_process(self):
        d = self.scratch_dir()
        code = ("import sys, harness as h\n"
                f"leaf = h.TestCA({str(d / 'ca')!r}).leaf('mail.test')\n"
                f"dc = h.Dovecot({str(d / 'dc')!r}, leaf, services=('imap',))\n"
                "dc.start()\n"
                "print(dc.pid, dc.port('imap'), flush=True)\n"
                "sys.stdin.read()\n")
        assert_dies_with_parent(self, code, h.SERVER_LOOPBACK)

    def test_zz_system_config_untouched(self):
        # named zz so that it runs after the others in this class (unittest sorts by name)
        self.assertEqual(h.tree_state(SYSTEM_CONFIG), self.system_before, "/etc/dovecot or /etc/news changed")


class INNHarnessTests(h.InteropTestCase):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.system_before = h.tree_state(SYSTEM_CONFIG)
        cls.ca = h.TestCA(cls.workdir / "ca")
        cls.other_ca = h.TestCA(cls.workdir / "other-ca")
        cls.leaf = cls.ca.leaf(NEWS, "localhost", h.SERVER_LOOPBACK)
        cls.inn = cls.keep_daemon(h.INN(cls.workdir / "inn", cls.leaf, listeners=("nntp", "nntps", "innd"),
                                        hostname=NEWS, cafile=cls.ca.pem))
        cls.inn.start()
        cls.addClassCleanup(cls.inn.stop)

    def ctx(self, ca=None):
        return ssl.create_default_context(cafile=str(ca or self.ca.pem))

    def require_nntplib(self):
        if nntplib is None:
            self.skipTest("nntplib not available in this Python")

    def test_nnrpd_starttls_verified_and_group_readable(self):
        self.require_nntplib()
        s = nntplib.NNTP(self.inn.address, self.inn.port("nntp"), timeout=20)
        try:
            self.assertIn(self.inn.pathhost, s.getwelcome())
            caps = s.getcapabilities()
            self.assertIn("STARTTLS", caps)
            self.assertNotIn("USER", caps.get("AUTHINFO", []))
            s.starttls(context=self.ctx())
            self.assertEqual(s.sock.version(), "TLSv1.3")
            caps = s.getcapabilities()
            self.assertNotIn("STARTTLS", caps)
            self.assertIn("USER", caps.get("AUTHINFO", []))
            resp, count, first, last, name = s.group("otls.test")
            self.assertTrue(resp.startswith("211"), resp)
            self.assertEqual(name, "otls.test")
        finally:
            s.quit()

    def test_nntps_verified(self):
        self.require_nntplib()
        s = nntplib.NNTP_SSL(self.inn.address, self.inn.port("nntps"), ssl_context=self.ctx(), timeout=20)
        try:
            self.assertEqual(s.sock.version(), "TLSv1.3")
            self.assertNotIn("STARTTLS", s.getcapabilities())
        finally:
            s.quit()

    def test_s_client_starttls_nntp_and_wrong_ca(self):
        argv = ["openssl", "s_client", "-starttls", "nntp", "-connect", f"{self.inn.address}:{self.inn.port('nntp')}",
                "-verify_return_error", "-verify_hostname", NEWS, "-ign_eof", "-nocommands"]
        cp = h.run(argv + ["-CAfile", self.ca.pem], input="CAPABILITIES\r\nQUIT\r\n", timeout=30)
        d = h.describe(cp)
        self.assertEqual(cp.returncode, 0, d)
        self.assertIn("Verify return code: 0 (ok)", cp.stdout, d)
        self.assertRegex(cp.stdout, r"(?m)^AUTHINFO USER", d)
        self.assertNotRegex(cp.stdout, r"(?m)^STARTTLS", d)
        self.assertRegex(cp.stdout, r"(?m)^205 ", d)
        cp = h.run(argv + ["-CAfile", self.other_ca.pem], input="", timeout=30)
        self.assertNotEqual(cp.returncode, 0, h.describe(cp))

    def test_innd_transit_mode_then_mode_reader_starttls(self):
        sock = socket.create_connection((self.inn.address, self.inn.port("innd")), timeout=20)
        try:
            f = sock.makefile("rb", buffering=0)
            self.assertRegex(h.read_line(f), r"^200 .*transit mode")
            sock.sendall(b"MODE READER\r\n")
            self.assertRegex(h.read_line(f), rf"^201 {self.inn.pathhost} ")
            sock.sendall(b"STARTTLS\r\n")
            self.assertRegex(h.read_line(f), r"^382 ")
            tls = self.ctx().wrap_socket(sock, server_hostname=NEWS)
            sock = tls
            tls.sendall(b"QUIT\r\n")
            self.assertRegex(h.read_line(tls.makefile("rb")), r"^205 ")
        finally:
            sock.close()

    def test_daemons_run_as_news(self):
        for listener in self.inn.listeners:
            self.assertEqual(process_user(self.inn.pid(listener)), "news", listener)

    def test_lifecycle_stop_by_pid_leaves_nothing(self):
        inn = h.INN(self.scratch_dir(), self.leaf, listeners=("nntp", "innd"))
        self.start_daemon(inn)
        pids = {l: inn.pid(l) for l in inn.listeners}
        ports = {l: inn.port(l) for l in inn.listeners}
        sock = socket.create_connection((inn.address, ports["nntp"]), timeout=20)  # a live nnrpd child
        try:
            h.read_line(sock.makefile("rb", buffering=0))
            self.assertGreaterEqual(len(inn.instance_processes()), 3, inn.instance_processes())
            survivors = inn.stop()
        finally:
            sock.close()
        # the per-connection nnrpd child may outlive its parent (it serves its client); it is then
        # killed by PID and reported, never left behind
        self.assertFalse([s for s in survivors if "innd" in s[1]], survivors)
        self.assertEqual(inn.instance_processes(), [])
        for l, pid in pids.items():
            self.assertIsNone(h._proc_stat(pid), f"{l} {pid} still exists")
            self.assertFalse(h.port_accepts(inn.address, ports[l], timeout=1.0), f"{l} port still accepts")
            self.assertFalse(inn.daemons[l].killed, f"{l} needed SIGKILL")

    def test_lifecycle_inn_dies_with_the_test_process(self):
        d = self.scratch_dir()
        code = ("import sys, harness as h\n"
                f"leaf = h.TestCA({str(d / 'ca')!r}).leaf('news.test')\n"
                f"inn = h.INN({str(d / 'inn')!r}, leaf, listeners=('nntp',))\n"
                "inn.start()\n"
                "print(inn.pid('nntp'), inn.port('nntp'), flush=True)\n"
                "sys.stdin.read()\n")
        assert_dies_with_parent(self, code, h.SERVER_LOOPBACK)

    def test_zz_system_config_untouched(self):
        self.assertEqual(h.tree_state(SYSTEM_CONFIG), self.system_before, "/etc/dovecot or /etc/news changed")


def assert_dies_with_parent(test, code, host):
    """Run `code` (starts a daemon, prints "PID PORT", waits) in a child Python, SIGKILL the
    child, and check that the harness's watchdog stops the daemon and its process group."""
    child = subprocess.Popen([sys.executable, "-B", "-c", code], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                             text=True, cwd=os.path.dirname(os.path.abspath(h.__file__)))
    pid = None
    try:
        ready, _, _ = select.select([child.stdout], [], [], 60)
        test.assertTrue(ready, "child did not report a started daemon within 60 s")
        line = child.stdout.readline()
        test.assertTrue(line, "child did not start the daemon")
        pid, port = map(int, line.split())
        test.assertIsNotNone(h._proc_stat(pid))
        child.send_signal(signal.SIGKILL)
        child.wait(timeout=10)
        for _ in range(400):  # at most ~20 s
            if h._proc_stat(pid) is None and not h.process_group_members(pid):
                break
            time.sleep(0.05)
        test.assertIsNone(h._proc_stat(pid), "the daemon outlived the killed test process")
        test.assertEqual(h.process_group_members(pid), [], "children outlived the daemon")
        test.assertFalse(h.port_accepts(host, port))
    finally:
        if child.poll() is None:
            child.kill()
            child.wait(timeout=10)
        child.stdin.close()
        child.stdout.close()
        if pid is not None and h._proc_stat(pid) is not None:
            os.kill(pid, signal.SIGKILL)  # the assertion above failed: clean up by PID


if __name__ == "__main__":
    unittest.main()
