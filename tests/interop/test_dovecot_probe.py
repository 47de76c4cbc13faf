"""`otls probe` against a real Dovecot (Debian's dovecot-imapd, -pop3d, -managesieved, -lmtpd),
private instances on 127.0.0.2 probed from 127.0.0.1.

Dovecot's capabilities differ before and after TLS (before: STARTTLS and LOGINDISABLED; after:
AUTH=PLAIN AUTH=LOGIN), so a probe that reused its pre-TLS answers, or never asked again,
is caught. The expected lists are not written down here: they are read from the same
Dovecot with Python's imaplib/poplib/smtplib and a raw ManageSieve exchange (ground truth
independent of otls), then the exact Dovecot differences are asserted on top. Each session
otls reports is cross-checked with the line Dovecot logged about it (version, cipher,
client and server addresses, "TLS" rather than a trusted plaintext connection).
A STRIPTLS relay (otls_test_meddler) in front of Dovecot, a Dovecot without TLS, and
Dovecot's imap started pre-authenticated (a cleartext "* PREAUTH" greeting) cover the
failures.
"""

import re
import smtplib
import socket
import ssl
import imaplib
import poplib
import unittest

import harness as h

SERVERNAME = "mail.test"
TOP_LEVEL_KEYS = ("target", "protocol", "mode", "outcome", "elapsed_ms")
TLS13_CIPHER = r"^TLS_(AES_(128|256)_GCM_SHA(256|384)|CHACHA20_POLY1305_SHA256)$"
PROTOCOL = {"imap": "imap", "imaps": "imap", "pop3": "pop3", "pop3s": "pop3", "sieve": "sieve", "lmtp": "lmtp"}


# -- capability lists as otls reports them, made comparable

def _tokens(entry):
    """Words of one capability entry; ManageSieve's quoted strings ("SASL" "PLAIN LOGIN") count as one word."""
    return [a if a or q else b for q, a, b in re.findall(r'(")((?:[^"\\]|\\.)*)"|(\S+)', str(entry))]


def cap_map(caps):
    """{KEYWORD: parameters} for line-oriented capabilities (POP3 CAPA, ManageSieve, LMTP, NNTP)."""
    out = {}
    for entry in caps or []:
        words = _tokens(entry)
        if words:
            out[words[0].upper()] = " ".join(w for w in words[1:] if w)
    return out


def imap_caps(caps):
    """IMAP capabilities are atoms: every word of every entry, upper case."""
    return {w.upper() for entry in caps or [] for w in _tokens(entry)}


# -- ground truth from Python's own clients (no otls code involved)

def truth_imap(host, port, ctx):
    m = imaplib.IMAP4(host, port, timeout=20)
    try:
        before = {c.upper() for c in m.capabilities}
        m.starttls(ctx)  # imaplib asks CAPABILITY again after the handshake
        after = {c.upper() for c in m.capabilities}
    finally:
        m.logout()  # also closes the socket
    return before, after


def truth_pop3(host, port, ctx):
    p = poplib.POP3(host, port, timeout=20)
    try:
        before = {k.upper(): " ".join(v) for k, v in p.capa().items()}
        p.stls(ctx)
        after = {k.upper(): " ".join(v) for k, v in p.capa().items()}
        p.quit()
    finally:
        p.close()
    return before, after


def truth_sieve(host, port, ctx):
    sock = socket.create_connection((host, port), timeout=20)
    try:
        f = sock.makefile("rb", buffering=0)  # unbuffered: read nothing past the OK
        before = h.read_lines_until(f, h.sieve_final)
        sock.sendall(b"STARTTLS\r\n")
        ok = h.read_line(f)
        assert ok.upper().startswith("OK"), ok
        tls = ctx.wrap_socket(sock, server_hostname=SERVERNAME)
        sock = tls
        tf = tls.makefile("rb")
        after = h.read_lines_until(tf, h.sieve_final)  # sent unasked after TLS (RFC 5804 §2.2)
        tls.sendall(b"LOGOUT\r\n")
    finally:
        sock.close()
    return cap_map(before[:-1]), cap_map(after[:-1])


