//! The renderers' structure on the contract's examples and on hostile input, and the pages the
//! browser check (`.ci/report`) opens in headless Chromium.

use serde_json::{Value, json};
use sspr_api::policy::Source;
use sspr_api::readiness::{
    CheckId, Evidence, FleetReadiness, FleetReadinessEntry, ReadinessMatrix, Remedy,
    TenantReadiness, UserGuide,
};

use super::*;

fn tenant() -> TenantReadiness {
    serde_json::from_value(sspr_api::examples::tenant_readiness()).expect("the example")
}

fn fleet() -> FleetReadiness {
    serde_json::from_value(sspr_api::examples::fleet_readiness()).expect("the example")
}

/// Contoso's guide, as the readiness example describes the tenant.
fn guide() -> UserGuide {
    let readiness = tenant();
    UserGuide {
        tenant: readiness.tenant,
        helpdesk_link: Some("https://help.contoso.com/password".into()),
        methods_required: Some(2),
        methods: [
            "mobilePhone",
            "email",
            "microsoftAuthenticator",
            "securityQuestions",
        ]
        .map(String::from)
        .to_vec(),
        windows_reset_link: false,
        portals: readiness.portals,
    }
}

/// Markup, attribute breakouts, a script URL, Markdown table and code syntax: everywhere the
/// wire gives text.
const HOSTILE: &str = "</section><script>alert(1)</script>\"'><img src=http://evil.example/x.png onerror=alert(2)> | *x* `y` [z](javascript:alert(3))";

fn hostile_tenant() -> TenantReadiness {
    let mut readiness = tenant();
    readiness.tenant.display_name = format!("Evil {HOSTILE}");
    readiness.tenant.domain = "evil\"><script>alert(4)</script>.example".into();
    readiness.read_at = HOSTILE.into();
    for check in &mut readiness.checks {
        check.title = format!("{} {HOSTILE}", check.title);
        check.summary = HOSTILE.into();
        check.evidence.push(Evidence {
            name: HOSTILE.into(),
            value: HOSTILE.into(),
            source: Source::Inferred,
        });
        check.remedy = Some(Remedy {
            text: HOSTILE.into(),
            command: Some(format!("sspr x ``{HOSTILE}``")),
            portal: Some(HOSTILE.into()),
        });
    }
    readiness.portals.registration = "javascript:alert(5)".into();
    readiness.portals.reset = "data:text/html,<script>alert(6)</script>".into();
    readiness.portals.all[0].url = " JAVASCRIPT:alert(7)".into();
    readiness.portals.all[1].purpose = HOSTILE.into();
    readiness
}

fn hostile_fleet() -> FleetReadiness {
    let readiness = hostile_tenant();
    let entries = vec![
        FleetReadinessEntry {
            tenant: readiness.tenant.id.clone(),
            domain: readiness.tenant.domain.clone(),
            readiness: Some(readiness),
            problem: None,
        },
        FleetReadinessEntry {
            tenant: format!("id {HOSTILE}"),
            domain: format!("broken {HOSTILE}"),
            readiness: None,
            problem: Some(json!({ "title": HOSTILE, "detail": HOSTILE, "status": 502 })),
        },
    ];
    FleetReadiness {
        matrix: ReadinessMatrix::of(&entries),
        failed: 1,
        tenants: entries,
    }
}

fn hostile_guide() -> UserGuide {
    UserGuide {
        tenant: hostile_tenant().tenant,
        helpdesk_link: Some("javascript:alert(8)".into()),
        methods_required: Some(1),
        methods: vec![HOSTILE.into(), "email".into()],
        windows_reset_link: true,
        portals: hostile_tenant().portals,
    }
}

