"""DANE for SMTP (RFC 7672): `otls probe --mx` and `otls policy` in a real DNSSEC world,
judged against Postfix's own DANE client.

The world (dane_world.py): nsd serves example.test signed with ldns-signzone plus an unsigned
delegated child insecure.example.test; unbound validates on 127.0.53.53:53; one private Postfix
has an smtpd listener per MX host on 127.0.2.N:25, each with its own certificate from the test
CA; TLSA records are computed from those certificates before the zone is signed.

For every mail domain three parties must agree on one verdict (dane_world's vocabulary:
dane-verified, encrypted, starttls-not-supported, validation-failure,
certificate-host-mismatch, dnssec-invalid, resolver-cannot-validate):
the expected value written below, otls, and the referee `posttls-finger -l dane` (run in a
private mount namespace whose /etc/resolv.conf names the test resolver). A failure prints
the whole table.

| case | domain | MX host | TLSA | expected |
|---|---|---|---|---|
| ee | ee.example.test | mx-ee (127.0.2.1) | 3 1 1 leaf SPKI | dane-verified, depth 0 |
| ta | ta.example.test | mx-ta (127.0.2.2) | 2 1 1 CA SPKI, CA in the chain | dane-verified, depth 1 |
| tawrong | tawrong.example.test | mx-tawrong (127.0.2.3) | 2 1 1 CA, leaf for other.example.test | certificate-host-mismatch |
| nomatch | nomatch.example.test | mx-nomatch (127.0.2.4) | 3 1 1 random | validation-failure |
| pkix | pkix.example.test | mx-pkix (127.0.2.5) | usages 0 and 1 only | encrypted (TLS mandatory, unauthenticated) |
| bogus | bogus.example.test | mx-bogus (127.0.2.6) | altered after signing | dnssec-invalid, never connects |
| insecure | insecure.example.test | mx.insecure (127.0.2.7) | in the unsigned zone | encrypted (DANE does not apply) |
| cname | cname.example.test | mx-alias -> host-cname (127.0.2.8) | at the expanded name | dane-verified |
| mxin | mxin.insecure.example.test | mx-ee (insecure MX RRset) | secure host's | dane-verified |
| plain | plain.example.test | mx-plain (127.0.2.10, no STARTTLS) | 3 1 1 | starttls-not-supported |
| novalid | ee.example.test via a non-validating server | | | resolver-cannot-validate (otls only) |

Needs root (port 53 and 25 on loopback addresses), the Debian packages nsd, ldnsutils,
unbound, postfix, openssl, util-linux; skipped only when one of those tools is missing (or
127.0.53.53:53 / 127.0.2.N:25 is held by another process).
"""
from __future__ import annotations

import re
import unittest
from typing import Optional

import dane_world
import harness
from dane_world import (CANNOT_VALIDATE, CASES, DANE_VERIFIED, DNSSEC_INVALID, ENCRYPTED, HOST_MISMATCH,
                        NO_STARTTLS, NONVALIDATING, PLAINTEXT, VALIDATION_FAILURE, Case)

EXIT = {"ok": 0, NO_STARTTLS: 3, VALIDATION_FAILURE: 6, HOST_MISMATCH: 6, DNSSEC_INVALID: 10,
        CANNOT_VALIDATE: 10, "dns-failure": 10}


