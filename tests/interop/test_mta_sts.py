"""MTA-STS (RFC 8461) and TLSRPT discovery (RFC 8460 §3): `otls probe --mx` and `otls policy`
against real policy hosts (nginx), real MX hosts (Postfix) and a real, signed zone (nsd).

The world (sts_world.py): nsd serves example.test signed with ldns-signzone on 127.0.0.1 at a
high port (otls asks it directly and validates DNSSEC itself); nginx serves one policy host
mta-sts.D per case on its own 127.0.5.N:443; one private Postfix has an smtpd listener per MX
host on 127.0.4.N:25. Both trust the test CA (`--cafile` for MX hosts, `--sts-cafile` for
policy hosts). Every test has its own policy cache (`--store`, otls's SQLite file), prepared
with Python's sqlite3 where a case needs a cached policy.

| case | domain | MX (certificate) | policy host | cache before | expected |
|---|---|---|---|---|---|
| 1 | enforce | mx-good (valid) | enforce, mx exact | - | ok; source mta-sts, TLS mandatory; stored |
| 1 | wild | mx1.wild (valid) | enforce, `*.wild.example.test` | - | ok; source mta-sts |
| 2 | notinpolicy | mx-nip | enforce, `mx-good`, `*.test` | - | mx-not-in-policy (13), no connection |
| 3 | badcert | mx-wrongcert (other name) | enforce | - | certificate-host-mismatch (6) |
| 4 | testing | mx-wrongcert | testing | - | ok (0), report_only, reported certificate-host-mismatch |
| 4 | testingnip | mx-nip | testing, MX not listed | - | ok (0), report_only, reported mx-not-in-policy, connects |
| 5 | none | mx-wrongcert | mode none | - | ok; source default |
| 6 | untrusted / wrongname | mx-wrongcert | untrusted CA / another name | - | sts-webpki-invalid; default level, ok |
| 7 | notfound / redirect / big | mx-wrongcert | 404 / 301 / 70 KiB | - | sts-policy-fetch-error; default; nginx saw one request |
| 7 | html / malformed | mx-wrongcert | text/html / no max_age | - | sts-policy-invalid; default |
| 8 | changed | mx-good | enforce, id new2 | id old1, testing | replaced by the fetched policy and id new2 |
| 9a | cachefail | mx-wrongcert | 404, id new3 | id old3, enforce | source cache, enforce applied: certificate-host-mismatch (6) |
| 9b | notxt | mx-good | no TXT, no host | enforce | source cache, ok |
| 9c | enforce (otls policy) | - | DNS silent | enforce | the cached policy still in effect |
| 10 | expired | mx-good | enforce, id exp1 | id exp1, expired | refetched, fetched_at updated |
| 11a | daneee | mx-daneee (other name, DANE-EE) | enforce | - | ok; source dane; STS failure reported |
| 11b | danefail | mx-danefail (valid, TLSA matches nothing) | enforce | - | validation-failure (6); source dane |
| 11c | danenip | mx-daneee (DANE-EE) | enforce, MX not listed | - | ok; source dane; mx-not-in-policy reported |
| - | twotxt | mx-wrongcert | two STSv1 TXT records | - / enforce | ambiguous: no policy, ok / the cached policy: certificate-host-mismatch |
| - | plain | mx-good | no MTA-STS, TLSRPT | - | source default; TLSRPT parsed |

Needs root (port 25 and 443 on loopback addresses), the Debian packages nsd, ldnsutils, nginx,
postfix, openssl; skipped only when one of those tools is missing. Binds 127.0.4.N:25 and
127.0.5.N:443 (never the DANE world's 127.0.53.53:53 and 127.0.2.N:25), and fails when
another process holds them.
"""
from __future__ import annotations

import re
import json
import socket
import sys
import time
import unittest
from pathlib import Path
from typing import Optional

import harness
import sts_world
from sts_world import DOMAINS, MX_HOSTS, WELL_KNOWN, StoreEntry, policy_text

EXIT = {"ok": 0, "certificate-host-mismatch": 6, "validation-failure": 6, "mx-not-in-policy": 13,
        "dns-failure": 10}
ANY = object()  # "not checked" in expectations


