#!/usr/bin/env python3
"""Writes auth-results.json beside this script: `Authentication-Results`
headers paired with From addresses and a trusted authserv-id, each with the
verdict of SPEC section 10 computed independently of postbud's Rust code.

    python3 -m venv /tmp/venv
    /tmp/venv/bin/pip install authres publicsuffixlist
    /tmp/venv/bin/python crates/core/tests/data/make_auth_corpus.py

The headers are parsed by Python's `authres` (an RFC 5451/7601 parser); the
organisational domain comes from `publicsuffixlist` (its bundled Public
Suffix List, ICANN and private sections, an unknown TLD being a public
suffix of one label). The rule applied on top is SPEC section 10:

    The topmost header that parses and whose authserv-id is the trusted id
    (ASCII case-insensitive) decides; headers of other ids above it and
    headers that do not parse are skipped. It verifies the From address
    when it has a dmarc=pass whose header.from is the From domain (ASCII
    case-insensitive), or a dkim=pass whose header.d has the same
    organisational domain as the From domain (a public suffix has none).
    Results of a method version other than 1 do not count; header.i is not
    header.d. Domains are compared with ASCII case folding only, IDNs as
    written.

Where authres itself departs from RFC 8601's grammar the RFC wins: such a
case is declared below with `rfc=` (the verdict by the RFC) and a `note`,
and the script checks that authres's own verdict does differ (it is kept in
the JSON as `authres_verified`). Nothing here is random: the output is the
same on every run with the same package versions.
"""

import ast
import doctest
import json
import os
import re
import sys
from importlib import metadata

import authres
from publicsuffixlist import PublicSuffixList

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "auth-results.json")

TRUSTED = "mx.forbund.example"
CTX = authres.all_features()
PSL = PublicSuffixList()  # ICANN + private entries, unknown TLD = suffix

ASCII_LOWER = str.maketrans(
    "ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz"
)
LDH = set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-")


def ascii_lower(s):
    return s.translate(ASCII_LOWER)


def is_domain(name):
    """Dot-separated labels, none empty; each of letters, digits, `-` (not at
    either end) or non-ASCII characters (a U-label as written)."""
    if not name:
        return False
    for label in name.split("."):
        if not label or label[0] == "-" or label[-1] == "-":
            return False
        if not all(c in LDH or ord(c) > 127 for c in label):
            return False
    return True


def organisational(domain):
    """The registrable domain by the PSL, with ASCII case folding only:
    publicsuffixlist lower-cases by Unicode's rules (the Kelvin sign K
    becomes k), so a label that Unicode lower-casing would change is
    replaced by one no rule names before the lookup (a wildcard still
    matches it, as it matches any label)."""
    if not is_domain(domain):
        return None
    labels = domain.split(".")
    safe = [
        label if label.lower() == label else "zz--no-rule-%d" % i
        for i, label in enumerate(labels)
    ]
    private = PSL.privatesuffix(".".join(safe))
    if private is None:
        return None
    n = private.count(".") + 1
    return ".".join(labels[-n:])


def prop(result, ptype, name):
    for p in result.properties:
        if p.type == ptype and p.name == name:
            return p.value
    return None


def authres_verdict(headers, from_addr, trusted):
    if not trusted:
        return False
    if "@" not in from_addr:
        return False
    domain = ascii_lower(from_addr.rsplit("@", 1)[1])
    if not is_domain(domain):
        return False
    for value in headers:
        try:
            header = CTX.parse_value(value)
        except Exception:  # authres.AuthResError and anything else: ignored
            continue
        if ascii_lower(header.authserv_id or "") != ascii_lower(trusted):
            continue
        for r in header.results:
            if r.version not in (None, "1"):
                continue
            if r.method == "dmarc" and r.result == "pass":
                header_from = prop(r, "header", "from")
                if header_from is not None and ascii_lower(header_from) == domain:
                    return True
            if r.method == "dkim" and r.result == "pass":
                d = prop(r, "header", "d")
                if d is not None:
                    org = organisational(ascii_lower(d))
                    if org is not None and org == organisational(domain):
                        return True
        return False
    return False


CASES = []
NAMES = set()
STALE = []


def case(name, headers, from_addr, trusted=TRUSTED, rfc=None, note=None):
    if isinstance(headers, str):
        headers = [headers]
    assert name not in NAMES, name
    NAMES.add(name)
    by_authres = authres_verdict(headers, from_addr, trusted)
    entry = {
        "name": name,
        "headers": headers,
        "from": from_addr,
        "trusted_id": trusted,
    }
    if rfc is not None:
        assert note, name
        if rfc == by_authres:
            STALE.append("%s: authres already says %s; drop rfc=" % (name, rfc))
        entry["verified"] = rfc
        entry["authres_verified"] = by_authres
        entry["note"] = note
    else:
        entry["verified"] = by_authres
        if note:
            entry["note"] = note
    CASES.append(entry)


def t(results, authserv_id=TRUSTED):
    """A header value of the trusted server."""
    return "%s; %s" % (authserv_id, results)