def referee_verdict(text: str) -> tuple[str, Optional[int], int]:
    """posttls-finger's full output (chat included) -> (verdict, matched depth, unusable TLSA count).

    Postfix's words, as seen with Debian's Postfix 3.7:
      "Failed to establish session ... TLSA lookup error"     -> dnssec-invalid (bogus TLSA RRset)
      "server certificate verification failed ... num=62:hostname mismatch"
                                                              -> certificate-host-mismatch (DANE-TA)
      "... num=65:no matching DANE TLSA records"              -> validation-failure
      "Matched DANE EE|TA certificate at depth N" then "Verified TLS connection" (or "Trusted"
      after "MX RRset insecure: log verified as trusted")     -> dane-verified
      "Untrusted|Anonymous TLS connection established" otherwise -> encrypted (no usable TLSA:
      posttls-finger then falls back to "secure" with no CAfile; Postfix's smtp client uses
      "encrypt", RFC 7672 §2.2 / §3.1.3)
      connected, EHLO reply without STARTTLS, no TLS line    -> starttls-not-supported
    """
    unusable = len(re.findall(r"unsupported TLSA certificate usage", text))
    depth_m = re.search(r"Matched DANE (?:EE|TA) certificate at depth (\d+)", text)
    depth = int(depth_m.group(1)) if depth_m else None
    est = re.search(r"(Verified|Trusted|Untrusted|Anonymous) TLS connection established", text)
    if re.search(r"TLSA lookup error|DANE TLSA lookup problem", text):
        return DNSSEC_INVALID, depth, unusable
    if re.search(r"verification failed for .*num=62:hostname mismatch", text):
        return HOST_MISMATCH, depth, unusable
    if re.search(r"verification failed for .*no matching DANE TLSA records", text):
        return VALIDATION_FAILURE, depth, unusable
    if est and depth is not None and est.group(1) in ("Verified", "Trusted"):
        return DANE_VERIFIED, depth, unusable
    if est:
        return ENCRYPTED, depth, unusable
    if re.search(r"Connected to ", text) and re.search(r"< 250[- ]", text) \
            and not re.search(r"< 250[- ]STARTTLS", text):
        return NO_STARTTLS, depth, unusable
    return "unrecognised", depth, unusable


def otls_verdict(obj: Optional[dict]) -> str:
    """`otls probe --mx --json` -> the common verdict: the first MX's outcome when it failed;
    on success, dane-verified when a TLSA record matched, encrypted when TLS was used without,
    plaintext otherwise."""
    if not isinstance(obj, dict):
        return "no-json"
    top = obj.get("outcome")
    mxs = obj.get("mx") or []
    if top != "ok" or not mxs:
        return str(top)
    mx = mxs[0]
    if mx.get("outcome") != "ok":
        return str(mx.get("outcome"))
    good = [p for p in mx.get("probes") or [] if p.get("outcome") == "ok"]
    if not good:
        return "ok-without-probe"
    p = good[0]
    if not p.get("tls"):
        return PLAINTEXT
    return DANE_VERIFIED if (p.get("dane") or {}).get("matched") else ENCRYPTED


def table(rows: list[tuple]) -> str:
    head = ("case", "domain", "expected", "otls", "referee")
    widths = [max(len(str(r[i])) for r in [head, *rows]) for i in range(len(head))]
    line = lambda r: " | ".join(str(v).ljust(w) for v, w in zip(r, widths))
    return "\n" + "\n".join([line(head), "-+-".join("-" * w for w in widths), *map(line, rows)]) + "\n"


