"""Harness self-test: a private Postfix instance against real clients (openssl s_client,
swaks, Python's smtplib), independent of otls's own code except the test-CA maker.

If these fail, the Postfix scenarios the otls probe tests rely on are not what they
claim to be; if these pass and test_postfix_probe fails, look at otls.
"""

import os
import select
import signal
import smtplib
import ssl
import subprocess
import sys
import time
import unittest

import harness as h


class PostfixHarnessTests(h.InteropTestCase):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.default_before = h.default_postfix_state()
        cls.ca = h.TestCA(cls.workdir / "ca")
        cls.other_ca = h.TestCA(cls.workdir / "other-ca")
        cls.ec = cls.ca.leaf("mx.test", "localhost", "127.0.0.1", key="ecdsa")
        cls.rsa = cls.ca.leaf("mx.test", "localhost", "127.0.0.1", key="rsa")
        cls.pf = h.Postfix(cls.workdir / "postfix", [
            h.Listener("ec", [cls.ec]),
            h.Listener("both", [cls.ec, cls.rsa]),
            h.Listener("smtps", [cls.ec], wrapper=True),
            h.Listener("plain", level="none"),
            h.Listener("refuse", [cls.ec], refuse_starttls=True),
            h.Listener("tls12", [cls.ec], tls_protocols=">=TLSv1.2, <=TLSv1.2"),
        ])
        cls.keep_daemon(cls.pf)
        cls.pf.start()
        cls.addClassCleanup(cls.pf.stop)

    # -- openssl s_client

    def s_client(self, port, *extra, starttls=True, ca=None, timeout=30):
        argv = ["openssl", "s_client"] + (["-starttls", "smtp"] if starttls else []) + [
            "-connect", f"127.0.0.1:{port}", "-CAfile", str(ca or self.ca.pem), "-verify_return_error",
            "-ign_eof", "-nocommands", *extra]
        return h.run(argv, input="QUIT\r\n", timeout=timeout)

    def test_s_client_starttls_verifies_ecdsa(self):
        cp = self.s_client(self.pf.port("ec"), "-verify_hostname", "mx.test")
        self.assertEqual(cp.returncode, 0, h.describe(cp))
        self.assertIn("Verify return code: 0 (ok)", cp.stdout, h.describe(cp))
        self.assertRegex(cp.stdout, r"Protocol\s*: TLSv1\.3", h.describe(cp))
        self.assertRegex(cp.stdout, r"(?m)^221 ", h.describe(cp))  # our QUIT went over TLS
        self.assertRegex(cp.stdout + cp.stderr, r"Peer signature type: ECDSA", h.describe(cp))

    def test_s_client_rejects_wrong_ca_and_wrong_name(self):
        cp = self.s_client(self.pf.port("ec"), ca=self.other_ca.pem)
        self.assertNotEqual(cp.returncode, 0, h.describe(cp))
        self.assertRegex(cp.stdout + cp.stderr, r"unable to get local issuer certificate|verify error",
                         h.describe(cp))
        cp = self.s_client(self.pf.port("ec"), "-verify_hostname", "other.example")
        self.assertNotEqual(cp.returncode, 0, h.describe(cp))
        self.assertRegex(cp.stdout + cp.stderr, r"hostname mismatch", h.describe(cp))

    def test_dual_certificates_serve_rsa_to_rsa_only_client(self):
        cp = self.s_client(self.pf.port("both"), "-sigalgs", "rsa_pss_rsae_sha256:rsa_pkcs1_sha256")
        self.assertEqual(cp.returncode, 0, h.describe(cp))
        self.assertRegex(cp.stdout + cp.stderr, r"Peer signature type: RSA-PSS", h.describe(cp))
        cp = self.s_client(self.pf.port("both"))
        self.assertEqual(cp.returncode, 0, h.describe(cp))
        self.assertRegex(cp.stdout + cp.stderr, r"Peer signature type: ECDSA", h.describe(cp))

    def test_s_client_implicit_tls(self):
        cp = self.s_client(self.pf.port("smtps"), starttls=False)
        self.assertEqual(cp.returncode, 0, h.describe(cp))
        self.assertIn("Verify return code: 0 (ok)", cp.stdout, h.describe(cp))
        self.assertIn(self.pf.listener("smtps").token, cp.stdout, h.describe(cp))

    def test_tls12_only_listener(self):
        cp = self.s_client(self.pf.port("tls12"))
        self.assertEqual(cp.returncode, 0, h.describe(cp))
        self.assertRegex(cp.stdout, r"Protocol\s*: TLSv1\.2", h.describe(cp))
        cp = self.s_client(self.pf.port("tls12"), "-tls1_3")
        self.assertNotEqual(cp.returncode, 0, h.describe(cp))

    # -- swaks

    def test_swaks_delivers_over_verified_starttls(self):
        off = self.pf.log_offset()
        cp = h.run(["swaks", "--server", "127.0.0.1", "--port", str(self.pf.port("ec")), "--tls", "--tls-verify",
                    "--tls-ca-path", str(self.ca.pem), "--from", "sender@example.net", "--to", "rcpt@example.org",
                    "--timeout", "20"], timeout=60)
        self.assertEqual(cp.returncode, 0, h.describe(cp))
        self.assertIn("TLS started with cipher TLSv1.3", cp.stdout, h.describe(cp))
        self.assertRegex(cp.stdout, r"250 2\.0\.0 Ok: queued as", h.describe(cp))
        self.pf.wait_for_log(r"postfix/discard\[\d+\]: \w+: to=<rcpt@example\.org>.*status=sent", since=off)

    def test_swaks_verification_fails_with_other_ca(self):
        cp = h.run(["swaks", "--server", "127.0.0.1", "--port", str(self.pf.port("ec")), "--tls", "--tls-verify",
                    "--tls-ca-path", str(self.other_ca.pem), "--quit-after", "EHLO", "--timeout", "20"], timeout=60)
        self.assertNotEqual(cp.returncode, 0, h.describe(cp))
        self.assertIn("certificate verify failed", cp.stdout + cp.stderr, h.describe(cp))

    # -- smtplib

    def test_smtplib_starttls_capabilities(self):
        with smtplib.SMTP("127.0.0.1", self.pf.port("ec"), timeout=20) as s:
            s.ehlo()
            self.assertTrue(s.has_extn("starttls"))
            s.starttls(context=ssl.create_default_context(cafile=str(self.ca.pem)))  # verifies IP SAN 127.0.0.1
            self.assertEqual(s.sock.version(), "TLSv1.3")
            s.ehlo()
            self.assertFalse(s.has_extn("starttls"))
            self.assertEqual(s.noop()[0], 250)

    def test_plain_listener_offers_no_starttls(self):
        with smtplib.SMTP("127.0.0.1", self.pf.port("plain"), timeout=20) as s:
            code, _ = s.ehlo()
            self.assertEqual(code, 250)
            self.assertFalse(s.has_extn("starttls"))
            self.assertTrue(s.has_extn("pipelining"))

    def test_refusing_listener_advertises_then_refuses(self):
        s = smtplib.SMTP("127.0.0.1", self.pf.port("refuse"), timeout=20)
        try:
            s.ehlo()
            self.assertTrue(s.has_extn("starttls"))
            code, msg = s.docmd("STARTTLS")
            self.assertEqual(code, 500, msg)
            self.assertEqual(s.noop()[0], 250)  # still plaintext and usable
        finally:
            s.close()

    def test_smtps_wrapper_mode(self):
        ctx = ssl.create_default_context(cafile=str(self.ca.pem))
        with smtplib.SMTP_SSL("127.0.0.1", self.pf.port("smtps"), timeout=20, context=ctx) as s:
            s.ehlo()
            self.assertEqual(s.sock.version(), "TLSv1.3")
            self.assertFalse(s.has_extn("starttls"))

    # -- lifecycle

    def test_lifecycle_stop_by_pid_leaves_nothing(self):
        pf = h.Postfix(self.scratch_dir() / "postfix", [h.Listener("only", [self.ec])])
        self.start_daemon(pf)
        pid, port = pf.pid, pf.port("only")
        self.assertTrue(pf.instance_processes(), "no processes found for the running instance")
        survivors = pf.stop()
        self.assertEqual(survivors, [], "processes outlived master and had to be killed")
        self.assertEqual(pf.instance_processes(), [])
        self.assertIsNone(h._proc_stat(pid), f"master {pid} still exists")
        self.assertFalse(h.port_accepts("127.0.0.1", port, timeout=1.0), f"port {port} still accepts")
        self.assertIsNotNone(pf.daemon.returncode)

    def test_lifecycle_postfix_dies_with_the_test_process(self):
        # A test process killed by a ctest timeout must not leave a Postfix behind.
        d = self.scratch_dir()
        code = ("import sys, harness as h\n"
                f"pf = h.Postfix({str(d / 'pf')!r}, [h.Listener('only', level='none')])\n"
                "pf.start()\n"
                "print(pf.pid, pf.port('only'), flush=True)\n"
                "sys.stdin.read()\n")
        child = subprocess.Popen([sys.executable, "-B", "-c", code], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                 text=True, cwd=os.path.dirname(os.path.abspath(h.__file__)))
        master = None
        try:
            ready, _, _ = select.select([child.stdout], [], [], 60)
            self.assertTrue(ready, "child did not report a started Postfix within 60 s")
            line = child.stdout.readline()
            self.assertTrue(line, "child did not start Postfix")
            master, port = map(int, line.split())
            self.assertIsNotNone(h._proc_stat(master))
            child.send_signal(signal.SIGKILL)
            child.wait(timeout=10)
            for _ in range(200):  # at most ~10 s
                if h._proc_stat(master) is None and not h.process_group_members(master):
                    break
                time.sleep(0.05)
            self.assertIsNone(h._proc_stat(master), "master outlived the killed test process")
            self.assertEqual(h.process_group_members(master), [], "Postfix children outlived master")
            self.assertFalse(h.port_accepts("127.0.0.1", port))
        finally:
            if child.poll() is None:
                child.kill()
                child.wait(timeout=10)
            if master is not None and h._proc_stat(master) is not None:
                os.kill(master, signal.SIGKILL)  # the assertion above failed: clean up by PID

    def test_zz_default_instance_untouched(self):
        # named zz so that it runs after the others in this class (unittest sorts by name)
        before, after = self.default_before, h.default_postfix_state()
        self.assertEqual(after["default_masters"], before["default_masters"],
                         "a master for /etc/postfix was started (or stopped) during these tests")
        common = set(before["files"]) & set(after["files"])
        self.assertEqual({k: before["files"][k] for k in common}, {k: after["files"][k] for k in common},
                         "files of the default Postfix instance changed")
        self.assertEqual(set(before["files"]) ^ set(after["files"]), set(),
                         "files of the default Postfix instance appeared or disappeared")


if __name__ == "__main__":
    unittest.main()