# ---------------------------------------------------------------------------
# 1. The examples of authres's doctests (many from RFC 7601 appendix B) and
#    of RFC 8601 appendix B, each trusted by its own authserv-id, paired with
#    the domains they name and an unrelated one.

NOTES = {
    # value (without the field name) -> (rfc verdict for every From, note)
}


def doctest_headers():
    base = os.path.dirname(authres.__file__)
    text = ""
    for f in ("tests", "__init__.py"):
        path = os.path.join(base, f)
        if os.path.exists(path):
            with open(path, encoding="utf-8") as fh:
                text += fh.read()
    seen = []
    for example in doctest.DocTestParser().get_examples(text):
        if "parse" not in example.source:
            continue
        try:
            tree = ast.parse(example.source)
        except SyntaxError:
            continue
        for node in ast.walk(tree):
            if (
                isinstance(node, ast.Call)
                and getattr(node.func, "attr", "") in ("parse", "parse_value")
                and node.args
                and isinstance(node.args[0], ast.Constant)
                and isinstance(node.args[0].value, str)
            ):
                value = re.sub(
                    r"^authentication-results:\s*", "", node.args[0].value, flags=re.I
                )
                if value not in seen:
                    seen.append(value)
    return seen


RFC8601_APPENDIX_B = [
    "example.org 1; none",
    "example.com; spf=pass smtp.mailfrom=example.net",
    "example.com; auth=pass (cram-md5) smtp.auth=sender@example.net; "
    "spf=pass smtp.mailfrom=example.net",
    "example.com; iprev=pass policy.iprev=192.0.2.200",
    "example.com; sender-id=fail header.from=example.com; "
    "dkim=pass (good signature) header.d=example.com",
    "example.com; sender-id=pass header.from=example.com",
    "example.com; dkim=pass (good signature) header.d=mail-router.example.net; "
    "dkim=fail (bad signature) header.d=newyork.example.com",
    "example.net; dkim=pass (good signature) header.d=newyork.example.com",
    "mail-router.example.net; dkim=pass (good signature) "
    "header.d=newyork.example.com header.b=oINEO8hg; "
    "dkim=fail (bad signature) header.d=newyork.example.com header.b=EToRSuvU",
    "foo.example.net (foobar) 1 (baz); dkim (Because I like it) / 1 (One yay) "
    "= (wait for it) fail policy (A dot can go here) . (like that) expired "
    "(this surprised me) = (as I wasn't expecting it) 1362471462",
]

# The doctests and examples authres gets wrong by RFC 8601, with what the RFC
# says. Keys are the header values.
EXAMPLE_NOTES = {
    "mail.bmsi.com; iprev=pass policy.iprev=2001:748:100:40::2:2 "
    "(mout0.freenet.de); spf=none smtp.mailfrom=markuslaudi@freenet.de": (
        "authres reads an unquoted IPv6 address as a pvalue; RFC 8601's pvalue "
        "(token / [local-part] @ domain-name) has no ':', so the header does not parse"
    ),
    "mail.example.org; x-tls=pass version=TLSv1.2 "
    "cipher=ECDHE-RSA-CHACHA20-POLY1305 bits=256": (
        "authres drops `version=...` (not a propspec) and reads on; by RFC 8601 "
        "the header does not parse"
    ),
    "mail.example.org; arc=none (no signatures found); dkim=pass (1024-bit rsa "
    "key sha256) header.d=example.net header.i=@example.net header.b=Qgi/FoC0; "
    "dmarc=none (p=none) header.from=example.net; spf=none "
    "smtp.mailfrom=test@example.net smtp.helo=mail-wm0-x232.example.com; "
    "x-tls=pass version=TLSv1.2 cipher=ECDHE-RSA-CHACHA20-POLY1305 bits=256": (
        "authres takes `header.b=Qgi/FoC0` ('/' is a tspecial, not in a token) and "
        "drops `version=...`; by RFC 8601 the header does not parse"
    ),
    "foo.example.net (foobar) 1 (baz); dkim (Because I like it) / 1 (One yay) "
    "= (wait for it) fail policy (A dot can go here) . (like that) expired "
    "(this surprised me) = (as I wasn't expecting it) 1362471462": (
        "RFC 8601 B.7's comment-heavy example: authres fails on the blank after "
        "'(One yay)' (its CFWS reader stops after a comment once it has seen a "
        "blank); the RFC parses it"
    ),
}


def domains_in(value):
    found = []
    for m in re.finditer(r"(?:header\.(?:d|from|i)|smtp\.mailfrom)=\"?([^\s;\"()]+)", value):
        d = m.group(1).rsplit("@", 1)[-1]
        if d and d not in found:
            found.append(d)
    return found


def first_token(value):
    m = re.match(r"\s*([^\s;(]+)", value)
    return m.group(1) if m else ""


def examples():
    values = []
    for v in doctest_headers() + RFC8601_APPENDIX_B:
        if v not in values:
            values.append(v)
    for n, value in enumerate(values):
        trusted = first_token(value)
        froms = ["someone@" + d for d in domains_in(value)] + ["someone@unrelated.example"]
        note = EXAMPLE_NOTES.get(value)
        for k, from_addr in enumerate(froms):
            name = "example-%02d-%d" % (n, k)
            by_authres = authres_verdict([value], from_addr, trusted)
            if note and by_authres:
                case(name, value, from_addr, trusted, rfc=False, note=note)
            else:
                case(name, value, from_addr, trusted, note=note)