class DaneInterop(harness.InteropTestCase):
    world: dane_world.DaneWorld

    @classmethod
    def setUpClass(cls) -> None:
        dane_world.require_tools()
        cls.otls = harness.require_env("OTLS_BIN")
        harness.require_env("OTLS_TESTCA")
        super().setUpClass()
        cls.world = dane_world.DaneWorld(cls.workdir)
        cls.addClassCleanup(cls._stop_world)
        cls.world.start()
        for d in cls.world.running():
            cls.keep_daemon(d)
        cls._referee: dict[str, tuple] = {}
        cls._probe: dict[str, harness.ProbeResult] = {}

    @classmethod
    def _stop_world(cls) -> None:
        survivors = cls.world.stop()
        if survivors:
            raise AssertionError(f"processes outlived the DANE world and were killed by PID: {survivors}")

    # -- the three parties

    def referee(self, case: Case) -> tuple[str, Optional[int], int, str]:
        if case.key not in self._referee:
            cp = self.world.referee(case.domain)
            text = (cp.stdout or "") + (cp.stderr or "")
            if re.search(r"unshare: |mount: ", cp.stderr or ""):
                raise harness.HarnessError("cannot give posttls-finger its own /etc/resolv.conf"
                                           + harness.describe(cp))
            verdict, depth, unusable = referee_verdict(text)
            self._referee[case.key] = (verdict, depth, unusable, harness.describe(cp))
        return self._referee[case.key]

    def otls_json(self, argv: list, timeout: float = 90.0) -> harness.ProbeResult:
        return harness.otls_json(argv, timeout=timeout)

    def probe(self, case: Case, fresh: bool = False) -> harness.ProbeResult:
        if fresh or case.key not in self._probe:
            resolver = self.world.unsigned_resolver if case is NONVALIDATING else dane_world.RESOLVER
            self._probe[case.key] = self.otls_json(
                ["probe", "--mx", case.domain, "--resolver", resolver, "--trust-anchor", self.world.anchor,
                 "--timeout", "10", "--json"])
        return self._probe[case.key]

    def policy(self, case: Case) -> harness.ProbeResult:
        return self.otls_json(["policy", case.domain, "--resolver", dane_world.RESOLVER,
                               "--trust-anchor", self.world.anchor, "--json"])

    # -- the referee alone: is the world what the cases say?

    def test_referee_agrees_with_expected(self):
        rows, bad, details = [], [], []
        for c in CASES:
            verdict, depth, unusable, text = self.referee(c)
            rows.append((c.key, c.domain, c.verdict, "-", verdict))
            if verdict != c.verdict or (c.depth is not None and depth != c.depth):
                bad.append(c.key)
                details.append(f"--- {c.key}: verdict {verdict}, depth {depth}{text}")
        self.assertFalse(bad, "posttls-finger disagrees with the expected verdicts" + table(rows)
                         + "\n".join(details))
        # the PKIX-only RRset: both records seen and both unusable for SMTP
        self.assertEqual(self.referee(self.world.cases["pkix"])[2], 2, self.referee(self.world.cases["pkix"])[3])

    def test_world_dns(self):
        # the TLSA data the zone serves is what was computed from the certificates
        for key in ("ee", "ta", "cname"):
            c = self.world.cases[key]
            a = self.world.ask(c.tlsa_name, "TLSA")
            self.assertIn("ad", a.flags, a.text)
            served = sorted(" ".join(l.split()[4:]).lower() for l in a.answer if "\tTLSA\t" in l or " TLSA " in l)
            self.assertEqual(served, sorted(r.lower() for r in self.world.tlsa[key]), a.text)
        # the second nsd answers with the unsigned text: no signatures at all
        a = self.world.ask(f"ee.{dane_world.ZONE}", "MX", server="127.0.0.1", port=self.world.unsigned_port)
        self.assertEqual(a.rcode, "NOERROR", a.text)
        self.assertNotIn("RRSIG", a.text, a.text)

    # -- otls against expected and referee, all cases in one table

    def test_probe_verdicts_agree(self):
        rows, bad, details = [], [], []
        for c in CASES:
            ref = self.referee(c)[0]
            r = self.probe(c)
            got = otls_verdict(r.json)
            rows.append((c.key, c.domain, c.verdict, f"{got} (exit {r.rc})", ref))
            if not (got == c.verdict == ref) or r.rc != EXIT[c.outcome]:
                bad.append(c.key)
                details.append(f"--- {c.key}:{r.describe()}")
        c = NONVALIDATING
        r = self.probe(c)
        got = otls_verdict(r.json)
        rows.append((c.key, f"{c.domain} via {self.world.unsigned_resolver}", c.verdict, f"{got} (exit {r.rc})",
                     "n/a: trusts the AD bit"))
        if got != c.verdict or r.rc != EXIT[c.outcome]:
            bad.append(c.key)
            details.append(f"--- {c.key}:{r.describe()}")
        self.assertFalse(bad, f"verdicts disagree for {bad}" + table(rows) + "\n".join(details))

    # -- otls in detail, per case

    def _mx(self, case: Case, r: harness.ProbeResult, level: Optional[str] = "dane") -> dict:
        self.assertIsNotNone(r.json, r.describe())
        self.assertEqual(r.json.get("domain"), case.domain, r.describe())
        if level:
            self.assertEqual(r.json.get("level"), level, r.describe())
        mxs = r.json.get("mx") or []
        self.assertTrue(mxs, r.describe())
        mx = mxs[0]
        self.assertEqual(mx.get("exchange"), case.mx, r.describe())
        return mx

    def _good_probe(self, mx: dict, r: harness.ProbeResult) -> dict:
        good = [p for p in mx.get("probes") or [] if p.get("outcome") == "ok"]
        self.assertTrue(good, r.describe())
        return good[0]

    def test_probe_details(self):
        for c in CASES:
            with self.subTest(case=c.key):
                r = self.probe(c)
                mx = self._mx(c, r)
                self.assertEqual(r.json.get("outcome"), c.outcome, r.describe())
                self.assertEqual(mx.get("outcome"), c.outcome, r.describe())
                self.assertEqual(r.rc, EXIT[c.outcome], r.describe())
                self.assertEqual((r.json.get("mx_lookup") or {}).get("dnssec"), c.mx_dnssec, r.describe())
                self.assertEqual(r.json.get("route"), "mx", r.describe())
                dane = mx.get("dane") or {}
                self.assertEqual(dane.get("applies"), c.dane_applies, r.describe())
                if c.dane_applies:
                    self.assertEqual(dane.get("tlsa_name"), c.tlsa_name, r.describe())
                if c.dane_outcome:
                    self.assertEqual(dane.get("outcome"), c.dane_outcome, r.describe())
                if c.outcome == "ok":
                    p = self._good_probe(mx, r)
                    self.assertEqual(p.get("address"), f"{self.world.address_of(c)}:25", r.describe())
                if c.depth is not None:
                    p = self._good_probe(mx, r)
                    matched = (p.get("dane") or {}).get("matched")
                    self.assertIsNotNone(matched, r.describe())
                    self.assertEqual(matched.get("depth"), c.depth, r.describe())
                    self.assertEqual(matched.get("record"), 0, r.describe())
                if c.outcome != "ok" and c.outcome != DNSSEC_INVALID:
                    probes = mx.get("probes") or []
                    self.assertTrue(probes, r.describe())
                    self.assertEqual((probes[0].get("dane") or {}).get("outcome"), c.outcome, r.describe())

    def test_pkix_only_tlsa_means_mandatory_unauthenticated_tls(self):
        c = self.world.cases["pkix"]
        r = self.probe(c)
        mx = self._mx(c, r)
        dane = mx.get("dane") or {}
        self.assertEqual((dane.get("outcome"), dane.get("usable"), dane.get("verdict")),
                         ("tlsa-invalid", 0, "encrypt"), r.describe())
        self.assertEqual(sorted((t.get("usage"), t.get("usable")) for t in dane.get("tlsa") or []),
                         [(0, False), (1, False)], r.describe())
        p = self._good_probe(mx, r)
        self.assertIsNotNone(p.get("tls"), r.describe())
        self.assertTrue(p.get("warnings"), r.describe())
        # the referee saw the same two records and found both unusable
        self.assertEqual(self.referee(c)[2], 2, self.referee(c)[3])

    def test_bogus_tlsa_never_connects(self):
        c = self.world.cases["bogus"]
        pf = self.world.postfix
        # the Postfix log shows connections at all (the positive control for the check below;
        # the referee, so that it holds whatever state otls is in)
        since = pf.log_offset()
        self.world.referee(self.world.cases["ee"].domain)
        pf.wait_for_log(r"postfix-ee/smtpd\[\d+\]: connect from", since=since)
        since = pf.log_offset()
        ref = self.referee(c)
        r = self.probe(c, fresh=True)
        self.assertNotEqual(r.rc, 0, r.describe())
        self.assertEqual(r.rc, EXIT[DNSSEC_INVALID], r.describe())
        self.assertEqual(r.json.get("outcome"), DNSSEC_INVALID, r.describe())
        mx = self._mx(c, r)
        for p in mx.get("probes") or []:
            self.assertEqual(p.get("attempts") or [], [], r.describe())
            self.assertIsNone(p.get("tls"), r.describe())
            self.assertNotEqual(p.get("outcome"), "ok", r.describe())
        self.assertEqual(ref[0], DNSSEC_INVALID, ref[3])
        # and Postfix's own log agrees: neither otls nor the referee connected to mx-bogus
        # (smtpd logs "connect from" as soon as it accepts; both runs have ended by now)
        text = harness._tail(pf.maillog, 10000, since)
        self.assertNotRegex(text, r"postfix-bogus/smtpd\[\d+\]: connect from", text)

    def test_insecure_zone_tlsa_is_ignored(self):
        c = self.world.cases["insecure"]
        r = self.probe(c)
        mx = self._mx(c, r)
        dane = mx.get("dane") or {}
        self.assertEqual((dane.get("applies"), dane.get("dnssec")), (False, "insecure"), r.describe())
        p = self._good_probe(mx, r)
        self.assertIsNotNone(p.get("tls"), r.describe())
        self.assertTrue((p.get("starttls") or {}).get("accepted"), r.describe())

    def test_resolver_cannot_validate(self):
        r = self.probe(NONVALIDATING)
        self.assertIsNotNone(r.json, r.describe())
        self.assertEqual(r.json.get("outcome"), CANNOT_VALIDATE, r.describe())
        self.assertNotEqual(r.json.get("outcome"), DNSSEC_INVALID, r.describe())
        self.assertEqual(r.rc, EXIT[CANNOT_VALIDATE], r.describe())
        for mx in r.json.get("mx") or []:
            for p in mx.get("probes") or []:
                self.assertEqual(p.get("attempts") or [], [], r.describe())

    # -- level dane-only, and one host by URL with --dane

    def dane_args(self) -> list:
        return ["--resolver", dane_world.RESOLVER, "--trust-anchor", self.world.anchor, "--timeout", "10",
                "--json"]

    def test_dane_only_refuses_hosts_without_dane(self):
        # RFC 8460 dane-required: no DNSSEC-validated TLSA records, so no connection at all.
        c = self.world.cases["insecure"]
        r = self.otls_json(["probe", "--mx", c.domain, "--level", "dane-only", *self.dane_args()])
        self.assertEqual((r.rc, r.json.get("outcome")), (11, "dane-required"), r.describe())
        mx = self._mx(c, r, level="dane-only")
        self.assertEqual(mx.get("probes"), [], r.describe())
        # A secure RRset of unusable records is tlsa-invalid at dane-only (not encrypt).
        c = self.world.cases["pkix"]
        r = self.otls_json(["probe", "--mx", c.domain, "--level", "dane-only", *self.dane_args()])
        self.assertEqual((r.rc, r.json.get("outcome")), (6, "tlsa-invalid"), r.describe())
        # Where DANE applies, dane-only is the same as dane.
        c = self.world.cases["ee"]
        r = self.otls_json(["probe", "--mx", c.domain, "--level", "dane-only", *self.dane_args()])
        self.assertEqual((r.rc, r.json.get("outcome")), (0, "ok"), r.describe())

    def test_single_host_with_dane_flag(self):
        ee = self.world.cases["ee"]
        r = self.otls_json(["probe", f"smtp://{ee.mx}", "--dane", *self.dane_args()])
        self.assertEqual((r.rc, r.json.get("outcome"), r.json.get("level")), (0, "ok", "dane"), r.describe())
        dane = r.json.get("dane") or {}
        self.assertEqual((dane.get("applies"), dane.get("verdict"), dane.get("outcome")), (True, "dane", "ok"),
                         r.describe())
        self.assertEqual(dane.get("matched"), {"record": 0, "depth": 0}, r.describe())
        self.assertEqual(r.json.get("address"), f"{ee.address}:25", r.describe())
        # SNI and the reference name are the TLSA base domain (RFC 7672 §8.1).
        self.assertEqual((r.json.get("certificate") or {}).get("reference_name"), ee.mx, r.describe())

        wrong = self.world.cases["tawrong"]
        r = self.otls_json(["probe", f"smtp://{wrong.mx}", "--dane", *self.dane_args()])
        self.assertEqual((r.rc, r.json.get("outcome")), (6, HOST_MISMATCH), r.describe())
        self.assertEqual((r.json.get("dane") or {}).get("outcome"), HOST_MISMATCH, r.describe())

        # --dane with --level verify: where DANE applies it decides (the test CA is not trusted
        # here, so PKIX alone would fail); where it does not, verify does.
        r = self.otls_json(["probe", f"smtp://{ee.mx}", "--dane", "--level", "verify", *self.dane_args()])
        self.assertEqual((r.rc, r.json.get("outcome")), (0, "ok"), r.describe())
        insecure = self.world.cases["insecure"]
        r = self.otls_json(["probe", f"smtp://{insecure.mx}", "--dane", "--level", "verify",
                            *self.dane_args()])
        self.assertEqual((r.rc, r.json.get("outcome")), (6, "certificate-not-trusted"), r.describe())

    # -- otls policy

    def test_policy(self):
        for c in CASES:
            with self.subTest(case=c.key):
                r = self.policy(c)
                self.assertEqual(r.rc, 0, r.describe())
                mx = self._mx(c, r, level=None)
                self.assertEqual((r.json.get("mx_lookup") or {}).get("dnssec"), c.mx_dnssec, r.describe())
                self.assertEqual(r.json.get("route"), "mx", r.describe())
                self.assertNotIn("probes", mx, r.describe())
                addrs = mx.get("addresses") or {}
                self.assertEqual(addrs.get("list"), [self.world.address_of(c)], r.describe())
                host_dnssec = "insecure" if c.host.endswith("." + dane_world.CHILD) else "secure"
                self.assertEqual(addrs.get("dnssec"), host_dnssec, r.describe())
                # the names from the MX exchange to the A record (RFC 7672 §2.2.2)
                self.assertEqual([n.rstrip(".") for n in addrs.get("cname_chain") or []],
                                 [c.mx] + ([c.host] if c.host != c.mx else []), r.describe())
                dane = mx.get("dane") or {}
                self.assertEqual(dane.get("applies"), c.dane_applies, r.describe())
                self.assertEqual(dane.get("verdict"), c.policy_verdict, r.describe())
                if c.dane_applies and c.key != "bogus":
                    self.assertEqual(dane.get("tlsa_name"), c.tlsa_name, r.describe())
                    served = sorted(f"{t.get('usage')} {t.get('selector')} {t.get('matching_type')} "
                                    f"{str(t.get('data')).lower()}" for t in dane.get("tlsa") or [])
                    self.assertEqual(served, sorted(x.lower() for x in self.world.tlsa_of(c)), r.describe())
                if c.dane_outcome:
                    self.assertEqual(dane.get("outcome"), c.dane_outcome, r.describe())
                if c.key == "bogus":
                    self.assertEqual(dane.get("dnssec"), "bogus", r.describe())
                    self.assertEqual(mx.get("outcome"), DNSSEC_INVALID, r.describe())
                if c.key == "pkix":
                    self.assertEqual(dane.get("usable"), 0, r.describe())


if __name__ == "__main__":
    unittest.main()
