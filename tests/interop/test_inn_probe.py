"""`otls probe` against a real INN 2.7 (Debian's inn2), private tree on 127.0.0.2 probed from
127.0.0.1: nnrpd as a standalone daemon with STARTTLS (nntp://) and with TLS from the first
byte (nntps://, nnrpd -S), and innd, which puts 127.0.0.1 (listed in incoming.conf) into
transit mode, where STARTTLS is offered only after MODE READER (RFC 3977 §5.3).

nnrpd's capabilities differ before and after TLS (STARTTLS goes; AUTHINFO gains USER and
SASL gains PLAIN and LOGIN once the connection is private), so a probe that reused its
pre-TLS answers, or never asked again, is caught. Expected lists are read from the same
server with a plain socket and Python's ssl module (ground truth independent of otls).
INN logs only to syslog, which this harness cannot read, so there is no log cross-check.
"""

import re
import socket
import ssl
import unittest

import harness as h

SERVERNAME = "news.test"
TOP_LEVEL_KEYS = ("target", "protocol", "mode", "outcome", "elapsed_ms")
TLS13_CIPHER = r"^TLS_(AES_(128|256)_GCM_SHA(256|384)|CHACHA20_POLY1305_SHA256)$"


def cap_map(caps):
    """{KEYWORD: parameters} of NNTP capability lines ("AUTHINFO USER SASL" -> AUTHINFO: "USER SASL")."""
    out = {}
    for entry in caps or []:
        words = str(entry).split()
        if words:
            out[words[0].upper()] = " ".join(words[1:])
    return out


def nntp_capabilities(f, sock):
    sock.sendall(b"CAPABILITIES\r\n")
    first = h.read_line(f)
    if not first.startswith("101"):
        raise AssertionError(f"CAPABILITIES answered {first!r}")
    return h.read_lines_until(f, lambda l: l == ".")[:-1]


def truth_nntp(host, port, ctx, *, implicit=False, mode_reader=False):
    """(greeting, capabilities before TLS, after TLS) from a plain socket and Python's ssl."""
    sock = socket.create_connection((host, port), timeout=20)
    try:
        if implicit:
            sock = ctx.wrap_socket(sock, server_hostname=SERVERNAME)
        f = sock.makefile("rb", buffering=0)  # unbuffered: read nothing past a reply
        greeting = h.read_line(f)
        before = nntp_capabilities(f, sock)
        if mode_reader:
            sock.sendall(b"MODE READER\r\n")
            greeting = h.read_line(f)
            before = nntp_capabilities(f, sock)
        after = None
        if not implicit:
            sock.sendall(b"STARTTLS\r\n")
            reply = h.read_line(f)
            if not reply.startswith("382"):
                raise AssertionError(f"STARTTLS answered {reply!r}")
            sock = ctx.wrap_socket(sock, server_hostname=SERVERNAME)
            f = sock.makefile("rb")
            after = nntp_capabilities(f, sock)
        sock.sendall(b"QUIT\r\n")
    finally:
        sock.close()
    return greeting, cap_map(before), cap_map(after) if after is not None else None