examples()

# ---------------------------------------------------------------------------
# 2. DMARC: header.from must be the From domain.

F = "leder@ffm.example"
case("dmarc-pass-header-from", t("dmarc=pass header.from=ffm.example"), F)
case("dmarc-pass-header-from-upper", t("dmarc=pass header.from=FFM.Example"), F)
case("dmarc-pass-from-upper", t("dmarc=pass header.from=ffm.example"), "Leder@FFM.EXAMPLE")
case("dmarc-pass-without-header-from", t("dmarc=pass"), F)
case("dmarc-pass-other-header-from", t("dmarc=pass header.from=evil.example"), F)
case("dmarc-pass-subdomain-header-from", t("dmarc=pass header.from=mail.ffm.example"), F)
case("dmarc-pass-parent-header-from", t("dmarc=pass header.from=ffm.example"), "a@lag.ffm.example")
case("dmarc-fail", t("dmarc=fail header.from=ffm.example"), F)
case("dmarc-none", t("dmarc=none header.from=ffm.example"), F)
case("dmarc-bestguesspass", t("dmarc=bestguesspass header.from=ffm.example"), F)
case("dmarc-PASS-upper", t("DMARC=PASS Header.From=ffm.example"), F)
case(
    "dmarc-policy-comment",
    t("dmarc=pass (p=none dis=none) header.from=ffm.example"),
    F,
)
case(
    "dmarc-policy-property",
    t("dmarc=pass policy.dmarc=reject header.from=ffm.example"),
    F,
)
case(
    "dmarc-reason",
    t('dmarc=pass reason="aligned dkim" header.from=ffm.example'),
    F,
)
case(
    "dmarc-reason-token",
    t("dmarc=pass reason=ok policy.dmarc=none header.from=ffm.example"),
    F,
)
case("dmarc-version-1", t("dmarc/1=pass header.from=ffm.example"), F)
case("dmarc-version-2", t("dmarc/2=pass header.from=ffm.example"), F)
case(
    "dmarc-header-from-address",
    t("dmarc=pass header.from=leder@ffm.example"),
    F,
)
case(
    "dmarc-second-result-passes",
    t("dmarc=fail header.from=evil.example; dmarc=pass header.from=ffm.example"),
    F,
)
case(
    "dmarc-pass-for-other-then-fail",
    t("dmarc=pass header.from=evil.example; dmarc=fail header.from=ffm.example"),
    F,
)
case(
    "dmarc-header-from-quoted",
    t('dmarc=pass header.from="ffm.example"'),
    F,
)
case(
    "dmarc-header-from-quoted-then-property",
    t('dmarc=pass header.from="ffm.example" policy.dmarc=none'),
    F,
    rfc=True,
    note="authres drops a quoted pvalue unless ';' or the end follows it; "
    "RFC 8601 reads it (pvalue = value / ..., value = token / quoted-string)",
)
case(
    "dmarc-header-from-public-suffix",
    t("dmarc=pass header.from=no"),
    "a@no",
)
case(
    "dmarc-header-from-lookalike",
    t("dmarc=pass header.from=ffm.example.evil.example"),
    F,
)

# ---------------------------------------------------------------------------
# 3. DKIM: header.d aligned by organisational domain.

ALIGN = [
    # (header.d, From domain)
    ("ffm.example", "ffm.example"),
    ("mail.ffm.example", "ffm.example"),
    ("ffm.example", "lag.ffm.example"),
    ("a.ffm.example", "b.ffm.example"),
    ("evil.example", "ffm.example"),
    ("evilffm.example", "ffm.example"),
    ("ffm.example.evil.example", "ffm.example"),
    ("example", "ffm.example"),
    ("example", "example"),
    ("test", "ffm.test"),
    ("ffm.test", "post.ffm.test"),
    ("invalid", "x.invalid"),
    ("localhost", "a.localhost"),
    ("ffm.localhost", "a.ffm.localhost"),
    ("no", "ffm.no"),
    ("ffm.no", "ffm.no"),
    ("ffm.no", "a.ffm.no"),
    ("a.ffm.no", "ffm.no"),
    ("a.ffm.no", "b.ffm.no"),
    ("evil.no", "ffm.no"),
    ("oslo.no", "ffm.oslo.no"),
    ("ffm.oslo.no", "post.ffm.oslo.no"),
    ("kommune.no", "ffm.kommune.no"),
    ("co.uk", "ffm.co.uk"),
    ("ffm.co.uk", "mail.ffm.co.uk"),
    ("evil.co.uk", "ffm.co.uk"),
    ("uk", "ffm.uk"),
    ("ffm.uk", "a.ffm.uk"),
    ("com", "ffm.com"),
    ("ffm.com", "lists.ffm.com"),
    ("github.io", "ffm.github.io"),
    ("evil.github.io", "ffm.github.io"),
    ("ffm.github.io", "www.ffm.github.io"),
    ("blogspot.com", "ffm.blogspot.com"),
    ("ck", "ffm.b.ck"),
    ("b.ck", "ffm.b.ck"),
    ("ffm.b.ck", "x.ffm.b.ck"),
    ("www.ck", "a.www.ck"),
    ("kobe.jp", "ffm.city.kobe.jp"),
    ("city.kobe.jp", "a.city.kobe.jp"),
    ("gov.uk", "ffm.gov.uk"),
    ("xn--brum-voa.no", "ffm.xn--brum-voa.no"),
    ("ffm.xn--brum-voa.no", "a.ffm.xn--brum-voa.no"),
    ("xn--bcher-kva.example", "xn--bcher-kva.example"),
    ("FFM.Example", "ffm.example"),
    ("ffm.example", "FFM.EXAMPLE"),
    ("Mail.FFM.NO", "ffm.no"),
    ("ffm.example.", "ffm.example"),
    ("ffm..example", "ffm.example"),
    ("-ffm.example", "ffm.example"),
]
for n, (d, dom) in enumerate(ALIGN):
    case(
        "dkim-align-%02d-%s-vs-%s" % (n, d, dom),
        t("dkim=pass header.d=%s" % d),
        "leder@" + dom,
    )