/// The elements of `page` in document order, as (name, attributes), with the problems of its
/// nesting: an end tag without its start, or a start tag never ended. Only this renderer's own
/// markup can contain `<`, since every wire string is escaped, so this simple reading of it
/// is exact; an escaping slip shows up as a stray or unbalanced element.
fn elements(page: &str) -> (Vec<(String, String)>, Vec<String>) {
    const VOID: [&str; 4] = ["meta", "br", "hr", "input"];
    let mut found = Vec::new();
    let mut problems = Vec::new();
    let mut open: Vec<String> = Vec::new();
    let mut rest = page;
    while let Some(start) = rest.find('<') {
        let Some(end) = rest[start..].find('>') else {
            problems.push("a `<` with no `>`".into());
            break;
        };
        let tag = &rest[start + 1..start + end];
        rest = &rest[start + end + 1..];
        if tag.starts_with('!') {
            continue;
        }
        if let Some(name) = tag.strip_prefix('/') {
            match open.pop() {
                Some(opened) if opened == name => {}
                other => problems.push(format!("</{name}> closes {other:?}")),
            }
            continue;
        }
        let (name, attributes) = tag.split_once([' ', '\n']).unwrap_or((tag, ""));
        let name = name.trim_end_matches('/').to_ascii_lowercase();
        if !(tag.ends_with('/') || VOID.contains(&name.as_str())) {
            open.push(name.clone());
        }
        if name == "style" {
            // Style sheets hold no markup; skip to their end tag.
            let close = rest.find("</style>").unwrap_or(rest.len());
            rest = &rest[close..];
        }
        found.push((name, attributes.to_owned()));
    }
    problems.extend(open.into_iter().map(|name| format!("<{name}> never ends")));
    (found, problems)
}

/// The attributes of a start tag, as (name, value): this renderer quotes every value with `"`,
/// which escaping keeps out of values.
fn attribute_pairs(attributes: &str) -> Vec<(String, String)> {
    let mut pairs = Vec::new();
    let mut rest = attributes.trim_start();
    while !rest.is_empty() && rest != "/" {
        let name_end = rest.find(['=', ' ', '\n', '/']).unwrap_or(rest.len());
        let name = rest[..name_end].to_ascii_lowercase();
        rest = &rest[name_end..];
        let value = match rest.strip_prefix("=\"") {
            Some(quoted) => {
                let end = quoted.find('"').expect("a closing quote");
                rest = &quoted[end + 1..];
                quoted[..end].to_owned()
            }
            None => {
                rest = rest.get(1..).unwrap_or("");
                String::new()
            }
        };
        if !name.is_empty() {
            pairs.push((name, value));
        }
        rest = rest.trim_start();
    }
    pairs
}

/// Everything a page must be to open on its own: well formed, its policy declared, no element
/// that loads anything, links only to web or mail addresses.
fn assert_self_contained(page: &str, what: &str) {
    let (found, problems) = elements(page);
    assert!(
        problems.is_empty(),
        "{what} is not well formed: {problems:?}"
    );
    assert!(
        page.contains(&format!(
            "<meta http-equiv=\"Content-Security-Policy\" content=\"{CONTENT_SECURITY_POLICY}\">"
        )),
        "{what} declares its policy"
    );
    const LOADERS: [&str; 13] = [
        "script", "link", "img", "image", "iframe", "frame", "object", "embed", "source", "audio",
        "video", "use", "base",
    ];
    for (name, attributes) in &found {
        assert!(
            !LOADERS.contains(&name.as_str()),
            "{what} has a <{name} {attributes}>"
        );
        for (attribute, value) in attribute_pairs(attributes) {
            assert!(
                attribute != "src" && !attribute.starts_with("on") && attribute != "style",
                "{what}: <{name} {attributes}> has a {attribute}"
            );
            if attribute == "href" {
                assert_eq!(name, "a", "{what}: only links have an href");
                assert!(
                    ["https:", "http:", "mailto:"]
                        .iter()
                        .any(|scheme| value.starts_with(scheme)),
                    "{what}: <a href=\"{value}\"> is not a web or mail link"
                );
            }
        }
    }
    let style = &page[page.find("<style>").expect("a style")..page.find("</style>").unwrap()];
    assert!(
        !style.contains("url(") && !style.contains("@import"),
        "{what}'s style loads nothing"
    );
}

