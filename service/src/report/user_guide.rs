//! The one-page guide for a tenant's users: what SSPR is, where to register, where to reset,
//! the Windows sign-in link when the tenant deploys it, how many methods a reset needs, and the
//! helpdesk. Written once as parts and paragraphs, then rendered as Markdown or HTML, so the
//! two formats say the same thing.

use std::fmt::Write;

use sspr_api::readiness::UserGuide;

use super::escape;
use super::labels::method_for_users;
use super::markdown::url_text;
use super::page::{html_page, link};

/// A run of text in a paragraph.
enum Inline {
    Text(String),
    Strong(String),
    /// A URL shown as itself, a link when it is safe to follow.
    Url(String),
}

enum Paragraph {
    Line(Vec<Inline>),
    List(Vec<Vec<Inline>>),
}

struct Part {
    heading: &'static str,
    paragraphs: Vec<Paragraph>,
}

fn text(words: impl Into<String>) -> Inline {
    Inline::Text(words.into())
}

fn title(guide: &UserGuide) -> String {
    format!(
        "Resetting your {} password yourself",
        guide.tenant.display_name
    )
}

fn parts(guide: &UserGuide) -> Vec<Part> {
    let organisation = &guide.tenant.display_name;
    let mut parts = vec![Part {
        heading: "What self-service password reset is",
        paragraphs: vec![Paragraph::Line(vec![text(format!(
            "If you forget your {organisation} password or your account is locked, you can \
             reset it yourself, at any hour, without waiting for the helpdesk. You prove it is \
             you with the methods you registered beforehand."
        ))])],
    }];

    let mut register = vec![Paragraph::Line(vec![
        text("Register now, before you need it, at "),
        Inline::Url(guide.portals.registration.clone()),
        text(". Sign in with your work account and add your methods."),
    ])];
    if !guide.methods.is_empty() {
        register.push(Paragraph::Line(vec![text("You can register:")]));
        register.push(Paragraph::List(
            guide
                .methods
                .iter()
                .map(|method| vec![text(method_for_users(method).unwrap_or(method))])
                .collect(),
        ));
    }
    match guide.methods_required {
        Some(1) => register.push(Paragraph::Line(vec![
            text("A reset asks for "),
            Inline::Strong("one".into()),
            text(" of your methods; registering two lets you reset when one is out of reach."),
        ])),
        Some(required) => register.push(Paragraph::Line(vec![
            text("A reset asks for "),
            Inline::Strong(format!("{required} different methods")),
            text(format!(", so register at least {required}.")),
        ])),
        None => {}
    }
    parts.push(Part {
        heading: "Register your methods",
        paragraphs: register,
    });

    let mut reset = vec![Paragraph::Line(vec![
        text("Go to "),
        Inline::Url(guide.portals.reset.clone()),
        text(", enter your work account and follow the steps."),
    ])];
    if guide.windows_reset_link {
        reset.push(Paragraph::Line(vec![
            text("On a Windows computer of "),
            text(organisation.clone()),
            text(", you can also select "),
            Inline::Strong("Reset password".into()),
            text(" below the password box on the sign-in screen."),
        ]));
    }
    parts.push(Part {
        heading: "Reset a forgotten password",
        paragraphs: reset,
    });

    let helpdesk = match &guide.helpdesk_link {
        Some(helpdesk) => vec![
            text("If you cannot reset your password, contact the helpdesk: "),
            Inline::Url(helpdesk.clone()),
            text("."),
        ],
        None => vec![text(
            "If you cannot reset your password, contact your IT helpdesk.",
        )],
    };
    parts.push(Part {
        heading: "If you cannot reset",
        paragraphs: vec![Paragraph::Line(helpdesk)],
    });
    parts
}

/// The guide as Markdown.
pub fn user_guide_markdown(guide: &UserGuide) -> String {
    let inline = |runs: &[Inline]| -> String {
        runs.iter()
            .map(|run| match run {
                Inline::Text(words) => escape::markdown(words),
                Inline::Strong(words) => format!("**{}**", escape::markdown(words)),
                Inline::Url(url) => url_text(url),
            })
            .collect()
    };
    let mut page = format!("# {}\n", escape::markdown(&title(guide)));
    for part in parts(guide) {
        let _ = write!(page, "\n## {}\n", part.heading);
        for paragraph in &part.paragraphs {
            match paragraph {
                Paragraph::Line(runs) => {
                    let _ = write!(page, "\n{}\n", inline(runs));
                }
                Paragraph::List(items) => {
                    page.push('\n');
                    for item in items {
                        let _ = writeln!(page, "- {}", inline(item));
                    }
                }
            }
        }
    }
    page
}

/// The guide as a self-contained HTML page.
pub fn user_guide_html(guide: &UserGuide) -> String {
    let inline = |runs: &[Inline]| -> String {
        runs.iter()
            .map(|run| match run {
                Inline::Text(words) => escape::html(words),
                Inline::Strong(words) => format!("<strong>{}</strong>", escape::html(words)),
                Inline::Url(url) => link(url, url),
            })
            .collect()
    };
    let mut body = format!(
        "<header>\n<h1>{}</h1>\n<p class=\"meta\">{}</p>\n</header>\n",
        escape::html(&title(guide)),
        escape::html(&guide.tenant.domain)
    );
    for part in parts(guide) {
        let _ = write!(body, "<section>\n<h2>{}</h2>\n", part.heading);
        for paragraph in &part.paragraphs {
            match paragraph {
                Paragraph::Line(runs) => {
                    let _ = writeln!(body, "<p>{}</p>", inline(runs));
                }
                Paragraph::List(items) => {
                    body.push_str("<ul>\n");
                    for item in items {
                        let _ = writeln!(body, "<li>{}</li>", inline(item));
                    }
                    body.push_str("</ul>\n");
                }
            }
        }
        body.push_str("</section>\n");
    }
    html_page(&title(guide), &body)
}