case("dkim-fail-aligned", t("dkim=fail header.d=ffm.example"), F)
case("dkim-neutral-aligned", t("dkim=neutral header.d=ffm.example"), F)
case("dkim-temperror-aligned", t("dkim=temperror header.d=ffm.example"), F)
case("dkim-policy-aligned", t("dkim=policy header.d=ffm.example"), F)
case("dkim-PASS-upper", t("DKIM=PASS HEADER.D=FFM.EXAMPLE"), F)
case("dkim-header-i-only", t("dkim=pass header.i=@ffm.example"), F)
case("dkim-header-i-address-only", t("dkim=pass header.i=leder@ffm.example"), F)
case(
    "dkim-header-i-aligned-d-not",
    t("dkim=pass header.i=@ffm.example header.d=evil.example"),
    F,
)
case(
    "dkim-header-d-not-i-aligned",
    t("dkim=pass header.d=evil.example header.i=@ffm.example"),
    F,
)
case(
    "dkim-header-d-and-i",
    t("dkim=pass header.d=ffm.example header.i=leder@ffm.example"),
    F,
)
case(
    "dkim-header-i-then-d",
    t("dkim=pass header.i=@mail.ffm.example header.d=mail.ffm.example"),
    F,
)
case(
    "dkim-header-b-s-a",
    t("dkim=pass header.d=ffm.example header.s=sel1 header.a=rsa-sha256 header.b=AbCd1234"),
    F,
)
case(
    "dkim-header-b-first",
    t("dkim=pass header.b=AbCd1234 header.d=ffm.example"),
    F,
)
case(
    "dkim-header-b-plus",
    t("dkim=pass header.b=Ab+d1234 header.d=ffm.example"),
    F,
)
case(
    "dkim-header-b-slash",
    t("dkim=pass header.d=ffm.example header.b=Ab/d1234"),
    F,
    note="'/' is a tspecial, so by the letter of RFC 8601 this pvalue is no token; "
    "postbud accepts it, as authres does: rspamd writes base64 header.b values unquoted, "
    "one in eight holds a '/', and it can change no structure",
)
case(
    "dkim-header-b-slash-quoted",
    t('dkim=pass header.d=ffm.example header.b="Ab/d1234"'),
    F,
)
case(
    "dkim-header-b-slash-quoted-first",
    t('dkim=pass header.b="Ab/d1234" header.d=ffm.example'),
    F,
)
case(
    "dkim-reason-quoted",
    t('dkim=pass reason="signature verified" header.d=ffm.example'),
    F,
)
case(
    "dkim-reason-token",
    t("dkim=pass reason=ok header.d=ffm.example"),
    F,
)
case(
    "dkim-reason-with-semicolon",
    t('dkim=pass reason="good; really" header.d=ffm.example'),
    F,
)
case(
    "dkim-reason-after-properties",
    t('dkim=pass header.d=ffm.example reason="late"'),
    F,
    rfc=False,
    note="authres drops a reasonspec that follows the properties; RFC 8601 puts "
    "it before them (resinfo = methodspec [CFWS reasonspec] [CFWS 1*propspec]), "
    "so the header does not parse",
)
case(
    "dkim-reason-unaligned-after",
    t('dkim=pass reason="x" header.d=evil.example'),
    F,
)
case(
    "dkim-comment-after-result",
    t("dkim=pass (good signature) header.d=ffm.example"),
    F,
)
case(
    "dkim-comments-everywhere",
    t(
        "(a)dkim(b)=(c)pass(d) header(e).(f)d(g)=(h)ffm.example(i)"
    ),
    F,
)
case(
    "dkim-comments-with-blanks",
    t("dkim (b) = (c) pass (d) header (e) . (f) d (g) = (h) ffm.example (i)"),
    F,
)
case(
    "dkim-nested-comment",
    t("dkim=pass (a (nested (deep)) comment; with = signs) header.d=ffm.example"),
    F,
)
case(
    "dkim-comment-quoted-paren",
    t("dkim=pass (a \\) paren) header.d=ffm.example"),
    F,
)
case(
    "dkim-spaces-around-equals",
    t("dkim = pass header.d = ffm.example"),
    F,
)
case(
    "dkim-policy-property",
    t("dkim=pass policy.dkim=ok header.d=ffm.example"),
    F,
)
case(
    "dkim-unknown-ptype",
    t("dkim=pass x-foo.bar=baz header.d=ffm.example"),
    F,
    note="authres drops a property whose ptype it does not know; RFC 8601's "
    "ptype is any Keyword; header.d is read either way",
)
case(
    "dkim-property-without-dot",
    t("dkim=pass action=none header.d=ffm.example"),
    F,
    rfc=False,
    note="authres drops `action=none` (not a propspec) and reads on; by RFC 8601 "
    "the header does not parse",
)
case("dkim-version-1", t("dkim/1=pass header.d=ffm.example"), F)
case("dkim-version-1-spaced", t("dkim / 1 = pass header.d=ffm.example"), F)
case("dkim-version-2", t("dkim/2=pass header.d=ffm.example"), F)
case(
    "dkim-several-pass-aligned-second",
    t("dkim=pass header.d=evil.example; dkim=pass header.d=ffm.example"),
    F,
)
case(
    "dkim-several-fail-aligned-pass-unaligned",
    t("dkim=fail header.d=ffm.example; dkim=pass header.d=evil.example"),
    F,
)
case(
    "dkim-several-pass-aligned-fail-unaligned",
    t("dkim=pass header.d=mail.ffm.example; dkim=fail header.d=evil.example"),
    F,
)
case(
    "dkim-several-none-aligned",
    t("dkim=fail header.d=ffm.example; dkim=neutral header.d=ffm.example; dkim=pass header.d=no"),
    F,
)
case(
    "dkim-duplicate-header-d-first-unaligned",
    t("dkim=pass header.d=evil.example header.d=ffm.example"),
    F,
)
case(
    "dkim-duplicate-header-d-first-aligned",
    t("dkim=pass header.d=ffm.example header.d=evil.example"),
    F,
)
case(
    "dkim-header-d-quoted",
    t('dkim=pass header.d="ffm.example"'),
    F,
)
case(
    "dkim-header-d-quoted-then-selector",
    t('dkim=pass header.d="ffm.example" header.s=sel1'),
    F,
    rfc=True,
    note="authres drops a quoted pvalue unless ';' or the end follows it; "
    "RFC 8601 reads header.d",
)
case(
    "dkim-header-d-quoted-pair",
    t('dkim=pass header.d="ffm\\.example"'),
    F,
    rfc=True,
    note="authres keeps the backslash of a quoted-pair in the value; by RFC "
    "5322 the content of \"ffm\\.example\" is ffm.example",
)
case(
    "dkim-header-d-empty",
    t("dkim=pass header.d=; dmarc=pass header.from=ffm.example"),
    F,
    rfc=False,
    note="authres takes an empty pvalue; RFC 8601's pvalue is never empty, so "
    "the header does not parse and its dmarc=pass does not count",
)
case(
    "dkim-result-then-dmarc-pass",
    t("dkim=fail header.d=ffm.example; spf=pass smtp.mailfrom=a@ffm.example; "
      "dmarc=pass header.from=ffm.example"),
    F,
)
case(
    "spf-pass-only",
    t("spf=pass smtp.mailfrom=leder@ffm.example"),
    F,
)
case(
    "spf-and-iprev-only",
    t("spf=pass smtp.mailfrom=leder@ffm.example; iprev=pass policy.iprev=192.0.2.1"),
    F,
)
case(
    "arc-pass-only",
    t("arc=pass (i=1) header.oldest-pass=0 smtp.remote-ip=192.0.2.1"),
    F,
)
case(
    "auth-pass-only",
    t("auth=pass smtp.auth=leder@ffm.example"),
    F,
)

