//! Readiness for people: tenant and fleet readiness as one self-contained HTML page (inline
//! style and SVG charts, a Content Security Policy that lets nothing load) or as Markdown, and
//! the one-page guide for a tenant's users. Pure renderers over the wire types: no I/O, every
//! string from the wire escaped for where it lands.

mod escape;
mod facts;
mod html;
mod labels;
mod markdown;
mod page;
mod svg;
mod user_guide;

pub use html::{fleet_html, tenant_html};
pub use markdown::{fleet_markdown, tenant_markdown};
pub use page::CONTENT_SECURITY_POLICY;
pub use user_guide::{user_guide_html, user_guide_markdown};

#[cfg(test)]
mod tests;
