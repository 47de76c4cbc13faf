"""`otls probe` against a real Postfix (Debian's postfix package), private instance on loopback.

One Postfix master serves every scenario, one 127.0.0.1 port per listener; each
listener logs under its own syslog_name, so otls's view of a session is
cross-checked against what Postfix itself logged about it.
"""

import re
import unittest

import harness as h

SERVERNAME = "mx.test"
TOP_LEVEL_KEYS = ("target", "protocol", "mode", "outcome", "elapsed_ms")


def cap_keywords(caps):
    """EHLO keywords ("SIZE 10240000" -> "SIZE"), upper case."""
    return [str(c).split()[0].upper() for c in (caps or []) if str(c).strip()]


class PostfixProbeTests(h.InteropTestCase):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.otls = h.require_env("OTLS_BIN")
        cls.ca = h.TestCA(cls.workdir / "ca")
        names = (SERVERNAME, "localhost", "127.0.0.1")
        cls.ec = cls.ca.leaf(*names, key="ecdsa")
        cls.rsa = cls.ca.leaf(*names, key="rsa")
        cls.other = cls.ca.leaf("other.example", key="ecdsa")
        cls.expired = cls.ca.leaf(*names, key="ecdsa", expired=True)
        cls.pf = h.Postfix(cls.workdir / "pf", [
            h.Listener("ec", [cls.ec]),
            h.Listener("rsa", [cls.rsa]),
            h.Listener("smtps", [cls.ec], wrapper=True),
            h.Listener("plain", level="none"),
            h.Listener("plainother", [cls.other], level="none"),
            h.Listener("other", [cls.other]),
            h.Listener("expired", [cls.expired]),
            h.Listener("refuse", [cls.ec], refuse_starttls=True),
            h.Listener("tls12", [cls.ec], tls_protocols=">=TLSv1.2, <=TLSv1.2"),
            h.Listener("submission", [cls.ec], level="encrypt"),
        ], hostname=SERVERNAME)
        cls.keep_daemon(cls.pf)
        cls.pf.start()
        cls.addClassCleanup(cls.pf.stop)

    # -- helpers

    def probe(self, url, *args, expect_rc):
        r = h.otls_probe(url, *args, timeout=60)
        self.assertEqual(r.rc, expect_rc, f"unexpected exit status{r.describe()}")
        self.assertIsNotNone(r.json, f"--json did not print one JSON object{r.describe()}")
        for k in TOP_LEVEL_KEYS:
            self.assertIn(k, r.json, f"JSON lacks {k!r}{r.describe()}")
        self.assertIsInstance(r.json["elapsed_ms"], (int, float), r.describe())
        self.assertGreaterEqual(r.json["elapsed_ms"], 0, r.describe())
        return r.json, r

    def url(self, listener, scheme="smtp", host="127.0.0.1"):
        return f"{scheme}://{host}:{self.pf.port(listener)}"

    def postfix_session(self, listener, since):
        """What Postfix logged about the one session after log offset `since`."""
        name = re.escape(self.pf.listener(listener).syslog_name)
        disc = self.pf.wait_for_log(rf"{name}/smtpd\[\d+\]: disconnect from \S+ (.*)", since=since)
        tls = self.pf.wait_for_log(
            rf"{name}/smtpd\[\d+\]: \w+ TLS connection established from \S+: (\S+) with cipher (\S+)"
            rf"(?:.*key-exchange (\S+))?(?:.*server-signature (\S+))?", since=since, timeout=2)
        return {"counters": disc.group(1), "version": tls.group(1), "cipher": tls.group(2),
                "group": tls.group(3), "signature": tls.group(4)}

    def assert_verified_tls13(self, j, r, leaf, key_type):
        d = r.describe()
        self.assertEqual(j["outcome"], "ok", d)
        tls = j["tls"]
        self.assertEqual(tls["version"], "TLSv1.3", d)
        self.assertRegex(tls["cipher"], r"^TLS_(AES_(128|256)_GCM_SHA(256|384)|CHACHA20_POLY1305_SHA256)$", d)
        self.assertTrue(tls["group"], d)
        self.assertIs(tls["forward_secrecy"], True, d)
        cert = j["certificate"]
        self.assertIs(cert["trusted"], True, d)
        self.assertIs(cert["hostname_match"], True, d)
        self.assertFalse(cert.get("error"), d)
        chain = cert["chain"]
        self.assertGreaterEqual(len(chain), 1, d)
        c0 = chain[0]
        self.assertEqual(c0["key_type"], key_type, d)
        self.assertGreaterEqual(c0["key_bits"], 2048 if key_type == "RSA" else 256, d)
        self.assertIn(SERVERNAME, c0["dns_names"], d)
        self.assertEqual(h.digest_bytes(c0["sha256_fingerprint"]), leaf.sha256_fingerprint(),
                         f"chain[0] is not the certificate Postfix serves{d}")
        self.assertEqual(h.digest_bytes(c0["spki_sha256"]), leaf.spki_sha256(), d)

    def assert_starttls_session(self, j, r, listener):
        d = r.describe()
        self.assertEqual(j["protocol"], "smtp", d)
        self.assertEqual(j["mode"], "starttls", d)
        self.assertIn("127.0.0.1", j["address"], d)
        self.assertIn(self.pf.listener(listener).token, j["banner"], "banner is not this listener's" + d)
        self.assertIs(j["starttls"]["offered"], True, d)
        self.assertIs(j["starttls"]["accepted"], True, d)
        before = cap_keywords(j["capabilities"]["before_tls"])
        after = cap_keywords(j["capabilities"]["after_tls"])
        self.assertIn("STARTTLS", before, d)
        self.assertIn("PIPELINING", before, d)
        self.assertNotIn("STARTTLS", after, "STARTTLS advertised after TLS?" + d)
        self.assertIn("PIPELINING", after, "post-TLS capabilities were not read" + d)

    def assert_matches_postfix_log(self, j, r, listener, since, expect_signature):
        pf = self.postfix_session(listener, since)
        d = r.describe() + f"\nPostfix logged: {pf}"
        self.assertEqual(j["tls"]["version"], pf["version"], d)
        self.assertEqual(j["tls"]["cipher"], pf["cipher"], d)
        if pf["group"]:
            self.assertEqual(str(j["tls"]["group"]).lower(), pf["group"].lower(), d)
        if expect_signature and pf["signature"]:
            self.assertTrue(pf["signature"].startswith(expect_signature), d)
        # Rule 2 of DESIGN.md: capabilities are asked again after the handshake.
        self.assertRegex(pf["counters"], r"\behlo=2\b", "otls did not EHLO again after STARTTLS" + d)
        self.assertRegex(pf["counters"], r"\bstarttls=1\b", d)

    # -- STARTTLS with a verified certificate

    def test_starttls_ecdsa_verified(self):
        off = self.pf.log_offset()
        j, r = self.probe(self.url("ec"), "--cafile", self.ca.pem, "--servername", SERVERNAME,
                          "--level", "verify", expect_rc=0)
        self.assert_starttls_session(j, r, "ec")
        self.assert_verified_tls13(j, r, self.ec, "EC")
        self.assert_matches_postfix_log(j, r, "ec", off, "ECDSA")

    def test_starttls_rsa_verified(self):
        off = self.pf.log_offset()
        j, r = self.probe(self.url("rsa"), "--cafile", self.ca.pem, "--servername", SERVERNAME,
                          "--level", "verify", expect_rc=0)
        self.assert_starttls_session(j, r, "rsa")
        self.assert_verified_tls13(j, r, self.rsa, "RSA")
        self.assert_matches_postfix_log(j, r, "rsa", off, "RSA")

    def test_hostname_from_url_localhost(self):
        j, r = self.probe(self.url("ec", host="localhost"), "-4", "--cafile", self.ca.pem,
                          "--level", "verify", expect_rc=0)
        self.assertEqual(j["outcome"], "ok", r.describe())
        self.assertIs(j["certificate"]["hostname_match"], True, r.describe())
        self.assertIn("127.0.0.1", j["address"], r.describe())

    def test_ip_literal_target_matches_ip_san(self):
        j, r = self.probe(self.url("ec"), "--cafile", self.ca.pem, "--level", "verify", expect_rc=0)
        self.assertIs(j["certificate"]["hostname_match"], True, r.describe())
        self.assertIn("127.0.0.1", j["certificate"]["chain"][0]["ip_addresses"], r.describe())

    def test_default_level_verifies(self):
        # Without --level the probe must not silently accept a certificate for another name.
        j, r = self.probe(self.url("other"), "--cafile", self.ca.pem, "--servername", SERVERNAME, expect_rc=6)
        self.assertEqual(j["outcome"], "certificate-host-mismatch", r.describe())

    # -- certificate failures

    def test_certificate_for_another_name(self):
        j, r = self.probe(self.url("other"), "--cafile", self.ca.pem, "--servername", SERVERNAME,
                          "--level", "verify", expect_rc=6)
        d = r.describe()
        self.assertEqual(j["outcome"], "certificate-host-mismatch", d)
        self.assertIs(j["certificate"]["trusted"], True, d)
        self.assertIs(j["certificate"]["hostname_match"], False, d)
        self.assertTrue(j["certificate"]["error"], d)
        self.assertIn("other.example", j["certificate"]["chain"][0]["dns_names"], d)

    def test_untrusted_without_cafile(self):
        j, r = self.probe(self.url("ec"), "--servername", SERVERNAME, "--level", "verify", expect_rc=6)
        d = r.describe()
        self.assertEqual(j["outcome"], "certificate-not-trusted", d)
        self.assertIs(j["certificate"]["trusted"], False, d)
        self.assertTrue(j["certificate"]["error"], d)
        self.assertIs(j["starttls"]["accepted"], True, d)  # the upgrade itself worked

    def test_expired_certificate(self):
        j, r = self.probe(self.url("expired"), "--cafile", self.ca.pem, "--servername", SERVERNAME,
                          "--level", "verify", expect_rc=6)
        self.assertEqual(j["outcome"], "certificate-expired", r.describe())
        self.assertTrue(j["certificate"]["error"], r.describe())

    def test_encrypt_level_accepts_untrusted_certificate(self):
        # encrypt = TLS required, server not authenticated (Postfix semantics): the level is met.
        j, r = self.probe(self.url("ec"), "--servername", SERVERNAME, "--level", "encrypt", expect_rc=0)
        self.assertEqual(j["tls"]["version"], "TLSv1.3", r.describe())
        self.assertIs(j["certificate"]["trusted"], False, r.describe())

    # -- implicit TLS and submission

    def test_implicit_tls_wrapper_mode(self):
        off = self.pf.log_offset()
        j, r = self.probe(self.url("smtps", scheme="smtps"), "--cafile", self.ca.pem, "--servername", SERVERNAME,
                          "--level", "verify", expect_rc=0)
        d = r.describe()
        self.assertEqual(j["mode"], "implicit", d)
        self.assertEqual(j["outcome"], "ok", d)
        self.assertIn(self.pf.listener("smtps").token, j["banner"], d)
        self.assertEqual(j["tls"]["version"], "TLSv1.3", d)
        self.assertIs(j["certificate"]["trusted"], True, d)
        self.assertIs(j["certificate"]["hostname_match"], True, d)
        self.assertNotIn("STARTTLS", cap_keywords(j["capabilities"]["after_tls"]), d)
        self.assertIn("PIPELINING", cap_keywords(j["capabilities"]["after_tls"]), d)
        pf = self.postfix_session("smtps", off)
        self.assertEqual(j["tls"]["cipher"], pf["cipher"], d + f"\nPostfix: {pf}")

    def test_submission_starttls_required_by_server(self):
        j, r = self.probe(self.url("submission", scheme="submission"), "--cafile", self.ca.pem,
                          "--servername", SERVERNAME, "--level", "verify", expect_rc=0)
        self.assertEqual(j["mode"], "starttls", r.describe())
        self.assertEqual(j["outcome"], "ok", r.describe())
        self.assertIs(j["starttls"]["accepted"], True, r.describe())

    # -- no STARTTLS, refused STARTTLS

    def test_no_starttls_at_verify_level(self):
        j, r = self.probe(self.url("plain"), "--cafile", self.ca.pem, "--servername", SERVERNAME,
                          "--level", "verify", expect_rc=3)
        d = r.describe()
        self.assertEqual(j["outcome"], "starttls-not-supported", d)
        self.assertIs(j["starttls"]["offered"], False, d)
        self.assertNotIn("STARTTLS", cap_keywords(j["capabilities"]["before_tls"]), d)
        self.assertIn("PIPELINING", cap_keywords(j["capabilities"]["before_tls"]), d)

    def test_no_starttls_at_encrypt_level(self):
        j, r = self.probe(self.url("plainother"), "--level", "encrypt", expect_rc=3)
        self.assertEqual(j["outcome"], "starttls-not-supported", r.describe())

    def test_no_starttls_at_may_level(self):
        j, r = self.probe(self.url("plain"), "--level", "may", expect_rc=0)
        d = r.describe()
        self.assertEqual(j["outcome"], "ok", d)
        self.assertIs(j["starttls"]["offered"], False, d)
        warnings = j.get("warnings")
        self.assertIsInstance(warnings, list, d)
        self.assertTrue(any("plaintext" in str(w).lower() for w in warnings), d)

    def test_starttls_refused(self):
        off = self.pf.log_offset()
        j, r = self.probe(self.url("refuse"), "--cafile", self.ca.pem, "--servername", SERVERNAME,
                          "--level", "verify", expect_rc=4)
        d = r.describe()
        self.assertEqual(j["outcome"], "starttls-rejected", d)
        self.assertIs(j["starttls"]["offered"], True, d)
        self.assertIs(j["starttls"]["accepted"], False, d)
        # the refusal really came from Postfix
        self.pf.wait_for_log(rf"{self.pf.listener('refuse').syslog_name}/smtpd\[\d+\]: disconnect from \S+ "
                             rf".*\bunknown=0/1\b", since=off)

    def test_starttls_refused_at_may_level_is_plaintext(self):
        j, r = self.probe(self.url("refuse"), "--level", "may", expect_rc=0)
        d = r.describe()
        self.assertIs(j["starttls"]["accepted"], False, d)
        self.assertTrue(any("plaintext" in str(w).lower() for w in j.get("warnings") or []), d)

    # -- protocol versions

    def test_tls12_only_server(self):
        off = self.pf.log_offset()
        j, r = self.probe(self.url("tls12"), "--cafile", self.ca.pem, "--servername", SERVERNAME,
                          "--level", "verify", expect_rc=0)
        d = r.describe()
        self.assertEqual(j["tls"]["version"], "TLSv1.2", d)
        self.assertIs(j["tls"]["forward_secrecy"], True, d)  # ECDHE
        pf = self.postfix_session("tls12", off)
        self.assertEqual(j["tls"]["cipher"], pf["cipher"], d + f"\nPostfix: {pf}")

    def test_tls_min_above_server_max_is_handshake_failure(self):
        j, r = self.probe(self.url("tls12"), "--cafile", self.ca.pem, "--servername", SERVERNAME,
                          "--level", "verify", "--tls-min", "1.3", expect_rc=5)
        self.assertEqual(j["outcome"], "handshake-failure", r.describe())
        self.assertIs(j["starttls"]["accepted"], True, r.describe())

    # -- connection failures

    def test_nothing_listening(self):
        port = h.free_port()
        j, r = self.probe(f"smtp://127.0.0.1:{port}", "--timeout", "10", expect_rc=2)
        self.assertEqual(j["outcome"], "connect-failure", r.describe())

    def test_human_output_without_json(self):
        r = h.otls_probe(self.url("ec"), "--cafile", str(self.ca.pem), "--servername", SERVERNAME,
                         json_output=False)
        self.assertEqual(r.rc, 0, r.describe())
        self.assertRegex(r.cp.stdout, r"TLS ?v?1\.3", r.describe())
        self.assertIn(SERVERNAME, r.cp.stdout, r.describe())


if __name__ == "__main__":
    unittest.main()