def truth_lmtp(host, port, ctx):
    s = smtplib.LMTP(host, port, timeout=20)
    try:
        s.ehlo()  # LHLO
        before = {k.upper(): v for k, v in s.esmtp_features.items()}
        s.starttls(context=ctx)
        s.ehlo()
        after = {k.upper(): v for k, v in s.esmtp_features.items()}
        s.quit()
    finally:
        s.close()
    return before, after


class DovecotProbeTests(h.InteropTestCase):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.otls = h.require_env("OTLS_BIN")
        cls.ca = h.TestCA(cls.workdir / "ca")
        cls.leaf = cls.ca.leaf(SERVERNAME, "localhost", h.SERVER_LOOPBACK, key="ecdsa")
        cls.other = cls.ca.leaf("other.example", key="ecdsa")
        cls.dc = cls._dovecot("dc", cls.leaf)
        # a certificate for another name; STARTTLS and implicit TLS
        cls.dc_other = cls._dovecot("other", cls.other, services=("imap", "pop3s"))
        # no TLS at all: a real server that does not offer STARTTLS
        cls.dc_plain = cls._dovecot("plain", None, services=("imap", "pop3", "sieve"), ssl="no")
        # ssl = required: no authentication of any kind before TLS
        cls.dc_required = cls._dovecot("req", cls.leaf, services=("imap", "pop3"), ssl="required")
        # disable_plaintext_auth = no: LOGIN allowed in plaintext, no LOGINDISABLED
        cls.dc_lax = cls._dovecot("lax", cls.leaf, services=("imap",), disable_plaintext_auth=False)
        # Dovecot's imap run pre-authenticated (as by rsh/ssh or inetd): "* PREAUTH" in cleartext
        cls.preauth = cls.keep_daemon(h.DovecotPreauth(cls.dc, cls.workdir / "preauth"))
        cls.preauth.start()
        cls.addClassCleanup(cls.preauth.stop)
        ctx = ssl.create_default_context(cafile=str(cls.ca.pem))
        ctx.check_hostname = False  # the ground truth only needs the capability lists
        a = h.SERVER_LOOPBACK
        cls.truth = {
            "imap": truth_imap(a, cls.dc.port("imap"), ctx),
            "pop3": truth_pop3(a, cls.dc.port("pop3"), ctx),
            "sieve": truth_sieve(a, cls.dc.port("sieve"), ctx),
            "lmtp": truth_lmtp(a, cls.dc.port("lmtp"), ctx),
        }

    @classmethod
    def _dovecot(cls, name, leaf, **kw):
        d = cls.keep_daemon(h.Dovecot(cls.workdir / name, leaf, hostname=SERVERNAME, name=f"dovecot-{name}", **kw))
        d.start()
        cls.addClassCleanup(d.stop)
        return d

    # -- helpers

    def probe(self, url, *args, expect_rc):
        r = h.otls_probe(url, "--timeout", "20", *args, timeout=90)
        self.assertEqual(r.rc, expect_rc, f"unexpected exit status{r.describe()}")
        self.assertIsNotNone(r.json, f"--json did not print one JSON object{r.describe()}")
        for k in TOP_LEVEL_KEYS:
            self.assertIn(k, r.json, f"JSON lacks {k!r}{r.describe()}")
        return r.json, r

    def verified(self, dc, service, *extra, expect_rc=0):
        return self.probe(dc.url(service), "--cafile", self.ca.pem, "--servername", SERVERNAME,
                          "--level", "verify", *extra, expect_rc=expect_rc)

    def assert_verified_tls13(self, j, r, leaf=None):
        d = r.describe()
        self.assertEqual(j["outcome"], "ok", d)
        self.assertIsNone(j.get("error"), d)
        self.assertEqual(j["tls"]["version"], "TLSv1.3", d)
        self.assertRegex(j["tls"]["cipher"], TLS13_CIPHER, d)
        self.assertIs(j["tls"]["forward_secrecy"], True, d)
        cert = j["certificate"]
        self.assertIs(cert["trusted"], True, d)
        self.assertIs(cert["hostname_match"], True, d)
        self.assertFalse(cert.get("error"), d)
        c0 = cert["chain"][0]
        self.assertIn(SERVERNAME, c0["dns_names"], d)
        self.assertEqual(h.digest_bytes(c0["sha256_fingerprint"]), (leaf or self.leaf).sha256_fingerprint(),
                         "chain[0] is not the certificate Dovecot serves" + d)

    def assert_session(self, j, r, dc, service):
        d = r.describe()
        self.assertEqual(j["protocol"], PROTOCOL[service], d)
        self.assertIn(f"{h.SERVER_LOOPBACK}:{dc.port(service)}", j["address"], d)
        self.assertIn(dc.greeting_token, j["banner"], "banner is not this Dovecot's greeting" + d)
        implicit = service in ("imaps", "pop3s")
        self.assertEqual(j["mode"], "implicit" if implicit else "starttls", d)
        if implicit:
            self.assertIsNone(j["starttls"], d)
            self.assertFalse(j["capabilities"]["before_tls"], "capabilities 'before TLS' on implicit TLS?" + d)
        else:
            self.assertIs(j["starttls"]["offered"], True, d)
            self.assertIs(j["starttls"]["accepted"], True, d)

    def assert_matches_dovecot_log(self, j, r, dc, service, since):
        log = dc.session(service, since)
        d = r.describe() + f"\nDovecot logged: {log}"
        self.assertEqual(log["secured"], "TLS", "Dovecot did not see TLS (or trusted the client by address)" + d)
        self.assertEqual(log["rip"], "127.0.0.1", d)
        self.assertEqual(log["lip"], h.SERVER_LOOPBACK, d)
        self.assertEqual(j["tls"]["version"], log["version"], d)
        self.assertEqual(j["tls"]["cipher"], log["cipher"], d)
        return log

    # -- IMAP

    def test_imap_starttls_verified(self):
        off = self.dc.log_offset()
        j, r = self.verified(self.dc, "imap")
        d = r.describe()
        self.assert_session(j, r, self.dc, "imap")
        self.assert_verified_tls13(j, r)
        before, after = imap_caps(j["capabilities"]["before_tls"]), imap_caps(j["capabilities"]["after_tls"])
        truth_before, truth_after = self.truth["imap"]
        self.assertEqual(before, truth_before, "pre-TLS CAPABILITY differs from imaplib's" + d)
        self.assertEqual(after, truth_after, "post-TLS CAPABILITY differs from imaplib's (not asked again?)" + d)
        # Dovecot's own differences, exactly
        self.assertEqual(before - after, {"STARTTLS", "LOGINDISABLED"}, d)
        self.assertEqual(after - before, {"AUTH=PLAIN", "AUTH=LOGIN"}, d)
        self.assertIn("IMAP4REV1", after, d)
        self.assert_matches_dovecot_log(j, r, self.dc, "imap", off)

    def test_imaps_implicit_verified(self):
        off = self.dc.log_offset()
        j, r = self.verified(self.dc, "imaps")
        d = r.describe()
        self.assert_session(j, r, self.dc, "imaps")
        self.assert_verified_tls13(j, r)
        after = imap_caps(j["capabilities"]["after_tls"])
        self.assertEqual(after, self.truth["imap"][1], "imaps capabilities differ from post-STARTTLS ones" + d)
        self.assertNotIn("STARTTLS", after, d)
        self.assertNotIn("LOGINDISABLED", after, d)
        self.assertIn("AUTH=PLAIN", after, d)
        self.assert_matches_dovecot_log(j, r, self.dc, "imaps", off)

    def test_imap_ip_literal_matches_ip_san(self):
        j, r = self.probe(self.dc.url("imap"), "--cafile", self.ca.pem, "--level", "verify", expect_rc=0)
        self.assertIs(j["certificate"]["hostname_match"], True, r.describe())
        self.assertIn(h.SERVER_LOOPBACK, j["certificate"]["chain"][0]["ip_addresses"], r.describe())

    def test_imap_ssl_required_variant(self):
        off = self.dc_required.log_offset()
        j, r = self.verified(self.dc_required, "imap")
        self.assert_verified_tls13(j, r)
        d = r.describe()
        before = imap_caps(j["capabilities"]["before_tls"])
        self.assertTrue({"STARTTLS", "LOGINDISABLED"} <= before, d)
        self.assertFalse(any(c.startswith("AUTH=") for c in before), d)
        self.assertIn("AUTH=PLAIN", imap_caps(j["capabilities"]["after_tls"]), d)
        self.assert_matches_dovecot_log(j, r, self.dc_required, "imap", off)

    def test_imap_plaintext_login_allowed_variant(self):
        # disable_plaintext_auth = no: Dovecot offers AUTH=PLAIN in cleartext and no LOGINDISABLED;
        # otls must report what the server said, not what it expects
        j, r = self.verified(self.dc_lax, "imap")
        self.assert_verified_tls13(j, r)
        d = r.describe()
        before = imap_caps(j["capabilities"]["before_tls"])
        self.assertIn("STARTTLS", before, d)
        self.assertIn("AUTH=PLAIN", before, d)
        self.assertNotIn("LOGINDISABLED", before, d)
        self.assertNotIn("STARTTLS", imap_caps(j["capabilities"]["after_tls"]), d)

    # -- POP3

    def test_pop3_stls_verified(self):
        off = self.dc.log_offset()
        j, r = self.verified(self.dc, "pop3")
        d = r.describe()
        self.assert_session(j, r, self.dc, "pop3")
        self.assert_verified_tls13(j, r)
        before, after = cap_map(j["capabilities"]["before_tls"]), cap_map(j["capabilities"]["after_tls"])
        truth_before, truth_after = self.truth["pop3"]
        self.assertEqual(before, truth_before, "pre-TLS CAPA differs from poplib's" + d)
        self.assertEqual(after, truth_after, "post-TLS CAPA differs from poplib's (not asked again?)" + d)
        self.assertIn("STLS", before, d)
        self.assertNotIn("STLS", after, d)
        self.assertNotIn("USER", before, d)     # Dovecot: no plaintext USER/PASS before TLS
        self.assertIn("USER", after, d)
        self.assertEqual(before.get("SASL"), "", d)   # no mechanisms before TLS ...
        self.assertEqual(after.get("SASL"), "PLAIN LOGIN", d)  # ... and these after it
        self.assert_matches_dovecot_log(j, r, self.dc, "pop3", off)

    def test_pop3s_implicit_verified(self):
        off = self.dc.log_offset()
        j, r = self.verified(self.dc, "pop3s")
        self.assert_session(j, r, self.dc, "pop3s")
        self.assert_verified_tls13(j, r)
        after = cap_map(j["capabilities"]["after_tls"])
        self.assertEqual(after, self.truth["pop3"][1], r.describe())
        self.assertNotIn("STLS", after, r.describe())
        self.assert_matches_dovecot_log(j, r, self.dc, "pop3s", off)

    def test_pop3_ssl_required_variant(self):
        j, r = self.verified(self.dc_required, "pop3")
        self.assert_verified_tls13(j, r)
        self.assertIn("STLS", cap_map(j["capabilities"]["before_tls"]), r.describe())
        self.assertNotIn("STLS", cap_map(j["capabilities"]["after_tls"]), r.describe())

    # -- ManageSieve

    def test_sieve_starttls_verified(self):
        off = self.dc.log_offset()
        j, r = self.verified(self.dc, "sieve")
        d = r.describe()
        self.assert_session(j, r, self.dc, "sieve")
        self.assert_verified_tls13(j, r)
        before, after = cap_map(j["capabilities"]["before_tls"]), cap_map(j["capabilities"]["after_tls"])
        truth_before, truth_after = self.truth["sieve"]
        self.assertEqual(before, truth_before, "greeting capabilities differ from the raw exchange" + d)
        self.assertEqual(after, truth_after,
                         "post-TLS capabilities (sent unasked by the server, RFC 5804) were not read" + d)
        self.assertIn("STARTTLS", before, d)
        self.assertNotIn("STARTTLS", after, d)
        self.assertEqual(before.get("SASL"), "", d)
        self.assertEqual(after.get("SASL"), "PLAIN LOGIN", d)
        self.assertIn("SIEVE", after, d)
        self.assert_matches_dovecot_log(j, r, self.dc, "sieve", off)

    # -- LMTP

    def test_lmtp_starttls_verified(self):
        j, r = self.verified(self.dc, "lmtp")
        d = r.describe()
        self.assert_session(j, r, self.dc, "lmtp")
        self.assert_verified_tls13(j, r)
        before, after = cap_map(j["capabilities"]["before_tls"]), cap_map(j["capabilities"]["after_tls"])
        truth_before, truth_after = self.truth["lmtp"]
        self.assertEqual(set(before), set(truth_before), "LHLO keywords differ from smtplib's" + d)
        self.assertEqual(set(after), set(truth_after), "post-TLS LHLO keywords differ (not asked again?)" + d)
        self.assertIn("STARTTLS", before, d)
        self.assertNotIn("STARTTLS", after, d)
        self.assertIn("PIPELINING", after, d)

    # -- certificates

    def test_certificate_for_another_name_starttls(self):
        j, r = self.verified(self.dc_other, "imap", expect_rc=6)
        d = r.describe()
        self.assertEqual(j["outcome"], "certificate-host-mismatch", d)
        self.assertIs(j["certificate"]["trusted"], True, d)
        self.assertIs(j["certificate"]["hostname_match"], False, d)
        self.assertTrue(j["certificate"]["error"], d)
        self.assertIn("other.example", j["certificate"]["chain"][0]["dns_names"], d)
        self.assertIs(j["starttls"]["accepted"], True, d)  # the upgrade itself worked

    def test_certificate_for_another_name_implicit(self):
        j, r = self.verified(self.dc_other, "pop3s", expect_rc=6)
        self.assertEqual(j["outcome"], "certificate-host-mismatch", r.describe())
        self.assertIs(j["certificate"]["hostname_match"], False, r.describe())

    def test_untrusted_without_cafile(self):
        j, r = self.probe(self.dc.url("imap"), "--servername", SERVERNAME, "--level", "verify", expect_rc=6)
        self.assertEqual(j["outcome"], "certificate-not-trusted", r.describe())
        self.assertIs(j["certificate"]["trusted"], False, r.describe())

    # -- no STARTTLS: a server without TLS, and a STRIPTLS attacker in front of Dovecot

    def test_server_without_tls_at_verify(self):
        for service in ("imap", "pop3", "sieve"):
            with self.subTest(service=service):
                j, r = self.verified(self.dc_plain, service, expect_rc=3)
                d = r.describe()
                self.assertEqual(j["outcome"], "starttls-not-supported", d)
                self.assertIs(j["starttls"]["offered"], False, d)
                self.assertIsNone(j["tls"], d)
                self.assertIn(self.dc_plain.greeting_token, j["banner"], d)
                self.assertTrue(j["capabilities"]["before_tls"], "no capabilities read" + d)

    def striptls(self, service):
        m = h.OtlsTestMeddler(self.scratch_dir(), (h.SERVER_LOOPBACK, self.dc.port(service)), service)
        return self.start_daemon(m)

    def test_meddler_strips_starttls_at_verify(self):
        for service, keyword in (("imap", "IMAP4REV1"), ("pop3", "UIDL"), ("sieve", "SIEVE"), ("lmtp", "PIPELINING")):
            with self.subTest(service=service):
                m = self.striptls(service)
                off = self.dc.log_offset()
                j, r = self.probe(m.url(), "--cafile", self.ca.pem, "--servername", SERVERNAME, "--level", "verify",
                                  expect_rc=3)
                d = r.describe()
                self.assertEqual(j["outcome"], "starttls-not-supported", d)
                self.assertIs(j["starttls"]["offered"], False, d)
                self.assertIsNone(j["tls"], d)
                self.assertIn(self.dc.greeting_token, j["banner"], "not relayed to Dovecot?" + d)
                before = (imap_caps if service == "imap" else cap_map)(j["capabilities"]["before_tls"])
                self.assertIn(keyword, before, "capabilities were not read through the relay" + d)
                self.assertNotIn("STARTTLS", before, d)
                self.assertNotIn("STLS", before, d)
                if service == "lmtp":
                    continue  # Dovecot's lmtp logs no TLS details
                # Dovecot saw a plaintext session that never started TLS
                log = self.dc.session(service, off)
                self.assertEqual(log["ssl"], "", d + f"\nDovecot logged: {log}")
                self.assertNotIn("TLS", log["secured"], d + f"\nDovecot logged: {log}")

    def test_meddler_at_may_is_plaintext_with_warning(self):
        for service in ("imap", "pop3"):
            with self.subTest(service=service):
                m = self.striptls(service)
                j, r = self.probe(m.url(), "--level", "may", expect_rc=0)
                d = r.describe()
                self.assertEqual(j["outcome"], "ok", d)
                self.assertIs(j["starttls"]["offered"], False, d)
                self.assertIsNone(j["tls"], d)
                self.assertTrue(any("plaintext" in str(w).lower() for w in j.get("warnings") or []), d)

    def test_meddler_encrypt_level_also_fails(self):
        m = self.striptls("imap")
        j, r = self.probe(m.url(), "--level", "encrypt", expect_rc=3)
        self.assertEqual(j["outcome"], "starttls-not-supported", r.describe())

    # -- IMAP PREAUTH in cleartext: STARTTLS impossible (RFC 9051 §7.1.4, the "NO STARTTLS" case)

    def test_preauth_greeting_in_plaintext_fails_at_verify_and_encrypt(self):
        for level in ("verify", "encrypt"):
            with self.subTest(level=level):
                j, r = self.probe(self.preauth.url(), "--cafile", self.ca.pem, "--servername", SERVERNAME,
                                  "--level", level, expect_rc=3)
                d = r.describe()
                self.assertEqual(j["outcome"], "preauth-plaintext", d)
                self.assertEqual(j["protocol"], "imap", d)
                self.assertIsNone(j["tls"], d)
                self.assertIn(f"Logged in as {self.dc.user}", j["banner"], "not Dovecot's PREAUTH greeting?" + d)
                self.assertTrue(j.get("error"), d)

    def test_preauth_greeting_at_may_is_ok_with_warning(self):
        j, r = self.probe(self.preauth.url(), "--level", "may", expect_rc=0)
        d = r.describe()
        self.assertEqual(j["outcome"], "ok", d)
        self.assertIsNone(j["tls"], d)
        self.assertTrue(any(re.search(r"(?i)preauth|plaintext", str(w)) for w in j.get("warnings") or []), d)

    def test_human_output_without_json(self):
        r = h.otls_probe(self.dc.url("imap"), "--cafile", str(self.ca.pem), "--servername", SERVERNAME,
                         json_output=False)
        self.assertEqual(r.rc, 0, r.describe())
        self.assertRegex(r.cp.stdout, r"TLS ?v?1\.3", r.describe())
        self.assertIn(SERVERNAME, r.cp.stdout, r.describe())


if __name__ == "__main__":
    unittest.main()
