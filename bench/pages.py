"""The pages as a person on a slow phone gets them: Lighthouse on the sign-up, code and done pages.

Lighthouse 12 (npm, pinned in package.json) drives Debian's Chromium with the flags the browser
tests use, in its mobile profile: a phone's screen, and slow 4G simulated (150 ms round trips,
1.6 Mbit/s, a CPU four times slower). The code and done pages need a sign-up of their own: one
made through the app and its Cognito stand-in gives their sealed addresses. Each page is measured
a few times and each figure is the median, since a shared machine makes single runs jumpy.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import tempfile
import urllib.parse
import urllib.request
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

from tests.browser import CHROMIUM, CHROMIUM_ARGS
from tests.conftest import SIGNUP

ROOT = Path(__file__).resolve().parent.parent
LIGHTHOUSE = ROOT / "node_modules" / ".bin" / "lighthouse"
PAGES = {"signup": "sign-up page", "code": "code page", "done": "done page"}
RUNS = 3
# What the person types (tests/conftest.py's, as bench/signup.lua sends it); the stand-in accepts
# any new username and the code 123456.
TYPED = {**SIGNUP, "username": "lighthouse@example.com"}
CODE = "123456"
# The figures kept from each run: Lighthouse's audit (or category) and how to show its value.
FIGURES = {
    "performance": "performance score",
    "accessibility": "accessibility score",
    "best-practices": "best practices score",
    "cumulative-layout-shift": "Cumulative Layout Shift",
    "largest-contentful-paint": "Largest Contentful Paint: s",
    "first-contentful-paint": "First Contentful Paint: s",
    "total-byte-weight": "transferred, first visit: KB",
    "bf-cache": "restored by Back from the back/forward cache",
}


class _Form(HTMLParser):
    """A page's first form: where it posts, and every input with the value a browser would send."""

    def __init__(self) -> None:
        super().__init__()
        self.action = ""
        self.fields: dict[str, str] = {}
        self._select: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {name: value or "" for name, value in attrs}
        if tag == "form" and not self.action:
            self.action = a.get("action", "")
        elif tag == "input" and a.get("name") and a.get("type") != "checkbox":
            self.fields.setdefault(a["name"], a.get("value", ""))
        elif tag == "select":
            self._select = a.get("name")
        elif tag == "option" and self._select and ("selected" in a or self._select not in self.fields):
            self.fields[self._select] = a.get("value", "")

    def handle_endtag(self, tag: str) -> None:
        if tag == "select":
            self._select = None


def _post_form(url: str, typed: dict[str, str]) -> str:
    """Open the page at `url`, post its form as a browser would with `typed` in it; the address it ends on."""
    with urllib.request.urlopen(url, timeout=10) as answer:
        form = _Form()
        form.feed(answer.read().decode())
    fields = {**form.fields, **{name: value for name, value in typed.items() if name in form.fields}}
    body = urllib.parse.urlencode(fields).encode()
    with urllib.request.urlopen(urllib.parse.urljoin(url, form.action), data=body, timeout=10) as answer:
        return str(answer.url)  # after the redirect (POST/redirect/GET)


def addresses(base: str) -> dict[str, str]:
    """The sign-up page, and the code and done pages of one sign-up through the app and its stand-in."""
    code_page = _post_form(f"{base}/signup", TYPED)
    done_page = _post_form(code_page, {"code": CODE})
    if "/signup/confirm" not in code_page or "/signup/done" not in done_page:
        raise SystemExit(f"The sign-up did not reach the code and done pages: {code_page}, {done_page}")
    return {"signup": f"{base}/signup", "code": code_page, "done": done_page}


def lighthouse(url: str, out: Path) -> dict[str, Any]:
    """One Lighthouse run in the mobile profile; its report as JSON."""
    flags = " ".join(["--headless=new", *CHROMIUM_ARGS])
    subprocess.run(
        [
            str(LIGHTHOUSE),
            url,
            "--form-factor=mobile",
            "--throttling-method=simulate",
            "--only-categories=performance,accessibility,best-practices",
            f"--chrome-flags={flags}",
            "--output=json",
            f"--output-path={out}",
            "--quiet",
        ],
        env={**os.environ, "CHROME_PATH": CHROMIUM},
        check=True,
        timeout=180,
    )
    return dict(json.loads(out.read_text()))


def figures(report: dict[str, Any]) -> dict[str, Any]:
    """The figures of one run, and the audits that did not pass in the three categories."""
    categories, audits = report["categories"], report["audits"]
    values: dict[str, Any] = {}
    for key in FIGURES:
        if key in categories:
            values[key] = round(categories[key]["score"] * 100)
        elif key == "bf-cache":  # Lighthouse's own check: it leaves the page and comes back
            values[key] = audits[key]["score"]
        else:
            values[key] = audits[key]["numericValue"]
    requests = audits["network-requests"]["details"]["items"]
    values["requests"] = len(requests)
    values["failed"] = sorted(
        ref["id"]
        for category in categories.values()
        for ref in category["auditRefs"]
        if ref["weight"] > 0 and (audits[ref["id"]]["score"] is not None and audits[ref["id"]]["score"] < 1)
    )
    return values