#[test]
fn every_check_is_on_the_tenant_page_with_all_it_says() {
    let readiness = tenant();
    let page = tenant_html(&readiness);
    assert_self_contained(&page, "the tenant page");
    assert_eq!(readiness.checks.len(), CheckId::ALL.len());
    assert_eq!(
        page.matches("<article class=\"check").count(),
        CheckId::ALL.len()
    );
    for check in &readiness.checks {
        let element = format!(
            "data-check=\"{}\" data-status=\"{}\"",
            check.id.as_str(),
            check.status.as_str()
        );
        assert_eq!(page.matches(&element).count(), 1, "{element}");
        let article = &page[page.find(&element).unwrap()..];
        let article = &article[..article.find("</article>").unwrap()];
        assert!(
            article.contains(&escape::html(&check.title)),
            "{:?}",
            check.id
        );
        assert!(
            article.contains(&escape::html(&check.summary)),
            "{:?}",
            check.id
        );
        assert!(
            article.contains(&labels::status_label(check.status)),
            "{:?}",
            check.id
        );
        for evidence in &check.evidence {
            assert!(article.contains(&format!(
                "<td>{}</td><td>{}</td>",
                escape::html(&evidence.value),
                labels::source_word(evidence.source)
            )));
        }
        if let Some(remedy) = &check.remedy {
            assert!(article.contains(&escape::html(&remedy.text)));
            if let Some(command) = &remedy.command {
                assert!(article.contains(&format!("<code>{}</code>", escape::html(command))));
            }
            if let Some(portal) = &remedy.portal {
                assert!(article.contains(&escape::html(portal)));
            }
        }
    }
    assert!(page.contains("412 of 480 SSPR-enabled members registered (85.8%)"));
    assert!(page.contains("<strong>0 points still available</strong> of 10"));
    assert!(page.contains("MFARegistrationV2: 9 of 9 points"));
    assert!(page.contains("<a href=\"https://aka.ms/sspr\" rel=\"noopener noreferrer\">"));
}

#[test]
fn the_fleet_page_has_every_cell_every_tenant_and_every_problem() {
    let fleet = fleet();
    let page = fleet_html(&fleet);
    assert_self_contained(&page, "the fleet page");
    for row in &fleet.matrix.rows {
        match &row.statuses {
            Some(statuses) => {
                for (id, status) in fleet.matrix.checks.iter().zip(statuses) {
                    let cell = format!(
                        "<g class=\"cell\" data-tenant=\"{}\" data-check=\"{}\" data-status=\"{}\">",
                        row.domain,
                        id.as_str(),
                        status.as_str()
                    );
                    assert_eq!(page.matches(&cell).count(), 1, "{cell}");
                }
            }
            None => assert!(page.contains(&format!(
                "<g class=\"cell\" data-tenant=\"{}\" data-status=\"problem\">",
                row.domain
            ))),
        }
    }
    let contoso = &page[page
        .find("<section class=\"tenant\" data-tenant=\"contoso.onmicrosoft.com\">")
        .expect("Contoso's section")..];
    let contoso = &contoso[..contoso.find("</section>").unwrap()];
    assert_eq!(
        contoso.matches("<article class=\"check").count(),
        CheckId::ALL.len()
    );
    assert!(page.contains(
        "Token refused: Entra refused the credential for tenant fabrikam.onmicrosoft.com: the client secret expired."
    ));
    assert!(page.contains("2 tenants: 1 read, 1 without readiness."));
}

#[test]
fn hostile_text_stays_text_in_every_page() {
    let pages = [
        ("tenant", tenant_html(&hostile_tenant())),
        ("fleet", fleet_html(&hostile_fleet())),
        ("guide", user_guide_html(&hostile_guide())),
    ];
    for (what, page) in &pages {
        assert_self_contained(page, what);
        assert!(!page.contains("<script"), "{what}");
        assert!(
            !page.to_ascii_lowercase().contains("href=\"javascript"),
            "{what}"
        );
        assert!(!page.contains("href=\"data:"), "{what}");
    }
    let (_, tenant_page) = &pages[0];
    assert!(tenant_page.contains(&escape::html(HOSTILE)));
    assert!(
        tenant_page.contains("JAVASCRIPT:alert(7)"),
        "the refused URL is shown as text"
    );
}

/// `text` with its code spans (a run of backticks to the next run of as many) taken out.
fn without_code_spans(text: &str) -> String {
    let mut kept = String::new();
    let mut rest = text;
    while let Some(start) = rest.find('`') {
        if start > 0 && rest.as_bytes()[start - 1] == b'\\' {
            kept.push_str(&rest[..=start]);
            rest = &rest[start + 1..];
            continue;
        }
        kept.push_str(&rest[..start]);
        let run = rest[start..].len() - rest[start..].trim_start_matches('`').len();
        let fence = &rest[start..start + run];
        let after = &rest[start + run..];
        let mut search = 0;
        let close = loop {
            match after[search..].find(fence) {
                Some(at) => {
                    let at = search + at;
                    let longer = after[at + run..].starts_with('`');
                    if !longer && (at == 0 || after.as_bytes()[at - 1] != b'`') {
                        break Some(at);
                    }
                    search = at + after[at..].len() - after[at..].trim_start_matches('`').len();
                }
                None => break None,
            }
        };
        match close {
            Some(at) => rest = &after[at + run..],
            None => panic!("an unclosed code span at {}", &rest[start..]),
        }
    }
    kept.push_str(rest);
    kept
}

