//! The frame of every HTML page: one self-contained document. Its Content Security Policy
//! forbids every fetch (no script, font, style sheet, frame or image from anywhere) except
//! the inline style and `data:` images, so even a value that slipped past escaping could not
//! load anything; the style sheet is inline and prints in colour, one check never split
//! across pages.

use super::escape;

/// The page's policy: nothing may be fetched; inline style and `data:` images only.
pub const CONTENT_SECURITY_POLICY: &str =
    "default-src 'none'; style-src 'unsafe-inline'; img-src data:";

const STYLE: &str = "\
:root{--pass:#1b7f3b;--warn:#b26a00;--fail:#b3261e;--unknown:#5f6368;--notApplicable:#9aa0a6;--problem:#6d2b2b}
*{box-sizing:border-box}
body{font:15px/1.45 system-ui,-apple-system,'Segoe UI',Roboto,'Liberation Sans',sans-serif;color:#1f1f1f;margin:0 auto;max-width:1180px;padding:24px}
h1{font-size:26px;margin:0 0 4px}h2{font-size:20px;margin:28px 0 10px;border-bottom:1px solid #ddd;padding-bottom:4px}
h3{font-size:16px;margin:16px 0 6px}.check h3,.check h4{font-size:16px;margin:0 0 6px}.meta{color:#555;margin:0 0 12px}
.badge{display:inline-block;min-width:7.5em;padding:1px 8px;border-radius:10px;color:#fff;font-weight:600;font-size:13px;margin-right:6px}
.badge.s-pass{background:var(--pass)}.badge.s-warn{background:var(--warn)}.badge.s-fail{background:var(--fail)}
.badge.s-unknown{background:var(--unknown)}.badge.s-notApplicable{background:var(--notApplicable);color:#1f1f1f}
.badge.s-problem{background:var(--problem)}
svg .s-pass{fill:var(--pass)}svg .s-warn{fill:var(--warn)}svg .s-fail{fill:var(--fail)}
svg .s-unknown{fill:var(--unknown)}svg .s-notApplicable{fill:var(--notApplicable)}svg .s-problem{fill:var(--problem)}
svg .track{fill:#e8eaed}svg text{font:12px system-ui,'Liberation Sans',sans-serif;fill:#1f1f1f}
svg .cell text{fill:#fff;font-weight:700}svg .cell .s-notApplicable+text{fill:#1f1f1f}
svg text.column,svg text.row{font-size:12px}
.check{border:1px solid #ddd;border-left:6px solid var(--unknown);border-radius:4px;padding:10px 14px;margin:10px 0;break-inside:avoid}
.check.s-pass{border-left-color:var(--pass)}.check.s-warn{border-left-color:var(--warn)}.check.s-fail{border-left-color:var(--fail)}
.check.s-notApplicable{border-left-color:var(--notApplicable)}
.summary-line{margin:0 0 8px}
table{border-collapse:collapse;margin:6px 0;font-size:14px}th,td{border:1px solid #ddd;padding:3px 8px;text-align:left;vertical-align:top}
th{background:#f5f5f5}
code{font:13px ui-monospace,'DejaVu Sans Mono','Liberation Mono',monospace;background:#f3f3f3;padding:1px 4px;border-radius:3px;overflow-wrap:anywhere}
.remedy{background:#fbf7ee;border-radius:4px;padding:6px 10px;margin-top:6px}.remedy p{margin:2px 0}
.counts{display:flex;flex-wrap:wrap;gap:6px;list-style:none;padding:0}
.tenant{margin-top:32px}.problem-detail{color:#6d2b2b}
@media print{body{max-width:none;padding:0;font-size:12px}*{-webkit-print-color-adjust:exact;print-color-adjust:exact}
h2{break-after:avoid}.tenant-title{break-before:page}a{color:inherit}}
";

/// A complete page titled `title` (escaped here) around `body` (markup already escaped).
pub fn html_page(title: &str, body: &str) -> String {
    format!(
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta http-equiv=\"Content-Security-Policy\" content=\"{CONTENT_SECURITY_POLICY}\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <meta name=\"referrer\" content=\"no-referrer\">\n\
         <title>{title}</title>\n<style>\n{STYLE}</style>\n</head>\n<body>\n{body}</body>\n</html>\n",
        title = escape::html(title),
    )
}

/// `text` as a link to `url` when the URL is safe to follow (see [`escape::safe_link`]),
/// else `url` shown as text next to `text`'s words.
pub fn link(text: &str, url: &str) -> String {
    match escape::safe_link(url) {
        Some(href) => format!(
            "<a href=\"{}\" rel=\"noopener noreferrer\">{}</a>",
            escape::html(&href),
            escape::html(text)
        ),
        None if text == url => format!("<span class=\"not-a-link\">{}</span>", escape::html(url)),
        None => format!(
            "{} (<span class=\"not-a-link\">{}</span>)",
            escape::html(text),
            escape::html(url)
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_frame_declares_the_policy_and_escapes_its_title() {
        let page = html_page("<Contoso & Co>", "<p>body</p>");
        assert!(page.starts_with("<!DOCTYPE html>"));
        assert!(page.contains(
            "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; \
             style-src 'unsafe-inline'; img-src data:\">"
        ));
        assert!(page.contains("<title>&lt;Contoso &amp; Co&gt;</title>"));
        assert!(page.contains("<p>body</p>"));
    }

    #[test]
    fn only_safe_urls_become_links() {
        assert_eq!(
            link("Helpdesk", "https://help.contoso.com/a?b=\"c\""),
            "<a href=\"https://help.contoso.com/a?b=%22c%22\" rel=\"noopener noreferrer\">Helpdesk</a>"
        );
        assert_eq!(
            link("Helpdesk", "javascript:alert('x')"),
            "Helpdesk (<span class=\"not-a-link\">javascript:alert(&#39;x&#39;)</span>)"
        );
        assert_eq!(
            link("javascript:x", "javascript:x"),
            "<span class=\"not-a-link\">javascript:x</span>"
        );
    }
}