# ---------------------------------------------------------------------------
# 4. The header's own grammar: authserv-id, version, separators.

DMARC = "dmarc=pass header.from=ffm.example"
case("id-comment", "mx.forbund.example (our mx); " + DMARC, F)
case("id-comment-no-space", "mx.forbund.example(our mx);" + DMARC, F)
case(
    "id-leading-cfws",
    "  (first) mx.forbund.example; " + DMARC,
    F,
    rfc=True,
    note="authres fails on the blank after '(first)': its CFWS reader stops "
    "after a comment once it has seen a blank; RFC 8601 allows [CFWS] before "
    "the authserv-id",
)
case("id-upper", "MX.Forbund.EXAMPLE; " + DMARC, F)
case(
    "id-quoted",
    '"mx.forbund.example"; ' + DMARC,
    F,
    rfc=True,
    note="authres reads the authserv-id as a dot-atom; RFC 8601's authserv-id "
    "is a value (token / quoted-string), and the quoted string's content is "
    "mx.forbund.example",
)
case(
    "id-quoted-other",
    '"mx.forbund.example.evil"; ' + DMARC,
    F,
)
case(
    "id-quoted-with-space",
    '"mx.forbund.example "; ' + DMARC,
    F,
)
case("id-other", "mx.evil.example; " + DMARC, F)
case("id-suffix", "mx.forbund.example.evil; " + DMARC, F)
case("id-prefix", "evil-mx.forbund.example; " + DMARC, F)
case("id-parent", "forbund.example; " + DMARC, F)
case("id-trailing-dot", "mx.forbund.example.; " + DMARC, F)
case(
    "id-with-slash",
    "mx.forbund.example/x; " + DMARC,
    "leder@ffm.example",
    trusted="mx.forbund.example/x",
    rfc=False,
    note="authres's dot-atom authserv-id takes '/'; an RFC 2045 token does not, "
    "so the header does not parse",
)
case("id-colon-port", "mx.forbund.example:25; " + DMARC, F)
case(
    "id-kelvin",
    "m\u212a.forbund.example; " + DMARC,
    F,
    trusted="mk.forbund.example",
    rfc=False,
    note="authres's patterns are case-insensitive regular expressions, and "
    "Python's re.I lets [a-z] match K (U+212A); it then lower-cases the id by "
    "Unicode's rules into mk.forbund.example. An RFC 2045 token is US-ASCII: "
    "the header does not parse",
)
case("version-1", "mx.forbund.example 1; " + DMARC, F)
case("version-1-comment", "mx.forbund.example (v) 1 (one); " + DMARC, F)
case("version-1-no-space", "mx.forbund.example(v)1;" + DMARC, F)
case("version-2", "mx.forbund.example 2; " + DMARC, F)
case("version-01", "mx.forbund.example 01; " + DMARC, F)
case("version-10", "mx.forbund.example 10; " + DMARC, F)
case("version-1-2", "mx.forbund.example 1 2; " + DMARC, F)
case("missing-semicolon", "mx.forbund.example dmarc=pass header.from=ffm.example", F)
case(
    "missing-semicolon-between-results",
    t("dkim=pass header.d=ffm.example dmarc=pass header.from=ffm.example"),
    F,
    rfc=False,
    note="authres drops `dmarc=pass` (not a propspec) and reads on, giving the "
    "dkim result header.from too; by RFC 8601 a result needs its ';', and the "
    "header does not parse",
)
case("trailing-semicolon", t(DMARC + ";"), F)
case("double-semicolon", t("dkim=fail;; " + DMARC), F)
case("none", t("none"), F)
case("none-comment", t("none (no checks)"), F)
case("none-then-result", t("none; " + DMARC), F)
case(
    "method-named-none-x",
    t("nonex=pass; " + DMARC),
    F,
    rfc=True,
    note="authres reads `none` as a prefix and stops; `nonex` is an RFC 8601 "
    "method Keyword like any other",
)
case("empty-value", "", F)
case("only-id", "mx.forbund.example", F)
case("only-id-semicolon", "mx.forbund.example;", F)
case("unclosed-comment", t("dkim=pass (unclosed header.d=ffm.example"), F)
case("unclosed-comment-end", t(DMARC + " (unclosed"), F)
case("unclosed-quote", t('dkim=pass reason="unclosed header.d=ffm.example'), F)
case("stray-close-paren", t(DMARC + " )"), F)
case(
    "empty-result",
    t("dkim= header.d=ffm.example; " + DMARC),
    F,
    rfc=False,
    note="authres reads a result as a dot-atom, which takes '=': its dkim result "
    "is `header.d=ffm.example`. RFC 8601's result is a Keyword: the header does "
    "not parse",
)
case("no-result-keyword", t("dkim header.d=ffm.example; " + DMARC), F)
case(
    "method-underscore",
    t("x_dkim=pass; " + DMARC),
    F,
    rfc=False,
    note="authres takes '_' in a method; RFC 8601's method is a Keyword (letters, "
    "digits, '-'), so the header does not parse",
)
case(
    "ipv6-unquoted",
    t("iprev=pass policy.iprev=2001:db8::1; " + DMARC),
    F,
)
case("ipv6-quoted", t('iprev=pass policy.iprev="2001:db8::1"; ' + DMARC), F)
case(
    "mailfrom-quoted-local-part",
    t('spf=pass smtp.mailfrom="leder bergen"@ffm.example; ' + DMARC),
    F,
)
case(
    "mailfrom-at-domain",
    t("spf=pass smtp.mailfrom=@ffm.example; " + DMARC),
    F,
)
case(
    "mailfrom-single-label-domain",
    t("spf=pass smtp.mailfrom=postmaster@localhost; " + DMARC),
    F,
    rfc=False,
    note="authres takes any atext run; RFC 8601's domain-name (RFC 6376 "
    "section 3.5) has at least two labels, so postmaster@localhost is no "
    "pvalue and the header does not parse",
)
case(
    "microsoft-no-id",
    "spf=pass (sender IP is 192.0.2.1) smtp.mailfrom=ffm.example; dkim=pass "
    "(signature was verified) header.d=ffm.example;dmarc=pass action=none "
    "header.from=ffm.example;compauth=pass reason=100",
    F,
    trusted="spf",
)
case(
    "microsoft-with-id",
    "mx.forbund.example; spf=pass (sender IP is 192.0.2.1) "
    "smtp.mailfrom=ffm.example; dkim=pass (signature was verified) "
    "header.d=ffm.example;dmarc=pass action=none header.from=ffm.example",
    F,
    rfc=False,
    note="authres drops Microsoft's `action=none` (not a propspec) and reads on; "
    "by RFC 8601 the header does not parse",
)
case(
    "gmail-style",
    "mx.forbund.example; dkim=pass header.i=@ffm.example header.s=20230601 "
    "header.b=QmHk4vvr; spf=pass (mx.forbund.example: domain of "
    "leder@ffm.example designates 192.0.2.1 as permitted sender) "
    "smtp.mailfrom=leder@ffm.example; dmarc=pass (p=NONE sp=NONE dis=NONE) "
    "header.from=ffm.example",
    F,
)
case(
    "gmail-style-header-i-only-no-dmarc",
    "mx.forbund.example; dkim=pass header.i=@ffm.example header.s=20230601 "
    "header.b=QmHk4vvr; spf=pass smtp.mailfrom=leder@ffm.example",
    F,
)
case(
    "rspamd-style",
    "mx.forbund.example; dkim=pass header.d=ffm.example header.s=dkim "
    "header.b=fGh12+kL; dmarc=pass (policy=reject) header.from=ffm.example; "
    "spf=pass (mx.forbund.example: domain of leder@ffm.example designates "
    "192.0.2.1 as permitted sender) smtp.mailfrom=leder@ffm.example",
    F,
)
case(
    "opendkim-style",
    "mx.forbund.example; dkim=pass (2048-bit key; unprotected) "
    "header.d=ffm.example header.i=@ffm.example header.a=rsa-sha256 "
    'header.s=mail header.b="fGh1/kL2"',
    F,
)
case(
    "folded-crlf",
    "mx.forbund.example;\r\n dkim=pass\r\n\theader.d=ffm.example",
    F,
)
case("tabs", "mx.forbund.example;\tdkim=pass\theader.d=ffm.example", F)
case("bare-cr-inside", "mx.forbund.example; dkim=pass\rheader.d=ffm.example", F)

