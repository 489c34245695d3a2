"""What .ci/report asserts about a page Chromium rendered. Python's standard library only.

  check_page.py dom PAGE.html DOM.html         the rendered DOM (--dump-dom) has every check,
                                               with its status, that the page has, nothing
                                               that loads or runs, and, when PAGE.expected.json
                                               exists, every check, cell and text the wire
                                               values say (written from the wire, not the page)
  check_page.py printed PAGE.html PDF.txt     every check's heading (its status in words and
                                               its title) is in the text of the printed page
                                               (pdftotext of --print-to-pdf): laid out, visible
  check_page.py netlog NET.json                no network activity on the page's behalf
  check_page.py netlog --expect X [--expect Y …] NET.json
                                               the method's own test: the activity of a page
                                               that does fetch X (and Y …) is found

Why the net log is sound: every fetch Chromium makes goes through its network stack, and
--log-net-log records each one (URL requests, preconnected sockets, DNS look-ups). A fetch on a
page's behalf carries the page as its initiator and its network partition key (`file://` for a
local page); the browser's own traffic (component updates, the network time fetch, account
look-ups, which --disable-background-networking does not all stop) has no initiator ("not an
origin") and other partition keys, so it is told apart without a list of known hosts. The canary
page of .ci/report (images, a preconnect, no policy) proves with this very
Chromium that such activity is logged and found before any page is judged by it. A fetch the
page's Content Security Policy blocks is never made, so it is not in the log: .ci/report finds
those in Chromium's console log instead, and the DOM check finds any element that would load.
"""

import json
import sys
import unicodedata
from html.parser import HTMLParser

LOADERS = {"script", "link", "img", "image", "iframe", "frame", "object", "embed", "source",
           "audio", "video", "use", "base", "track", "portal", "fencedframe"}
STATUSES = {"pass", "warn", "fail", "unknown", "notApplicable"}
CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:"
VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source",
        "track", "wbr"}