def measure(base: str, runs: int = RUNS, say: Any = print) -> dict[str, Any]:
    """Every page `runs` times; the median of each figure, the load average and Chromium's version."""
    if not LIGHTHOUSE.exists():
        raise SystemExit("The bench needs Lighthouse: `make bench` installs it (npm ci).")
    load = os.getloadavg()[0]
    results: dict[str, Any] = {"load": load, "runs": runs, "pages": {}}
    with tempfile.TemporaryDirectory(prefix="signup-lighthouse-") as directory:
        for name, url in addresses(base).items():
            reports = [lighthouse(url, Path(directory) / f"{name}-{n}.json") for n in range(runs)]
            each = [figures(report) for report in reports]
            page = {key: statistics.median(run[key] for run in each) for key in [*FIGURES, "requests"]}
            page["failed"] = sorted({audit for run in each for audit in run["failed"]})
            results["pages"][name] = page
            results["chromium"] = reports[0]["environment"]["hostUserAgent"].split("Chrome/")[1].split(" ")[0]
            results["lighthouse"] = reports[0]["lighthouseVersion"]
            say(f"  {PAGES[name]}: " + ", ".join(f"{key} {_value(key, page[key])}" for key in FIGURES))
    return results


def _value(key: str, value: float) -> str:
    if key == "cumulative-layout-shift":
        return f"{value:.3f}"
    if key.endswith("-paint"):
        return f"{value / 1000:.2f}"
    if key == "total-byte-weight":
        return f"{value / 1024:.1f}"
    if key == "bf-cache":
        return "yes" if value >= 1 else "no"
    return f"{value:g}"


def _met(key: str, value: float) -> bool | None:
    """The issue's targets: scores of 100, no layout shift, LCP within 1 s, a first visit within 8 KB."""
    targets = {
        "performance": value >= 100,
        "accessibility": value >= 100,
        "best-practices": value >= 100,
        "cumulative-layout-shift": value < 0.005,
        "largest-contentful-paint": value <= 1000,
        "total-byte-weight": value <= 8 * 1024,
        "bf-cache": value >= 1,
    }
    return targets.get(key)


def section(now: dict[str, Any], before: dict[str, Any] | None) -> list[str]:
    """The '## Pages on a slow phone' part of BENCHMARKS.md."""
    pages = now["pages"]
    old = before or {}
    header = "| | " + " | ".join(f"{PAGES[name]}: before | now" for name in PAGES) + " |"
    rows = []
    for key, title in FIGURES.items():
        cells = []
        for name in PAGES:
            value = pages[name][key]
            shown = _value(key, value)
            if key == "total-byte-weight":
                shown += f" ({pages[name]['requests']:g} requests)"
            met = _met(key, value)
            cells += [old.get(name, {}).get(key, ""), f"**{shown}**" if met is False else shown]
        rows.append(f"| {title} | " + " | ".join(cells) + " |")
    failed = [f"{PAGES[name]}: {', '.join(pages[name]['failed'])}" for name in PAGES if pages[name]["failed"]]
    lines = [
        "## Pages on a slow phone",
        "",
        f"Lighthouse {now['lighthouse']} in Chromium {now['chromium']}, mobile profile (a phone's screen; slow 4G "
        "simulated: 150 ms round trips, 1.6 Mbit/s, a CPU four times slower), over http on loopback; the median "
        f"of {now['runs']} runs a page, load average {now['load']:.2f} at the start. Targets: scores of 100, "
        "Cumulative Layout Shift 0.00, Largest Contentful Paint within 1.0 s, a first visit within 8 KB; a figure "
        "that misses its target is in bold. Transferred bytes count headers too.",
    ]
    if before:
        lines[-1] += f" *Before* is revision {before['revision']} ({before['when']})."
    lines += ["", header, "|---|" + "---|---|" * len(PAGES), *rows]
    if failed:
        lines += ["", "Audits that did not pass in some run: " + "; ".join(failed) + "."]
    return lines


def before_figures(now: dict[str, Any]) -> dict[str, dict[str, str]]:
    """The figures as bench/before.json keeps them, shown as the table shows them."""
    shown: dict[str, dict[str, str]] = {}
    for name, page in now["pages"].items():
        shown[name] = {key: _value(key, page[key]) for key in FIGURES}
        shown[name]["total-byte-weight"] += f" ({page['requests']:g} requests)"
    return shown


def splice(document: str, lines: list[str]) -> str:
    """BENCHMARKS.md with its pages section replaced (or added at the end) by `lines`."""
    heading = lines[0]
    start = document.find(heading)
    if start < 0:
        return document.rstrip("\n") + "\n\n" + "\n".join(lines) + "\n"
    end = document.find("\n## ", start + len(heading))
    rest = document[end:] if end >= 0 else "\n"
    return document[:start] + "\n".join(lines) + "\n" + rest
