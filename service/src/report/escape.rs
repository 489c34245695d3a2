//! Escaping every string that comes from the wire before it enters a page: tenant names, check
//! summaries, evidence values and links are data read from tenants (and, through the registry,
//! typed by operators), so none of them may become markup. No escaping crate is in the build, and
//! the rules are short enough to state and test here.

use std::fmt::Write;

/// `text` as HTML text or a double- or single-quoted attribute value: the five characters that
/// can end text or an attribute, or start markup, become character references.
pub fn html(text: &str) -> String {
    let mut escaped = String::with_capacity(text.len());
    for character in text.chars() {
        match character {
            '&' => escaped.push_str("&amp;"),
            '<' => escaped.push_str("&lt;"),
            '>' => escaped.push_str("&gt;"),
            '"' => escaped.push_str("&quot;"),
            '\'' => escaped.push_str("&#39;"),
            other => escaped.push(other),
        }
    }
    escaped
}

/// `text` as Markdown inline text on one line (a table cell or a list item): the characters
/// that start emphasis, links, code, raw HTML, entities, strikethrough or a table column are
/// backslash-escaped, and line breaks become spaces so that nothing starts a block.
pub fn markdown(text: &str) -> String {
    let mut escaped = String::with_capacity(text.len());
    for character in text.chars() {
        match character {
            '\\' | '`' | '*' | '_' | '[' | ']' | '<' | '>' | '|' | '&' | '~' | '#' | '!' => {
                escaped.push('\\');
                escaped.push(character);
            }
            '\r' | '\n' => escaped.push(' '),
            other => escaped.push(other),
        }
    }
    escaped
}

/// `text` as a Markdown code span: fenced by one backtick more than the longest run inside it
/// (CommonMark's rule), padded when it starts or ends with one, on one line.
pub fn markdown_code(text: &str) -> String {
    let text = text.replace(['\r', '\n'], " ");
    let mut longest_run = 0;
    let mut run = 0;
    for character in text.chars() {
        run = if character == '`' { run + 1 } else { 0 };
        longest_run = longest_run.max(run);
    }
    let fence = "`".repeat(longest_run + 1);
    let padding = if text.starts_with('`') || text.ends_with('`') {
        " "
    } else {
        ""
    };
    let mut span = String::new();
    let _ = write!(span, "{fence}{padding}{text}{padding}{fence}");
    span
}

/// `link` when it may become a link: an absolute `https:`, `http:` or `mailto:` URL, in the
/// serialization the `url` crate gives it (so the scheme checked is the one a browser would
/// see: leading blanks and control characters dropped, case folded). Anything else
/// (`javascript:`, `data:`, a relative path, text) is shown as text only.
pub fn safe_link(link: &str) -> Option<String> {
    let parsed = url::Url::parse(link.trim()).ok()?;
    matches!(parsed.scheme(), "https" | "http" | "mailto").then(|| parsed.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn html_escapes_what_can_start_markup_or_end_an_attribute() {
        assert_eq!(
            html(r#"<script>alert("x" & 'y')</script>"#),
            "&lt;script&gt;alert(&quot;x&quot; &amp; &#39;y&#39;)&lt;/script&gt;"
        );
        assert_eq!(html("Contoso Ltd. – Zürich"), "Contoso Ltd. – Zürich");
    }

    #[test]
    fn markdown_escapes_inline_syntax_and_keeps_one_line() {
        assert_eq!(
            markdown("a | b *c* _d_ [e](f) <g> `h` & ~i~ #j !k \\l\nm"),
            "a \\| b \\*c\\* \\_d\\_ \\[e\\](f) \\<g\\> \\`h\\` \\& \\~i\\~ \\#j \\!k \\\\l m"
        );
        assert_eq!(markdown("412 of 480 (85.8%)"), "412 of 480 (85.8%)");
    }

    #[test]
    fn a_code_span_is_fenced_longer_than_any_backtick_run_inside() {
        assert_eq!(markdown_code("sspr policy set"), "`sspr policy set`");
        assert_eq!(markdown_code("a `b` c"), "``a `b` c``");
        assert_eq!(markdown_code("``x"), "``` ``x ```");
        assert_eq!(markdown_code("a\nb | c"), "`a b | c`");
    }

    #[test]
    fn only_web_and_mail_links_are_links() {
        assert_eq!(
            safe_link("https://help.contoso.com/password").as_deref(),
            Some("https://help.contoso.com/password")
        );
        assert_eq!(
            safe_link("mailto:helpdesk@contoso.com").as_deref(),
            Some("mailto:helpdesk@contoso.com")
        );
        assert_eq!(
            safe_link("  HTTP://Example.com/a b").as_deref(),
            Some("http://example.com/a%20b")
        );
        for refused in [
            "javascript:alert(1)",
            " JaVaScRiPt:alert(1)",
            "\u{1}javascript:alert(1)",
            "data:text/html,<script>alert(1)</script>",
            "vbscript:msgbox",
            "file:///etc/passwd",
            "/relative/path",
            "call 555-0100",
            "",
        ] {
            assert_eq!(safe_link(refused), None, "{refused:?} must stay text");
        }
    }
}