class MtaStsInterop(harness.InteropTestCase):
    world: sts_world.StsWorld
    rows: list

    @classmethod
    def setUpClass(cls) -> None:
        sts_world.require_tools()
        harness.require_env("OTLS_BIN")
        harness.require_env("OTLS_TESTCA")
        super().setUpClass()
        cls.world = sts_world.StsWorld(cls.workdir)
        cls.addClassCleanup(cls._stop_world)
        cls.world.start()
        for d in cls.world.running():
            cls.keep_daemon(d)
        cls.world.make_template_store(cls.workdir / "template.sqlite")
        cls.rows = []

    @classmethod
    def _stop_world(cls) -> None:
        if getattr(cls, "rows", None):
            sys.stderr.write(table(cls.rows))
        survivors = cls.world.stop()
        if survivors:
            raise AssertionError(f"processes outlived the MTA-STS world and were killed by PID: {survivors}")

    # -- running otls

    def store(self, *entries: StoreEntry) -> Path:
        return self.world.new_store(self.scratch_dir(), list(entries))

    def probe(self, key: str, store: Optional[Path] = None, *extra) -> harness.ProbeResult:
        if store is None:
            store = self.store()
        return harness.otls_json(self.world.probe_argv(DOMAINS[key].name, store, *extra), timeout=120)

    def policy(self, key: str, store: Optional[Path] = None, *extra, resolver: Optional[str] = None,
               timeout: int = 10) -> harness.ProbeResult:
        if store is None:
            store = self.store()
        return harness.otls_json(self.world.policy_argv(DOMAINS[key].name, store, *extra, resolver=resolver,
                                                        timeout=timeout), timeout=120)

    # -- checking its JSON

    def mx(self, r: harness.ProbeResult, i: int = 0) -> dict:
        self.assertIsNotNone(r.json, r.describe())
        mxs = r.json.get("mx") or []
        self.assertGreater(len(mxs), i, r.describe())
        return mxs[i]

    def sts(self, r: harness.ProbeResult) -> dict:
        self.assertIsNotNone(r.json, r.describe())
        s = r.json.get("mta_sts")
        self.assertIsInstance(s, dict, r.describe())
        return s

    def expect(self, key: str, r: harness.ProbeResult, *, outcome: str, source: str, report_only: bool = False,
               sts_source=ANY, fetch=ANY, action=ANY, txt=ANY, mode=ANY, label: str = "",
               cached: str = "", reported=ANY, note: str = "") -> dict:
        """The common checks of one `otls probe --mx` run; records a row for the summary table."""
        d = DOMAINS[key]
        got = "no-json"
        if r.json:
            m = (r.json.get("mx") or [{}])[0]
            dec = m.get("decision") or {}
            s = r.json.get("mta_sts") or {}
            got = (f"{r.json.get('outcome')} ({r.rc}), {dec.get('source')}"
                   f"{', report-only' if dec.get('report_only') else ''}; sts {s.get('source')}/"
                   f"{(s.get('fetch') or {}).get('outcome')}/{(s.get('cache') or {}).get('action')}"
                   + (f"; reported {','.join(m.get('reported'))}" if m.get("reported") else ""))
        want = (f"{outcome} ({EXIT[outcome]}), {source}{', report-only' if report_only else ''}; sts "
                + "/".join("*" if v is ANY else str(v) for v in (sts_source, fetch, action))
                + (f"; reported {','.join(reported)}" if reported is not ANY and reported else "") + note)
        self.rows.append((label or key, sources_of(d) + (f"; cache {cached}" if cached else ""), want, got))

        self.assertEqual(r.json.get("domain") if r.json else None, d.name, r.describe())
        self.assertEqual(r.json.get("outcome"), outcome, r.describe())
        self.assertEqual(r.rc, EXIT[outcome], r.describe())
        mx = self.mx(r)
        self.assertEqual(mx.get("exchange"), d.mx_names()[0], r.describe())
        self.assertEqual(mx.get("outcome"), outcome, r.describe())
        dec = mx.get("decision")
        self.assertIsInstance(dec, dict, r.describe())
        self.assertEqual(dec.get("source"), source, r.describe())
        self.assertIs(dec.get("report_only"), report_only, r.describe())
        for p in mx.get("probes") or []:
            self.assertIs(p.get("report_only"), report_only, r.describe())
        s = self.sts(r)
        if txt is not ANY:
            self.assertEqual((s.get("txt") or {}).get("status"), txt, r.describe())
        if sts_source is not ANY:
            self.assertEqual(s.get("source"), sts_source, r.describe())
        if fetch is not ANY:
            f = s.get("fetch") or {}
            self.assertEqual(f.get("outcome"), fetch, r.describe())
            self.assertIs(f.get("attempted"), fetch is not None, r.describe())
        if action is not ANY:
            self.assertEqual((s.get("cache") or {}).get("action"), action, r.describe())
        if mode is not ANY:
            self.assertEqual((s.get("policy") or {}).get("mode") if s.get("policy") else None, mode, r.describe())
        if reported is not ANY:
            self.assertEqual(sorted(set(mx.get("reported") or [])), sorted(reported), r.describe())
        return mx

    def assert_default_fallback(self, key: str, fetch: str, label: str = "") -> harness.ProbeResult:
        """A policy that cannot be used and no cache: delivery as though the domain had no
        MTA-STS (RFC 8461 §3.3); the MX certificate's wrong name does not matter then."""
        store = self.store()
        since = self.world.nginx.access_offset(key)
        r = self.probe(key, store)
        self.expect(key, r, outcome="ok", source="default", sts_source=None, fetch=fetch, action="none",
                    txt="found", mode=None, label=label)
        # one GET, no retry; none at all over a connection whose certificate failed
        reqs = self.world.policy_host_requests(key, since)
        want = 0 if fetch == "sts-webpki-invalid" else 1
        self.assertEqual(len(reqs), want, f"nginx access log of {DOMAINS[key].policy_host}: {reqs}" + r.describe())
        s = self.sts(r)
        self.assertEqual((s.get("txt") or {}).get("id"), DOMAINS[key].sts_id, r.describe())
        self.assertTrue((s.get("fetch") or {}).get("detail"), r.describe())
        self.assertNotIn(DOMAINS[key].name, sts_world.store_entries(store), r.describe())
        return r

    # -- the world itself (independent of otls's MTA-STS support)

    def test_world_dns(self):
        w = self.world
        for key in ("enforce", "changed", "twotxt"):
            d = DOMAINS[key]
            a = w.ask(f"_mta-sts.{d.name}", "TXT")
            ids = sorted(re.findall(r'"v=STSv1; id=([A-Za-z0-9]+)"', " ".join(a.answer)))
            self.assertEqual(ids, sorted(d.sts_ids), a.text)
            a = w.ask(d.policy_host, "A")
            self.assertIn(d.address, " ".join(a.answer), a.text)
            a = w.ask(d.name, "MX")
            self.assertIn(MX_HOSTS[d.mx[0]].name + ".", " ".join(a.answer), a.text)
            self.assertIn("RRSIG", a.text, a.text)
        a = w.ask(f"_smtp._tls.{DOMAINS['wild'].name}", "TXT")
        self.assertIn("https://tlsrpt.example.test/v1/report", a.text, a.text)
        a = w.ask(f"_25._tcp.{MX_HOSTS['daneee'].name}", "TLSA")
        self.assertIn(w.tlsa["daneee"].split()[-1].lower(), a.text.lower(), a.text)
        # no TLSA for the MTA-STS-only hosts: a signed denial, so DANE does not apply there
        a = w.ask(f"_25._tcp.{MX_HOSTS['good'].name}", "TLSA")
        self.assertEqual(a.rcode, "NXDOMAIN", a.text)
        self.assertIn("NSEC", a.text, a.text)

    def test_world_policy_hosts(self):
        w = self.world
        status, headers, body = w.fetch_policy("enforce")
        self.assertEqual((status, headers.get("content-type")), (200, "text/plain"))
        self.assertEqual(body.decode(), DOMAINS["enforce"].policy)
        self.assertEqual(w.fetch_policy("notfound")[0], 404)
        status, headers, _ = w.fetch_policy("redirect")
        self.assertEqual((status, headers.get("location")),
                         (301, f"https://{DOMAINS[sts_world.REDIRECT_TARGET].policy_host}{WELL_KNOWN}"))
        status, headers, body = w.fetch_policy("big")
        self.assertEqual(status, 200)
        self.assertGreater(len(body), 64 * 1024)
        self.assertTrue(body.decode().startswith(DOMAINS["big"].policy))
        self.assertEqual(w.fetch_policy("html")[1].get("content-type"), "text/html")
        self.assertNotIn(b"max_age", w.fetch_policy("malformed")[2])
        for key in ("untrusted", "wrongname"):
            with self.subTest(host=key), self.assertRaises(Exception) as cm:
                w.fetch_policy(key)
            self.assertIn("CERTIFICATE_VERIFY_FAILED", str(cm.exception))
        # the untrusted host is fine under its own CA: only the trust is wrong
        self.assertEqual(w.fetch_policy("untrusted", cafile=w.rogue_ca.pem)[0], 200)

    def test_world_mx_hosts(self):
        for h in MX_HOSTS.values():
            banner = harness.smtp_banner(h.address, sts_world.SMTP_PORT)
            self.assertIn(h.name, banner)

    # 1. enforce, MX in the policy, certificate valid

    def test_enforce_ok(self):
        for key in ("enforce", "wild"):
            with self.subTest(domain=key):
                store = self.store()
                before = sts_world.now()
                nginx_since = self.world.nginx.access_offset(key)
                r = self.probe(key, store)
                mx = self.expect(key, r, outcome="ok", source="mta-sts", sts_source="fetched", fetch="ok",
                                 action="stored", txt="found", mode="enforce")
                dec = mx["decision"]
                self.assertIs(dec.get("starttls_mandatory"), True, r.describe())
                self.assertIsNone(dec.get("refusal"), r.describe())
                self.assertIn(MX_HOSTS[DOMAINS[key].mx[0]].name, dec.get("verify_names") or [], r.describe())
                probes = mx.get("probes") or []
                self.assertTrue(probes, r.describe())
                self.assertEqual(probes[0].get("outcome"), "ok", r.describe())
                self.assertIsNotNone(probes[0].get("tls"), r.describe())
                self.assertIs((probes[0].get("certificate") or {}).get("trusted"), True, r.describe())
                self.assertEqual(mx.get("reported") or [], [], r.describe())
                pol = self.sts(r).get("policy") or {}
                d = DOMAINS[key]
                self.assertEqual(pol.get("max_age"), 86400, r.describe())
                self.assertEqual(pol.get("mx"), re.findall(r"^mx: (\S+)", d.policy, re.M), r.describe())
                reqs = self.world.policy_host_requests(key, nginx_since)
                self.assertEqual([(q["sni"], q["request"], q["status"]) for q in reqs],
                                 [(d.policy_host, f"GET {WELL_KNOWN} HTTP/1.1", 200)], r.describe())
                entry = sts_world.store_entries(store).get(d.name)
                self.assertIsNotNone(entry, r.describe())
                self.assertEqual((entry.id, entry.policy), (d.sts_id, d.policy))
                self.assertGreaterEqual(entry.fetched_at, before - 1)
                self.assertEqual(entry.expires_at - entry.fetched_at, 86400)
                shown = (self.sts(r).get("cache") or {}).get("entry") or {}
                self.assertEqual((shown.get("id"), shown.get("fetched_at"), shown.get("expires_at")),
                                 (entry.id, entry.fetched_at, entry.expires_at), r.describe())
                # the same run again: the cached policy is used, nothing fetched
                nginx_since = self.world.nginx.access_offset(key)
                r = self.probe(key, store)
                self.expect(key, r, outcome="ok", source="mta-sts", sts_source="cache", fetch=None, action="kept",
                            mode="enforce", label=f"{key} (cached)")
                self.assertEqual(self.world.policy_host_requests(key, nginx_since), [], r.describe())

    def test_no_store(self):
        r = harness.otls_json(self.world.probe_argv(DOMAINS["enforce"].name, None), timeout=120)
        self.expect("enforce", r, outcome="ok", source="mta-sts", sts_source="fetched", fetch="ok", action="none",
                    label="enforce (--no-store)")

    # 2. enforce, MX not in the policy: refused before any connection

    def test_mx_not_in_policy(self):
        pf = self.world.postfix
        since = pf.log_offset()
        r = self.probe("notinpolicy")
        mx = self.expect("notinpolicy", r, outcome="mx-not-in-policy", source="mta-sts", sts_source="fetched",
                         fetch="ok", mode="enforce")
        self.assertEqual(mx["decision"].get("refusal"), "mx-not-in-policy", r.describe())
        self.assertEqual(mx.get("probes") or [], [], r.describe())
        # Postfix's own log: no connection to mx-nip. The positive control: a probe of mx-good
        # made afterwards shows up (postlogd writes what the smtpd processes send, in order).
        self.probe("plain")
        pf.wait_for_log(r"postfix-good/smtpd\[\d+\]: connect from", since=since)
        text = harness._tail(pf.maillog, 10000, since)
        self.assertNotRegex(text, r"postfix-nip/smtpd\[\d+\]: connect from", text)

    # 3. enforce, certificate for another name

    def test_enforce_certificate_mismatch(self):
        r = self.probe("badcert")
        mx = self.expect("badcert", r, outcome="certificate-host-mismatch", source="mta-sts", sts_source="fetched",
                         fetch="ok", mode="enforce")
        self.assertIs(mx["decision"].get("starttls_mandatory"), True, r.describe())
        probes = mx.get("probes") or []
        self.assertTrue(probes, r.describe())
        self.assertEqual(probes[0].get("outcome"), "certificate-host-mismatch", r.describe())

    # 4. testing: the same failure is reported, delivery goes on

    def test_testing_mode_reports_only(self):
        r = self.probe("testing")
        mx = self.expect("testing", r, outcome="ok", source="mta-sts", report_only=True, sts_source="fetched",
                         fetch="ok", mode="testing", reported=["certificate-host-mismatch"])
        self.assertIn("certificate-host-mismatch", mx.get("reported") or [], r.describe())

    def test_testing_mode_mx_not_in_policy(self):
        pf = self.world.postfix
        since = pf.log_offset()
        r = self.probe("testingnip")
        mx = self.expect("testingnip", r, outcome="ok", source="mta-sts", report_only=True, sts_source="fetched",
                         fetch="ok", mode="testing", note="; reported mx-not-in-policy")
        self.assertIsNone(mx["decision"].get("refusal"), r.describe())
        # docs/json.md: a report-only failure "is listed in mx[].reported"; docs/policy.md: testing
        # "runs the same checks and reports failures while delivery would continue"
        self.assertIn("mx-not-in-policy", mx.get("reported") or [],
                      "the unlisted MX is only in decision.notes, not in mx[].reported" + r.describe())
        # delivery would go on: the host is used
        self.assertTrue(mx.get("probes"), r.describe())
        pf.wait_for_log(r"postfix-nip/smtpd\[\d+\]: connect from", since=since)

    # 5. mode none

    def test_mode_none(self):
        r = self.probe("none")
        self.expect("none", r, outcome="ok", source="default", fetch="ok", txt="found")
        pol = self.sts(r).get("policy")
        # the policy may be shown (mode none, it is cached like any other) but is not in effect
        self.assertTrue(pol is None or pol.get("mode") == "none", r.describe())

    # 6. the policy host's certificate

    def test_policy_host_certificate_untrusted(self):
        for key in ("untrusted", "wrongname"):
            with self.subTest(domain=key):
                self.assert_default_fallback(key, "sts-webpki-invalid")

    # 7. fetch and policy errors

    def test_fetch_404(self):
        self.assert_default_fallback("notfound", "sts-policy-fetch-error")

    def test_fetch_redirect_not_followed(self):
        nginx = self.world.nginx
        since = nginx.access_offset("redirect")
        target_since = nginx.access_offset(sts_world.REDIRECT_TARGET)
        r = self.assert_default_fallback("redirect", "sts-policy-fetch-error")
        reqs = self.world.policy_host_requests("redirect", since)
        self.assertEqual([(q["request"], q["status"]) for q in reqs], [(f"GET {WELL_KNOWN} HTTP/1.1", 301)],
                         r.describe())
        self.assertEqual(reqs[0]["sni"], DOMAINS["redirect"].policy_host)
        self.assertEqual(self.world.policy_host_requests(sts_world.REDIRECT_TARGET, target_since), [], r.describe())

    def test_fetch_body_too_big(self):
        self.assert_default_fallback("big", "sts-policy-fetch-error")

    def test_policy_served_as_html(self):
        self.assert_default_fallback("html", "sts-policy-invalid")

    def test_policy_malformed(self):
        self.assert_default_fallback("malformed", "sts-policy-invalid")

    def test_ambiguous_txt(self):
        r = self.probe("twotxt")
        self.expect("twotxt", r, outcome="ok", source="default", sts_source=None, txt="ambiguous", mode=None)
        self.assertIsNone((self.sts(r).get("txt") or {}).get("id"), r.describe())
        # with an unexpired cached policy, that policy applies (RFC 8461 §3.3): enforce, wrong name
        d = DOMAINS["twotxt"]
        t = sts_world.now()
        store = self.store(StoreEntry(d.name, "two0", d.policy, t - 600, t + 86400))
        r = self.probe("twotxt", store)
        self.expect("twotxt", r, outcome="certificate-host-mismatch", source="mta-sts", sts_source="cache",
                    txt="ambiguous", mode="enforce", label="twotxt (cached)", cached="id two0, enforce")

    # 8. a changed id triggers a refetch

    def test_changed_id_replaces_cache(self):
        d = DOMAINS["changed"]
        t = sts_world.now()
        old = StoreEntry(d.name, "old1", policy_text("testing", [f"elsewhere.{sts_world.ZONE}"], max_age=86400),
                         t - 600, t + 86400 - 600)
        store = self.store(old)
        r = self.probe("changed", store)
        self.expect("changed", r, outcome="ok", source="mta-sts", sts_source="fetched", fetch="ok", action="replaced",
                    mode="enforce", cached="id old1, testing")
        entry = sts_world.store_entries(store)[d.name]
        self.assertEqual((entry.id, entry.policy), (d.sts_id, d.policy))
        self.assertGreaterEqual(entry.fetched_at, t)
        self.assertEqual(entry.expires_at - entry.fetched_at, 604800)
        before = (self.sts(r).get("cache") or {}).get("before")
        if before is not None:  # an addition to the documented fields: the entry replaced
            self.assertEqual(before.get("id"), "old1", r.describe())

    # 9. a cached, unexpired policy survives

    def test_cache_survives_failed_fetch(self):
        d = DOMAINS["cachefail"]
        t = sts_world.now()
        cached = StoreEntry(d.name, "old3", d.policy, t - 600, t + 86400)
        store = self.store(cached)
        r = self.probe("cachefail", store)
        # the cached enforce policy is applied, so the wrong certificate name fails delivery
        self.expect("cachefail", r, outcome="certificate-host-mismatch", source="mta-sts", sts_source="cache",
                    fetch="sts-policy-fetch-error", action="kept", txt="found", mode="enforce",
                    cached="id old3, enforce")
        self.assertEqual(sts_world.store_entries(store)[d.name], cached)

    def test_cache_survives_missing_txt(self):
        d = DOMAINS["notxt"]
        t = sts_world.now()
        cached = StoreEntry(d.name, "cached9", policy_text("enforce", [MX_HOSTS["good"].name]), t - 600, t + 86400)
        store = self.store(cached)
        r = self.probe("notxt", store)
        mx = self.expect("notxt", r, outcome="ok", source="mta-sts", sts_source="cache", fetch=None, txt="none",
                         mode="enforce", cached="id cached9, enforce")
        self.assertIs(mx["decision"].get("starttls_mandatory"), True, r.describe())
        self.assertEqual(sts_world.store_entries(store)[d.name], cached)

    def test_cache_survives_dns_outage(self):
        d = DOMAINS["enforce"]
        t = sts_world.now()
        cached = StoreEntry(d.name, d.sts_id, d.policy, t - 600, t + 86400)
        store = self.store(cached)
        # a "resolver" that never answers: a UDP socket nobody reads (TCP: nothing listens)
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as silent:
            silent.bind(("127.0.0.1", 0))
            resolver = f"127.0.0.1:{silent.getsockname()[1]}"
            start = time.monotonic()
            r = self.policy("enforce", store, resolver=resolver, timeout=2)
            elapsed = time.monotonic() - start
        s = self.sts(r)
        self.rows.append(("enforce (policy, DNS silent)", "cache only", "cached policy in effect, source cache",
                          f"txt {(s.get('txt') or {}).get('status')}, source {s.get('source')}, "
                          f"mode {(s.get('policy') or {}).get('mode')}, exit {r.rc}"))
        self.assertEqual((s.get("txt") or {}).get("status"), "dns-failure", r.describe())
        self.assertEqual(s.get("source"), "cache", r.describe())
        self.assertEqual((s.get("policy") or {}).get("mode"), "enforce", r.describe())
        self.assertEqual((s.get("policy") or {}).get("mx"), [MX_HOSTS["good"].name], r.describe())
        self.assertIs((s.get("fetch") or {}).get("attempted"), False, r.describe())
        self.assertEqual(r.json.get("outcome"), "dns-failure", r.describe())  # the MX lookup failed too
        self.assertEqual(r.rc, EXIT["dns-failure"], r.describe())
        self.assertLess(elapsed, 90, r.describe())
        self.assertEqual(sts_world.store_entries(store)[d.name], cached)

    # 10. an expired entry is refetched

    def test_expired_cache_is_refetched(self):
        d = DOMAINS["expired"]
        t = sts_world.now()
        stale = StoreEntry(d.name, d.sts_id, policy_text("testing", [MX_HOSTS["good"].name], max_age=3600),
                           t - 7200, t - 3600)
        store = self.store(stale)
        r = self.probe("expired", store)
        mx = self.expect("expired", r, outcome="ok", source="mta-sts", sts_source="fetched", fetch="ok",
                         mode="enforce", cached="id exp1, testing, expired")
        self.assertIn((self.sts(r).get("cache") or {}).get("action"), ("replaced", "stored"), r.describe())
        self.assertIs(mx["decision"].get("report_only"), False, r.describe())  # the new enforce, not the old testing
        entry = sts_world.store_entries(store)[d.name]
        self.assertEqual((entry.id, entry.policy), (d.sts_id, d.policy))
        self.assertGreaterEqual(entry.fetched_at, t)
        self.assertEqual(entry.expires_at - entry.fetched_at, 3600)

    # 11. DANE before MTA-STS (RFC 8461 §2)

    def test_dane_wins_over_sts(self):
        r = self.probe("daneee")
        mx = self.expect("daneee", r, outcome="ok", source="dane", sts_source="fetched", fetch="ok", mode="enforce",
                         reported=["certificate-host-mismatch"])
        self.assertIs((mx.get("dane") or {}).get("applies"), True, r.describe())
        p = (mx.get("probes") or [{}])[0]
        self.assertIsNotNone((p.get("dane") or {}).get("matched"), r.describe())
        # the MTA-STS view (PKIX for mx-daneee: another name) fails and is reported (above), not enforced
        self.assertIs(((p.get("pkix_report") or {}).get("hostname_match")), False, r.describe())
        self.assertTrue(any("MTA-STS" in n for n in mx["decision"].get("notes") or []), r.describe())

    def test_dane_wins_over_mx_not_in_policy(self):
        r = self.probe("danenip")
        mx = self.expect("danenip", r, outcome="ok", source="dane", sts_source="fetched", fetch="ok", mode="enforce",
                         note="; reported certificate-host-mismatch,mx-not-in-policy")
        self.assertIsNone(mx["decision"].get("refusal"), r.describe())
        # docs/policy.md, precedence 3: where DANE passes, MTA-STS's own checks (PKIX for the MX
        # name, and whether the MX is listed) still run and their failures are reported in
        # mx[].reported (docs/json.md: "the MTA-STS view where DANE decided")
        self.assertIn("mx-not-in-policy", mx.get("reported") or [],
                      "the unlisted MX is only in decision.notes/warnings, not in mx[].reported" + r.describe())

    def test_failing_dane_is_not_rescued_by_sts(self):
        r = self.probe("danefail")
        mx = self.expect("danefail", r, outcome="validation-failure", source="dane", sts_source="fetched",
                         fetch="ok", mode="enforce")
        p = (mx.get("probes") or [{}])[0]
        self.assertEqual(p.get("outcome"), "validation-failure", r.describe())
        # PKIX alone would have passed: the certificate is the test CA's, for the MX name
        self.assertIs((p.get("certificate") or {}).get("hostname_match"), True, r.describe())

    # otls policy

    def test_policy_command(self):
        r = self.policy("enforce")
        self.assertEqual(r.rc, 0, r.describe())
        s = self.sts(r)
        self.assertEqual(((s.get("txt") or {}).get("status"), (s.get("txt") or {}).get("id")), ("found", "enf1"),
                         r.describe())
        self.assertEqual(s.get("source"), "fetched", r.describe())
        self.assertEqual((s.get("policy") or {}).get("mode"), "enforce", r.describe())
        self.assertEqual(r.json.get("tlsrpt"), {"found": True, "rua": ["mailto:tlsrpt@example.test"],
                                                "detail": None}, r.describe())
        self.assertIsNone(r.json.get("policy_list"), r.describe())
        mx = self.mx(r)
        self.assertNotIn("probes", mx, r.describe())
        self.assertEqual((mx.get("decision") or {}).get("source"), "mta-sts", r.describe())
        self.assertIs((mx.get("decision") or {}).get("starttls_mandatory"), True, r.describe())

        r = self.policy("wild")
        self.assertEqual(r.rc, 0, r.describe())
        self.assertEqual((r.json.get("tlsrpt") or {}).get("rua"),
                         ["mailto:tls-reports@example.test", "https://tlsrpt.example.test/v1/report"], r.describe())
        self.assertEqual((self.sts(r).get("txt") or {}).get("id"), "wild1", r.describe())
        self.assertEqual((self.mx(r).get("decision") or {}).get("source"), "mta-sts", r.describe())

        r = self.policy("notinpolicy")
        self.assertEqual(r.rc, 0, r.describe())
        dec = self.mx(r).get("decision") or {}
        self.assertEqual((dec.get("source"), dec.get("refusal")), ("mta-sts", "mx-not-in-policy"), r.describe())
        self.assertEqual(self.mx(r).get("outcome"), "mx-not-in-policy", r.describe())
        self.assertIs((r.json.get("tlsrpt") or {}).get("found"), False, r.describe())

        r = self.policy("plain")
        self.assertEqual(r.rc, 0, r.describe())
        s = self.sts(r)
        self.assertEqual(((s.get("txt") or {}).get("status"), s.get("policy"), s.get("source")), ("none", None, None),
                         r.describe())
        self.assertIs((s.get("fetch") or {}).get("attempted"), False, r.describe())
        self.assertEqual((self.mx(r).get("decision") or {}).get("source"), "default", r.describe())
        self.assertEqual((r.json.get("tlsrpt") or {}).get("rua"), ["mailto:tlsrpt@example.test"], r.describe())

        r = self.policy("daneee")
        self.assertEqual(r.rc, 0, r.describe())
        self.assertEqual((self.mx(r).get("decision") or {}).get("source"), "dane", r.describe())

        r = self.policy("testing")
        self.assertEqual(r.rc, 0, r.describe())
        dec = self.mx(r).get("decision") or {}
        self.assertEqual((dec.get("source"), dec.get("report_only")), ("mta-sts", True), r.describe())


    # -- the STARTTLS-Everywhere list, local rules, --check and --refresh

    def write(self, name: str, text: str) -> Path:
        path = self.scratch_dir() / name
        path.write_text(text)
        return path

    def test_policy_list(self):
        # "plain" publishes no MTA-STS: the list decides, like an MTA-STS policy of its mode.
        plain = DOMAINS["plain"]
        now = int(time.time())
        listed = self.write("list.json", json.dumps({
            "timestamp": now - 60, "expires": now + 3600,
            "policies": {plain.name: {"policy-alias": "ours"},
                         DOMAINS["testing"].name: {"mode": "enforce", "mxs": ["mx-good.example.test"]}},
            "policy-aliases": {"ours": {"mode": "enforce", "mxs": [".example.test"]}}}))
        r = self.probe("plain", None, "--policy-list", str(listed))
        mx = self.expect("plain", r, outcome="ok", source="list", label="plain + list enforce .example.test")
        self.assertIs((mx.get("decision") or {}).get("starttls_mandatory"), True, r.describe())
        self.assertEqual(r.json.get("policy_list"), {"mode": "enforce", "mxs": [".example.test"]}, r.describe())
        # A published MTA-STS policy wins over the list (the list is the older, local source).
        r = self.probe("testing", None, "--policy-list", str(listed))
        self.expect("testing", r, outcome="ok", source="mta-sts", report_only=True,
                    label="testing + list enforce (other MX)")
        # An MX the list does not name is refused under enforce.
        other = self.write("other.json", json.dumps({
            "timestamp": now, "expires": now + 3600,
            "policies": {plain.name: {"mode": "enforce", "mxs": ["mx.elsewhere.test"]}}}))
        r = self.probe("plain", None, "--policy-list", str(other))
        self.expect("plain", r, outcome="mx-not-in-policy", source="list", label="plain + list without its MX")
        # An expired list is ignored, with a warning.
        expired = self.write("expired.json", json.dumps({
            "timestamp": now - 7200, "expires": now - 3600,
            "policies": {plain.name: {"mode": "enforce", "mxs": ["mx.elsewhere.test"]}}}))
        r = self.probe("plain", None, "--policy-list", str(expired))
        self.expect("plain", r, outcome="ok", source="default", label="plain + expired list")
        self.assertTrue(any("expired" in w for w in r.json.get("warnings") or []), r.describe())
        # A broken list is a usage error, not a silent no-policy.
        broken = self.write("broken.json", "{ not json")
        r = harness.otls_json(self.world.probe_argv(plain.name, None, "--policy-list", str(broken)),
                              timeout=60, json_output=False)
        self.assertEqual(r.rc, 64, r.describe())
        self.assertIn("--policy-list", r.cp.stderr, r.describe())

    def test_local_rules(self):
        plain = DOMAINS["plain"]
        good = self.world.mx_leafs["good"]
        spki = good.spki_sha256().hex()
        rules = self.write("local.toml", f"""
[domain."{plain.name}"]
fingerprints = ["{spki}"]

[domain."{DOMAINS['enforce'].name}"]
level = "encrypt"
mx = ["*.elsewhere.test"]
""")
        r = self.probe("plain", None, "--local", str(rules))
        mx = self.expect("plain", r, outcome="ok", source="local", label="plain + local fingerprint")
        self.assertEqual((mx.get("decision") or {}).get("level"), "fingerprint", r.describe())
        # Local rules win over MTA-STS: here they also refuse the MX their patterns do not list.
        r = self.probe("enforce", None, "--local", str(rules))
        self.expect("enforce", r, outcome="mx-not-in-policy", source="local",
                    label="enforce + local rule without its MX")
        wrong = self.write("wrong.toml", f"""
[domain."{plain.name}"]
fingerprints = ["{'00' * 32}"]
""")
        r = self.probe("plain", None, "--local", str(wrong))
        self.expect("plain", r, outcome="validation-failure", source="local", label="plain + wrong fingerprint")
        bad = self.write("bad.toml", f'[domain."{plain.name}"]\nlevel = "strong"\n')
        r = harness.otls_json(self.world.probe_argv(plain.name, None, "--local", str(bad)), timeout=60,
                              json_output=False)
        self.assertEqual(r.rc, 64, r.describe())
        self.assertIn("level", r.cp.stderr, r.describe())

    def test_policy_check_reports_certificates_that_would_fail(self):
        r = self.policy("badcert", None, "--check", "--cafile", str(self.world.ca.pem))
        self.assertEqual(r.rc, 0, r.describe())
        mx = self.mx(r)
        self.assertTrue(mx.get("probes"), r.describe())
        self.assertIn("certificate-host-mismatch", mx.get("reported") or [], r.describe())
        self.assertTrue(any("--check" in w for w in r.json.get("warnings") or []), r.describe())
        r = self.policy("enforce", None, "--check", "--cafile", str(self.world.ca.pem))
        self.assertEqual(self.mx(r).get("reported"), [], r.describe())

    def test_refresh_refetches_policies_near_expiry(self):
        now = int(time.time())
        enforce, cachefail = DOMAINS["enforce"], DOMAINS["cachefail"]
        old = sts_world.policy_text("enforce", ["mx-good.example.test"], max_age=3600)
        store = self.store(StoreEntry(enforce.name, enforce.sts_id, old, now - 1000, now + 600),
                           StoreEntry(cachefail.name, "old9", old, now - 1000, now + 600),
                           StoreEntry("far.example.test", "far1", old, now, now + 30 * 86400))
        argv = ["policy", "--refresh", *self.world.base_args(store), "--timeout", "10", "--json"]
        r = harness.otls_json(argv, timeout=120, json_output=False)
        self.assertEqual(r.rc, 0, r.describe())
        results = {e["domain"]: e for e in json.loads(r.cp.stdout)}
        # due and fetchable: refreshed even though its TXT id did not change (RFC 8461 §5.1)
        self.assertIs(results[enforce.name]["refreshed"], True, r.describe())
        # due, but the policy host answers 404: the cached entry stays
        self.assertIs(results[cachefail.name]["refreshed"], False, r.describe())
        # not due: untouched
        self.assertNotIn("far.example.test", results, r.describe())
        entries = sts_world.store_entries(store)
        self.assertGreaterEqual(entries[enforce.name].fetched_at, now, r.describe())
        self.assertEqual(entries[cachefail.name].id, "old9", r.describe())
        self.assertEqual(entries["far.example.test"].fetched_at, now, r.describe())


def sources_of(d: sts_world.Domain) -> str:
    parts = []
    if d.sts_ids:
        parts.append("TXT x2" if len(d.sts_ids) > 1 else f"TXT {d.sts_id}")
    if d.host:
        mode = re.search(r"^mode: (\w+)", d.policy or "", re.M)
        parts.append(f"host {d.host}" + (f" {mode.group(1)}" if mode and d.host not in ("404", "301") else ""))
    if any(MX_HOSTS[k].tlsa for k in d.mx):
        parts.append("TLSA " + ",".join(MX_HOSTS[k].tlsa for k in d.mx if MX_HOSTS[k].tlsa))
    if d.tlsrpt:
        parts.append("TLSRPT")
    return "; ".join(parts) or "-"


def table(rows: list[tuple]) -> str:
    head = ("case", "sources", "expected", "otls")
    widths = [max(len(str(r[i])) for r in [head, *rows]) for i in range(len(head))]
    line = lambda r: " | ".join(str(v).ljust(w) for v, w in zip(r, widths))
    return ("\n===== MTA-STS: expected vs otls =====\n"
            + "\n".join([line(head), "-+-".join("-" * w for w in widths), *map(line, rows)]) + "\n")


if __name__ == "__main__":
    unittest.main()