class InnProbeTests(h.InteropTestCase):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.otls = h.require_env("OTLS_BIN")
        cls.ca = h.TestCA(cls.workdir / "ca")
        cls.leaf = cls.ca.leaf(SERVERNAME, "localhost", h.SERVER_LOOPBACK, key="ecdsa")
        cls.inn = cls.keep_daemon(h.INN(cls.workdir / "inn", cls.leaf, listeners=("nntp", "nntps", "innd"),
                                        hostname=SERVERNAME, cafile=cls.ca.pem))
        cls.inn.start()
        cls.addClassCleanup(cls.inn.stop)
        ctx = ssl.create_default_context(cafile=str(cls.ca.pem))
        a = h.SERVER_LOOPBACK
        cls.truth = truth_nntp(a, cls.inn.port("nntp"), ctx)
        cls.truth_s = truth_nntp(a, cls.inn.port("nntps"), ctx, implicit=True)
        cls.truth_transit = truth_nntp(a, cls.inn.port("innd"), ctx, mode_reader=True)

    # -- helpers

    def probe(self, url, *args, expect_rc):
        r = h.otls_probe(url, "--timeout", "20", *args, timeout=90)
        self.assertEqual(r.rc, expect_rc, f"unexpected exit status{r.describe()}")
        self.assertIsNotNone(r.json, f"--json did not print one JSON object{r.describe()}")
        for k in TOP_LEVEL_KEYS:
            self.assertIn(k, r.json, f"JSON lacks {k!r}{r.describe()}")
        return r.json, r

    def verified(self, url, *extra, expect_rc=0):
        return self.probe(url, "--cafile", self.ca.pem, "--servername", SERVERNAME, "--level", "verify", *extra,
                          expect_rc=expect_rc)

    def assert_verified_tls13(self, j, r):
        d = r.describe()
        self.assertEqual(j["outcome"], "ok", d)
        self.assertIsNone(j.get("error"), d)
        self.assertEqual(j["protocol"], "nntp", d)
        self.assertIn(self.inn.pathhost, j["banner"], "banner is not this INN's greeting" + d)
        self.assertEqual(j["tls"]["version"], "TLSv1.3", d)
        self.assertRegex(j["tls"]["cipher"], TLS13_CIPHER, d)
        cert = j["certificate"]
        self.assertIs(cert["trusted"], True, d)
        self.assertIs(cert["hostname_match"], True, d)
        self.assertFalse(cert.get("error"), d)
        self.assertEqual(h.digest_bytes(cert["chain"][0]["sha256_fingerprint"]), self.leaf.sha256_fingerprint(),
                         "chain[0] is not the certificate nnrpd serves" + d)

    # -- nnrpd, STARTTLS

    def test_nnrpd_starttls_verified(self):
        j, r = self.verified(self.inn.url("nntp"))
        d = r.describe()
        self.assert_verified_tls13(j, r)
        self.assertEqual(j["mode"], "starttls", d)
        self.assertIn(f"{h.SERVER_LOOPBACK}:{self.inn.port('nntp')}", j["address"], d)
        self.assertIs(j["starttls"]["offered"], True, d)
        self.assertIs(j["starttls"]["accepted"], True, d)
        before, after = cap_map(j["capabilities"]["before_tls"]), cap_map(j["capabilities"]["after_tls"])
        _, truth_before, truth_after = self.truth
        self.assertEqual(before, truth_before, "pre-TLS CAPABILITIES differ from the raw exchange" + d)
        self.assertEqual(after, truth_after, "post-TLS CAPABILITIES differ (not asked again?)" + d)
        # nnrpd's own differences
        self.assertIn("STARTTLS", before, d)
        self.assertNotIn("STARTTLS", after, d)
        self.assertNotIn("USER", before["AUTHINFO"].split(), d)
        self.assertIn("USER", after["AUTHINFO"].split(), d)
        self.assertTrue({"PLAIN", "LOGIN"} <= set(after["SASL"].split()) - set(before["SASL"].split()), d)
        self.assertIn("READER", after, d)
        self.assertEqual(before.get("VERSION"), "2", d)

    def test_nnrpd_certificate_name_mismatch(self):
        j, r = self.probe(self.inn.url("nntp"), "--cafile", self.ca.pem, "--servername", "other.example",
                          "--level", "verify", expect_rc=6)
        self.assertEqual(j["outcome"], "certificate-host-mismatch", r.describe())
        self.assertIs(j["certificate"]["trusted"], True, r.describe())
        self.assertIs(j["certificate"]["hostname_match"], False, r.describe())

    def test_nnrpd_untrusted_without_cafile(self):
        j, r = self.probe(self.inn.url("nntp"), "--servername", SERVERNAME, "--level", "verify", expect_rc=6)
        self.assertEqual(j["outcome"], "certificate-not-trusted", r.describe())
        self.assertIs(j["starttls"]["accepted"], True, r.describe())

    # -- nnrpd -S, implicit TLS

    def test_nntps_implicit_verified(self):
        j, r = self.verified(self.inn.url("nntps"))
        d = r.describe()
        self.assert_verified_tls13(j, r)
        self.assertEqual(j["mode"], "implicit", d)
        self.assertIsNone(j["starttls"], d)
        self.assertFalse(j["capabilities"]["before_tls"], d)
        after = cap_map(j["capabilities"]["after_tls"])
        self.assertEqual(after, self.truth_s[1], "capabilities differ from the raw exchange over TLS" + d)
        self.assertNotIn("STARTTLS", after, d)
        self.assertIn("USER", after["AUTHINFO"].split(), d)

    # -- innd: transit mode first, STARTTLS only after MODE READER

    def test_innd_transit_mode_reader_then_starttls(self):
        greeting, truth_before, truth_after = self.truth_transit
        self.assertTrue(greeting.startswith("201 "), greeting)  # nnrpd answered MODE READER
        j, r = self.verified(self.inn.url("innd"))
        d = r.describe()
        self.assert_verified_tls13(j, r)
        self.assertIn("transit mode", j["banner"], "the probe did not start at innd's transit greeting" + d)
        self.assertIs(j["starttls"]["offered"], True, d)
        self.assertIs(j["starttls"]["accepted"], True, d)
        # the list STARTTLS was found in: nnrpd's, after MODE READER
        self.assertEqual(cap_map(j["capabilities"]["before_tls"]), truth_before, d)
        after = cap_map(j["capabilities"]["after_tls"])
        self.assertEqual(after, truth_after, "post-TLS CAPABILITIES differ from nnrpd's after MODE READER" + d)
        self.assertNotIn("MODE-READER", after, d)
        self.assertIn("READER", after, d)

    def test_innd_transit_capabilities_really_lack_starttls(self):
        # the premise of the test above, checked without otls: innd's transit CAPABILITIES
        sock = socket.create_connection((h.SERVER_LOOPBACK, self.inn.port("innd")), timeout=20)
        try:
            f = sock.makefile("rb", buffering=0)
            greeting = h.read_line(f)
            self.assertRegex(greeting, r"^200 .*transit mode", greeting)
            caps = cap_map(nntp_capabilities(f, sock))
            self.assertIn("MODE-READER", caps)
            self.assertIn("IHAVE", caps)
            self.assertNotIn("STARTTLS", caps)
            self.assertNotIn("READER", caps)
            sock.sendall(b"QUIT\r\n")
        finally:
            sock.close()

    # -- STRIPTLS attacker in front of nnrpd

    def test_meddler_strips_starttls_at_verify(self):
        m = self.start_daemon(h.OtlsTestMeddler(self.scratch_dir(), (h.SERVER_LOOPBACK, self.inn.port("nntp")),
                                                "nntp"))
        j, r = self.probe(m.url(), "--cafile", self.ca.pem, "--servername", SERVERNAME, "--level", "verify",
                          expect_rc=3)
        d = r.describe()
        self.assertEqual(j["outcome"], "starttls-not-supported", d)
        self.assertIs(j["starttls"]["offered"], False, d)
        self.assertIsNone(j["tls"], d)
        self.assertIn(self.inn.pathhost, j["banner"], "not relayed to nnrpd?" + d)
        before = cap_map(j["capabilities"]["before_tls"])
        self.assertNotIn("STARTTLS", before, d)
        self.assertIn("READER", before, "capabilities were not read through the relay" + d)

    def test_meddler_at_may_is_plaintext_with_warning(self):
        m = self.start_daemon(h.OtlsTestMeddler(self.scratch_dir(), (h.SERVER_LOOPBACK, self.inn.port("nntp")),
                                                "nntp"))
        j, r = self.probe(m.url(), "--level", "may", expect_rc=0)
        d = r.describe()
        self.assertEqual(j["outcome"], "ok", d)
        self.assertIsNone(j["tls"], d)
        self.assertTrue(any("plaintext" in str(w).lower() for w in j.get("warnings") or []), d)


if __name__ == "__main__":
    unittest.main()