class Page(HTMLParser):
    """The elements that carry `data-check`, with their tenant, and what must not be there."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.stack = []  # (tag, tenant of the element or inherited)
        self.checks = []  # (element, tenant, check, status)
        self.problems = []
        self.text = []
        self.csp = []
        self.headings = []  # (check, the text of its article's heading)
        self.heading_depth = None  # the stack depth of the heading being read

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        tenant = attributes.get("data-tenant", self.stack[-1][1] if self.stack else None)
        if tag in LOADERS:
            self.problems.append(f"a <{tag}> element: {attrs}")
        for name, value in attrs:
            if name.startswith("on") or name in ("src", "srcset", "style", "background"):
                self.problems.append(f"<{tag}> has {name}={value!r}")
            if name in ("href", "xlink:href", "action", "formaction"):
                if tag != "a" or not (value or "").lower().startswith(("https:", "http:", "mailto:")):
                    self.problems.append(f"<{tag} {name}={value!r}> is not a web or mail link")
        if tag == "meta" and (attributes.get("http-equiv") or "").lower() == "content-security-policy":
            self.csp.append(attributes.get("content"))
        if "data-check" in attributes or "data-status" in attributes:
            self.checks.append((tag, tenant, attributes.get("data-check"), attributes.get("data-status")))
        if tag in ("h3", "h4") and any(t == "article" for t, _ in self.stack) and self.checks:
            self.headings.append((self.checks[-1][2], []))
            self.heading_depth = len(self.stack)
        if tag not in VOID:
            self.stack.append((tag, tenant))

    def handle_startendtag(self, tag, attrs):
        # `<rect .../>`: an element with no content, so nothing to pop at its end.
        self.handle_starttag(tag, attrs)
        if tag not in VOID and self.stack and self.stack[-1][0] == tag:
            self.stack.pop()

    def handle_endtag(self, tag):
        # The DOM Chromium serialises is balanced; pop to the matching element.
        for index in range(len(self.stack) - 1, -1, -1):
            if self.stack[index][0] == tag:
                del self.stack[index:]
                break
        if self.heading_depth is not None and len(self.stack) <= self.heading_depth:
            self.heading_depth = None

    def handle_data(self, data):
        self.text.append(data)
        if self.heading_depth is not None:
            self.headings[-1][1].append(data)


def read(path):
    page = Page()
    with open(path, encoding="utf-8") as file:
        page.feed(file.read())
    page.close()
    return page


def fail(message):
    print(f"FAILED: {message}", file=sys.stderr)
    sys.exit(1)


def expected_of(source_path):
    """What the wire values say the page shows (PAGE.expected.json), or {} when none is written."""
    try:
        with open(source_path[: -len(".html")] + ".expected.json", encoding="utf-8") as file:
            return json.load(file)
    except FileNotFoundError:
        return {}


def check_dom(source_path, dom_path):
    source, dom = read(source_path), read(dom_path)
    if dom.problems:
        fail(f"{dom_path}: " + "; ".join(dom.problems[:10]))
    if dom.csp != [CSP]:
        fail(f"{dom_path}: the Content Security Policy meta is {dom.csp}, not [{CSP!r}]")
    if not dom.checks and source.checks:
        fail(f"{dom_path}: no element with data-check in the rendered page")
    if sorted(map(str, dom.checks)) != sorted(map(str, source.checks)):
        missing = set(source.checks) - set(dom.checks)
        extra = set(dom.checks) - set(source.checks)
        fail(f"{dom_path}: the rendered checks differ from the page's: missing {sorted(map(str, missing))[:5]}, "
             f"extra {sorted(map(str, extra))[:5]}")
    for element, tenant, check, status in dom.checks:
        if status not in STATUSES and not (status == "problem" and check is None):
            fail(f"{dom_path}: <{element} data-check={check!r}> has status {status!r}")
        if tenant is None:
            fail(f"{dom_path}: <{element} data-check={check!r}> is in no tenant's element")
    # Every tenant's checks are the same set (one per check of the contract).
    per_tenant = {}
    for element, tenant, check, _ in dom.checks:
        if element == "article":
            per_tenant.setdefault(tenant, []).append(check)
    sets = {tenant: sorted(checks) for tenant, checks in per_tenant.items()}
    for tenant, checks in sets.items():
        if len(checks) != len(set(checks)):
            fail(f"{dom_path}: tenant {tenant!r} has a check twice: {checks}")
        if checks != next(iter(sets.values())):
            fail(f"{dom_path}: tenant {tenant!r} has other checks than the others: {checks}")

    expected = expected_of(source_path)
    if not expected:
        print(f"    {dom_path}: {len(dom.checks)} status elements, as in the page (no expectations written)")
        return
    articles = sorted((t, c, s) for e, t, c, s in dom.checks if e == "article")
    if articles != sorted(tuple(a) for a in expected["articles"]):
        fail(f"{dom_path}: the checks rendered are not the wire's: {articles[:3]}… "
             f"versus {sorted(map(tuple, expected['articles']))[:3]}…")
    cells = sorted((t, c, s) for e, t, c, s in dom.checks if e == "g")
    if cells != sorted(tuple(c) for c in expected["cells"]):
        fail(f"{dom_path}: the heat map's cells are not the matrix's")
    text = " ".join(" ".join(dom.text).split())
    for wanted in expected["texts"]:
        if " ".join(wanted.split()) not in text:
            fail(f"{dom_path}: the text {wanted!r} is not in the rendered page")
    print(f"    {dom_path}: {len(articles)} checks and {len(cells)} heat-map cells with the wire's statuses, "
          f"{len(expected['texts'])} texts as text")


def words(text):
    """`text` compared as printed: ligatures unfolded (NFKC), blanks and line breaks as one space."""
    return " ".join(unicodedata.normalize("NFKC", text).split())


# How far apart (in printed characters) a heading's parts may come out: pdftotext orders the
# pieces of one line by where they sit, so a status badge beside a title may be read before or
# after it.
NEARBY = 120


def printed_together(heading, printed):
    """Whether every part of `heading` (its text pieces: the status in words, the title) is in
    `printed`, the parts within NEARBY characters of one occurrence of the longest."""
    parts = [words(piece) for piece in heading if words(piece)]
    if not parts:
        return False
    anchor = max(parts, key=len)
    start = printed.find(anchor)
    while start >= 0:
        window = printed[max(0, start - NEARBY):start + len(anchor) + NEARBY]
        if all(part in window for part in parts):
            return True
        start = printed.find(anchor, start + 1)
    return False


def check_printed(source_path, text_path):
    source = read(source_path)
    with open(text_path, encoding="utf-8") as file:
        printed = words(file.read())
    articles = [check for element, _, check, _ in source.checks if element == "article"]
    if len(source.headings) != len(articles):
        fail(f"{source_path}: {len(articles)} checks but {len(source.headings)} check headings")
    for check, heading in source.headings:
        if not printed_together(heading, printed):
            fail(f"{text_path}: the heading {words(' '.join(heading))!r} of check {check} is not in the printed page")
    texts = expected_of(source_path).get("texts", [])
    for wanted in texts:
        if words(wanted) not in printed:
            fail(f"{text_path}: the text {wanted!r} is not in the printed page")
    print(f"    {text_path}: {len(source.headings)} check headings (status words included) "
          f"and {len(texts)} texts printed")


def page_activity(net_log_path):
    with open(net_log_path, encoding="utf-8") as file:
        log = json.load(file)
    names = {number: name for name, number in log["constants"]["logEventTypes"].items()}
    found, browser_own = [], set()
    for event in log["events"]:
        params = event.get("params") or {}
        kind = names.get(event.get("type"), str(event.get("type")))
        text = json.dumps(params)
        initiator = params.get("initiator")
        if "file://" in text or (kind == "URL_REQUEST_START_JOB" and initiator not in (None, "not an origin")):
            found.append(f"{kind} {text[:300]}")
        elif kind == "URL_REQUEST_START_JOB":
            if params.get("url"):
                browser_own.add(params["url"].split("?")[0])
    return found, browser_own


def check_net_log(arguments):
    expected = []
    while arguments[:1] == ["--expect"]:
        expected.append(arguments[1])
        arguments = arguments[2:]
    found, browser_own = page_activity(arguments[0])
    if expected:
        for expect in expected:
            if not any(expect in line for line in found):
                fail(f"the net log method does not see the canary's fetch of {expect}: {found[:5]}")
        print(f"    the canary's fetches are found: {', '.join(expected)} ({len(found)} events on its behalf)")
        return
    if found:
        fail(f"{arguments[0]}: network activity on the page's behalf: " + "\n  ".join(found[:10]))
    print(f"    {arguments[0]}: no network activity on the page's behalf "
          f"({len(browser_own)} requests of the browser's own set apart)")


if __name__ == "__main__":
    if sys.argv[1:2] == ["dom"] and len(sys.argv) == 4:
        check_dom(sys.argv[2], sys.argv[3])
    elif sys.argv[1:2] == ["printed"] and len(sys.argv) == 4:
        check_printed(sys.argv[2], sys.argv[3])
    elif sys.argv[1:2] == ["netlog"]:
        check_net_log(sys.argv[2:])
    else:
        fail(__doc__)