# ---------------------------------------------------------------------------
# 5. Several headers: the topmost of the trusted id decides.

PASS = t(DMARC)
FAIL = t("dmarc=fail header.from=ffm.example")
case("order-other-id-above", ["other.example; dmarc=fail", PASS], F)
case("order-other-id-pass-above", ["other.example; " + DMARC, FAIL], F)
case("order-fail-above-pass", [FAIL, PASS], F)
case("order-pass-above-fail", [PASS, FAIL], F)
case("order-none-above-pass", [t("none"), PASS], F)
case("order-version-2-above-pass", ["mx.forbund.example 2; dmarc=fail", PASS], F)
case("order-unparsed-above-pass", [t("dmarc=fail (unclosed"), PASS], F)
case("order-missing-semicolon-above-pass", ["mx.forbund.example dmarc=fail", PASS], F)
case("order-unparsed-pass-above-fail", ["mx.forbund.example 2; " + DMARC, FAIL], F)
case("order-upper-id-fail-above-pass", ["MX.FORBUND.EXAMPLE; dmarc=fail", PASS], F)
case(
    "order-quoted-id-fail-above-pass",
    ['"mx.forbund.example"; dmarc=fail', PASS],
    F,
    rfc=False,
    note="authres does not read a quoted authserv-id, so skips the header; by "
    "RFC 8601 it is the trusted server's topmost header, and it fails",
)
case("order-three", ["a.example; none", "b.example; " + DMARC, PASS], F)
case(
    "order-spoof-below-unaligned",
    [t("dkim=pass header.d=evil.example"), PASS],
    F,
)
case(
    "order-dkim-aligned-below-unaligned",
    [t("dkim=pass header.d=evil.example"), t("dkim=pass header.d=ffm.example")],
    F,
)
case("no-headers", [], F)
case("no-trusted-id", [PASS], F, trusted=None)
case("empty-trusted-id", [PASS], F, trusted="")
case("trusted-id-upper", [PASS], F, trusted="MX.FORBUND.EXAMPLE")
case("trusted-id-other", [PASS], F, trusted="mx.other.example")