#[test]
fn hostile_text_stays_text_in_markdown() {
    let readiness = hostile_tenant();
    for text in [
        tenant_markdown(&readiness),
        fleet_markdown(&hostile_fleet()),
        user_guide_markdown(&hostile_guide()),
    ] {
        // Every table line has as many cells as its table: a check's row 3, the matrix's 15.
        for line in text.lines().filter(|line| line.starts_with('|')) {
            let pipes = line.matches('|').count() - line.matches("\\|").count();
            assert!(pipes == 4 || pipes == CheckId::ALL.len() + 2, "{line}");
        }
        // Raw HTML and links need an unescaped `<` or `[` outside code spans (whose text is
        // literal): the only `<` left open start the autolinks of safe URLs, and no `[` is.
        let text = without_code_spans(&text);
        for (at, _) in text.match_indices('<') {
            let escaped = at > 0 && text.as_bytes()[at - 1] == b'\\';
            let autolink = ["<https://", "<http://", "<mailto:"]
                .iter()
                .any(|start| text[at..].starts_with(start));
            assert!(escaped || autolink, "an open `<` at {}", &text[at..]);
        }
        for (at, _) in text.match_indices('[') {
            assert_eq!(
                text.as_bytes()[at - 1],
                b'\\',
                "an open `[` at {}",
                &text[at..]
            );
        }
    }
    let text = tenant_markdown(&readiness);
    assert!(text.contains(&escape::markdown(HOSTILE)));
    assert!(text.contains(&escape::markdown_code(&format!("sspr x ``{HOSTILE}``"))));
}

#[test]
fn the_markdown_has_every_check_and_the_matrix() {
    let readiness = tenant();
    let text = tenant_markdown(&readiness);
    for check in &readiness.checks {
        let row = format!(
            "| {} | {} | {} |",
            escape::markdown(&check.title),
            labels::status_label(check.status),
            escape::markdown(&check.summary)
        );
        assert!(text.contains(&row), "{row}");
        assert!(text.contains(&format!(
            "### {} · {}",
            labels::status_label(check.status),
            escape::markdown(&check.title)
        )));
        if let Some(command) = check.remedy.as_ref().and_then(|r| r.command.as_ref()) {
            assert!(text.contains(&format!("  - Command: `{command}`")));
        }
    }
    assert!(
        text.contains("Registration coverage: 412 of 480 SSPR-enabled members registered (85.8%).")
    );
    assert!(text.contains("- <https://aka.ms/sspr>: Reset a forgotten password"));

    let fleet = fleet();
    let text = fleet_markdown(&fleet);
    assert!(text.contains(
        "| contoso.onmicrosoft.com | ✓ | ✓ | ✓ | ✓ | ✓ | ! | ✓ | ✓ | ✗ | ✓ | ? | ! | ✓ | ✓ |"
    ));
    assert!(text.contains("| fabrikam.onmicrosoft.com | ✗ no readiness |"));
    assert!(text.contains("9 Windows sign-in screen link"));
    assert!(text.contains(
        "- **fabrikam.onmicrosoft.com** (8a6e4d2c-1b3f-4c5d-a7e9-0f1e2d3c4b5a): Token refused"
    ));
    assert_eq!(
        text.matches("\n### Checks\n").count(),
        1,
        "Contoso's checks, under its heading"
    );
}

