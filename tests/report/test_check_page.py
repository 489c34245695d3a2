"""The browser check's own judge: check_page.py refuses what it must refuse. Run by .ci/report
(`python3 -m unittest discover -s tests/report`) before it opens any page."""

import contextlib
import io
import json
import os
import tempfile
import unittest

import check_page

CSP = '<meta http-equiv="Content-Security-Policy" content="default-src \'none\'; style-src \'unsafe-inline\'; img-src data:">'


def page(body, head=CSP):
    return f'<!DOCTYPE html><html><head><meta charset="utf-8">{head}</head><body>{body}</body></html>'


GOOD = page(
    '<section data-tenant="contoso.example">'
    '<article class="check" data-check="cloudLicence" data-status="pass"><h3><span>✓ pass</span> Licence</h3></article>'
    '<article class="check" data-check="registration" data-status="warn"><h3><span>! warn</span> Registration</h3></article>'
    '<a href="https://aka.ms/sspr">https://aka.ms/sspr</a></section>'
)
EXPECTED = {
    "articles": [["contoso.example", "cloudLicence", "pass"], ["contoso.example", "registration", "warn"]],
    "cells": [],
    "texts": ["https://aka.ms/sspr"],
}


class CheckPage(unittest.TestCase):
    def setUp(self):
        self.directory = tempfile.TemporaryDirectory()
        self.addCleanup(self.directory.cleanup)

    def write(self, name, text):
        path = os.path.join(self.directory.name, name)
        with open(path, "w", encoding="utf-8") as file:
            file.write(text if isinstance(text, str) else json.dumps(text))
        return path

    def judged(self, check, *arguments):
        """True when `check` accepts, False when it fails the page."""
        with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
            try:
                check(*arguments)
            except SystemExit as exit:
                self.assertEqual(exit.code, 1)
                return False
        return True

    def dom(self, rendered, expected=EXPECTED):
        source = self.write("page.html", GOOD)
        if expected is not None:
            self.write("page.expected.json", expected)
        return self.judged(check_page.check_dom, source, self.write("dom.html", rendered))

    def test_a_page_rendered_as_written_passes(self):
        self.assertTrue(self.dom(GOOD))
        self.assertTrue(self.dom(GOOD, expected=None))

    def test_a_missing_check_or_another_status_fails(self):
        self.assertFalse(self.dom(GOOD.replace('data-check="registration"', 'data-check="other"')))
        self.assertFalse(self.dom(GOOD.replace('data-status="warn"', 'data-status="pass"')))
        expected = dict(EXPECTED, articles=EXPECTED["articles"][:1])
        self.assertFalse(self.dom(GOOD, expected=expected), "a check the wire does not have")

    def test_anything_that_loads_or_runs_fails(self):
        for injected in ['<script>alert(1)</script>', '<img src="http://evil.example/x.png">',
                         '<link rel="stylesheet" href="https://cdn.example/x.css">',
                         '<p onclick="alert(1)">x</p>', '<a href="javascript:alert(1)">x</a>',
                         '<svg><image href="http://evil.example/x.png"/></svg>', '<iframe></iframe>']:
            self.assertFalse(self.dom(GOOD.replace("</section>", injected + "</section>")), injected)

    def test_the_policy_must_be_there(self):
        self.assertFalse(self.dom(GOOD.replace(CSP, "")))

    def test_text_the_wire_has_must_be_rendered(self):
        self.assertFalse(self.dom(GOOD.replace(">https://aka.ms/sspr<", ">elsewhere<")))

    def test_every_check_heading_must_be_printed(self):
        source = self.write("page.html", GOOD)
        self.write("page.expected.json", EXPECTED)
        printed = "✓ pass Licence\n! warn\nRegistration\nhttps://aka.ms/sspr\n"
        self.assertTrue(self.judged(check_page.check_printed, source, self.write("p.txt", printed)))
        hidden = "✓ pass Licence\nhttps://aka.ms/sspr\n"
        self.assertFalse(self.judged(check_page.check_printed, source, self.write("p.txt", hidden)))
        # pdftotext may read a badge after the title it sits beside: still that heading.
        reordered = "Licence\n✓ pass\nRegistration\n! warn\nhttps://aka.ms/sspr\n"
        self.assertTrue(self.judged(check_page.check_printed, source, self.write("p.txt", reordered)))
        # A title without its status nearby is not the heading printed.
        far = "Licence\n" + "x " * 200 + "\n✓ pass\n! warn Registration\nhttps://aka.ms/sspr\n"
        self.assertFalse(self.judged(check_page.check_printed, source, self.write("p.txt", far)))

    def net_log(self, *events):
        constants = {"logEventTypes": {"URL_REQUEST_START_JOB": 1, "HOST_RESOLVER_MANAGER_REQUEST": 2}}
        return self.write("net.json", {"constants": constants, "events": list(events)})

    def test_the_browsers_own_requests_are_set_apart(self):
        own = {"type": 1, "params": {"url": "https://update.googleapis.com/x", "initiator": "not an origin"}}
        self.assertTrue(self.judged(check_page.check_net_log, [self.net_log(own)]))

    def test_a_fetch_on_the_pages_behalf_fails(self):
        request = {"type": 1, "params": {"url": "https://cdn.example/x.css", "initiator": "null"}}
        preconnect = {"type": 2, "params": {"host": "https://cdn.example",
                                            "network_anonymization_key": "file:// [internally: file://] same_site"}}
        for event in (request, preconnect):
            self.assertFalse(self.judged(check_page.check_net_log, [self.net_log(event)]), event)
        log = self.net_log(request)
        self.assertTrue(self.judged(check_page.check_net_log, ["--expect", "cdn.example/x.css", log]))
        self.assertFalse(self.judged(check_page.check_net_log, ["--expect", "other.example", log]))


if __name__ == "__main__":
    unittest.main()