# ---------------------------------------------------------------------------
# 6. From addresses, case folding, IDNs and the Kelvin sign (U+212A).

case("from-without-at", PASS, "ffm.example")
case("from-empty", PASS, "")
case("from-address-literal", t("dkim=pass header.d=ffm.example"), "a@[192.0.2.1]")
case("from-trailing-dot", PASS, "a@ffm.example.")
case("from-quoted-local", t("dkim=pass header.d=ffm.example"), '"a@b"@ffm.example')
case("from-upper-dkim", t("dkim=pass header.d=ffm.example"), "A@FFM.EXAMPLE")
case("from-upper-sub-dkim", t("dkim=pass header.d=ffm.no"), "A@POST.FFM.NO")

K = "\u212a"  # KELVIN SIGN, lower-cased to ASCII 'k' by Unicode's rules
case("kelvin-from-vs-dmarc", t("dmarc=pass header.from=kommune.example"), "a@" + K + "ommune.example")
case("kelvin-from-vs-dkim", t("dkim=pass header.d=kommune.example"), "a@" + K + "ommune.example")
case("kelvin-from-sub-vs-dkim", t("dkim=pass header.d=ffm.example"), "a@" + K + ".ffm.example")
case("kelvin-from-tld", t("dkim=pass header.d=x.com.km"), "a@y.com.km")
case("kelvin-from-tld-vs-ascii", t("dkim=pass header.d=x.com.km"), "a@y.com." + K + "m")
case(
    "kelvin-dkim-d",
    t("dkim=pass header.d=" + K + "ommune.example"),
    "a@kommune.example",
)
case(
    "kelvin-dmarc-quoted",
    t('dmarc=pass header.from="' + K + 'ommune.example"'),
    "a@kommune.example",
)
case(
    "kelvin-both",
    t('dmarc=pass header.from="' + K + 'ommune.example"'),
    "a@" + K + "ommune.example",
    note="authres reads K only because re.I lets it match k (see id-kelvin); "
    "RFC 6532 allows UTF-8 in a quoted string, and the domains are the same "
    "as written",
)
case(
    "kelvin-both-dkim",
    t("dkim=pass header.d=mail." + K + "ommune.example"),
    "a@" + K + "ommune.example",
    note="authres reads K only because re.I lets it match k (see id-kelvin); "
    "RFC 6531 allows U-labels in a domain-name, and mail.\u212aommune.example "
    "is aligned with \u212aommune.example as written",
)
case(
    "idn-u-label-dkim",
    t("dkim=pass header.d=b\u00fccher.example"),
    "a@b\u00fccher.example",
    rfc=True,
    note="authres does not read RFC 6531 U-labels in a domain-name; RFC 8601 "
    "does",
)
case(
    "idn-u-label-dkim-sub",
    t("dkim=pass header.d=post.b\u00e6rum.no"),
    "a@b\u00e6rum.no",
)
case(
    "idn-u-label-dkim-org",
    t("dkim=pass header.d=post.ffm.b\u00e6rum.no"),
    "a@ffm.b\u00e6rum.no",
    rfc=True,
    note="authres does not read RFC 6531 U-labels; b\u00e6rum.no is a public "
    "suffix, ffm.b\u00e6rum.no the organisational domain of both",
)
case(
    "idn-a-label-vs-u-label",
    t("dkim=pass header.d=xn--bcher-kva.example"),
    "a@b\u00fccher.example",
)
case(
    "idn-u-label-vs-a-label",
    t("dkim=pass header.d=b\u00fccher.example"),
    "a@xn--bcher-kva.example",
)
case(
    "idn-upper-u-label",
    t("dkim=pass header.d=b\u00fccher.example"),
    "a@B\u00dcCHER.example",
)
case(
    "idn-dmarc-quoted",
    t('dmarc=pass header.from="b\u00fccher.example"'),
    "a@b\u00fccher.example",
    rfc=True,
    note="authres does not read UTF-8 in a quoted string; RFC 8601 with RFC "
    "6532 does",
)
case(
    "idn-comment",
    t("dkim=pass (sjekket p\u00e5 mx) header.d=ffm.example"),
    F,
    rfc=True,
    note="authres does not read UTF-8 in a comment; RFC 6532 extends ctext",
)
case(
    "idn-in-token-id",
    "mx.b\u00fccher.example; " + DMARC,
    F,
    trusted="mx.b\u00fccher.example",
)
case(
    "idn-quoted-id",
    '"mx.b\u00fccher.example"; ' + DMARC,
    F,
    trusted="mx.b\u00fccher.example",
    rfc=True,
    note="authres reads neither a quoted authserv-id nor UTF-8; RFC 8601 "
    "(value = quoted-string, RFC 6532 qtext) does",
)

# ---------------------------------------------------------------------------

def main():
    out = {
        "about": "Authentication-Results cases for SPEC section 10, written by "
        "make_auth_corpus.py (read it for the rule and the notes); "
        "`verified` is the expected verdict, `authres_verified` what Python's "
        "authres gave where it departs from RFC 8601.",
        "authres": metadata.version("authres"),
        "publicsuffixlist": metadata.version("publicsuffixlist"),
        "cases": CASES,
    }
    with open(OUT, "w", encoding="utf-8") as fh:
        json.dump(out, fh, ensure_ascii=False, indent=1)
        fh.write("\n")
    noted = sum(1 for c in CASES if "authres_verified" in c)
    print(
        "%d cases (%d verified, %d where RFC 8601 overrules authres) -> %s"
        % (len(CASES), sum(c["verified"] for c in CASES), noted, OUT)
    )


if __name__ == "__main__":
    if STALE:
        sys.exit("\n".join(STALE))
    main()