#[test]
fn the_user_guide_says_where_to_register_and_reset_and_who_helps() {
    let mut guide = guide();
    let page = user_guide_html(&guide);
    assert_self_contained(&page, "the user guide");
    for url in [
        "https://aka.ms/setupsecurityinfo",
        "https://aka.ms/sspr",
        "https://help.contoso.com/password",
    ] {
        assert!(page.contains(&format!("<a href=\"{url}\"")), "{url}");
    }
    assert!(page.contains("<strong>2 different methods</strong>, so register at least 2."));
    assert!(page.contains("<li>the Microsoft Authenticator app</li>"));
    assert!(!page.contains("Reset password</strong> below the password box"));
    let text = user_guide_markdown(&guide);
    assert!(text.contains("<https://aka.ms/setupsecurityinfo>"));
    assert!(text.contains("contact the helpdesk: <https://help.contoso.com/password>."));

    guide.windows_reset_link = true;
    guide.helpdesk_link = None;
    guide.methods_required = Some(1);
    let page = user_guide_html(&guide);
    assert!(page.contains("<strong>Reset password</strong> below the password box"));
    assert!(page.contains("contact your IT helpdesk."));
    assert!(page.contains("<strong>one</strong> of your methods"));
    assert!(user_guide_markdown(&guide).contains("**Reset password**"));

    let hostile = user_guide_html(&hostile_guide());
    assert!(
        hostile.contains(
            "contact the helpdesk: <span class=\"not-a-link\">javascript:alert(8)</span>"
        )
    );
}

/// What the browser check must find in a page's rendered DOM, from the wire values (not from
/// the page): each check's element with its status inside its tenant's element, each matrix
/// cell, and texts that must be there as text.
fn expectations(
    readiness: &[&TenantReadiness],
    matrix: Option<&ReadinessMatrix>,
    texts: &[&str],
) -> Value {
    let articles: Vec<Value> = readiness
        .iter()
        .flat_map(|r| {
            r.checks
                .iter()
                .map(|c| json!([r.tenant.domain, c.id.as_str(), c.status.as_str()]))
        })
        .collect();
    let cells: Vec<Value> = matrix
        .map(|m| {
            m.rows
                .iter()
                .flat_map(|row| match &row.statuses {
                    Some(statuses) => m
                        .checks
                        .iter()
                        .zip(statuses)
                        .map(|(id, s)| json!([row.domain, id.as_str(), s.as_str()]))
                        .collect(),
                    None => vec![json!([row.domain, null, "problem"])],
                })
                .collect()
        })
        .unwrap_or_default();
    json!({ "articles": articles, "cells": cells, "texts": texts })
}

/// The pages `.ci/report` opens in headless Chromium, written to `SSPR_REPORT_DIR` when it is
/// set (each with `<name>.expected.json`); well formed and self-contained either way.
#[test]
fn pages_for_the_browser() {
    let readiness = tenant();
    let fleet = fleet();
    let guide = guide();
    let hostile = hostile_fleet();
    let hostile_readiness: Vec<&TenantReadiness> = hostile
        .tenants
        .iter()
        .filter_map(|e| e.readiness.as_ref())
        .collect();
    let fleet_readiness: Vec<&TenantReadiness> = fleet
        .tenants
        .iter()
        .filter_map(|e| e.readiness.as_ref())
        .collect();
    let pages = [
        (
            "tenant",
            tenant_html(&readiness),
            expectations(&[&readiness], None, &["Contoso"]),
        ),
        (
            "fleet",
            fleet_html(&fleet),
            expectations(
                &fleet_readiness,
                Some(&fleet.matrix),
                &["fabrikam.onmicrosoft.com"],
            ),
        ),
        (
            "user-guide",
            user_guide_html(&guide),
            expectations(
                &[],
                None,
                &[
                    "https://aka.ms/setupsecurityinfo",
                    "https://aka.ms/sspr",
                    "https://help.contoso.com/password",
                ],
            ),
        ),
        (
            "escaping",
            fleet_html(&hostile),
            expectations(
                &hostile_readiness,
                Some(&hostile.matrix),
                &[HOSTILE, "JAVASCRIPT:alert(7)"],
            ),
        ),
        (
            "escaping-user-guide",
            user_guide_html(&hostile_guide()),
            expectations(&[], None, &[HOSTILE, "javascript:alert(8)"]),
        ),
    ];
    for (name, page, _) in &pages {
        assert_self_contained(page, name);
    }
    let Some(directory) = std::env::var_os("SSPR_REPORT_DIR") else {
        return;
    };
    let directory = std::path::PathBuf::from(directory);
    std::fs::create_dir_all(&directory).expect("the report directory");
    for (name, page, expected) in &pages {
        std::fs::write(directory.join(format!("{name}.html")), page).expect("a page");
        std::fs::write(
            directory.join(format!("{name}.expected.json")),
            serde_json::to_string_pretty(expected).expect("JSON"),
        )
        .expect("its expectations");
    }
}
