//! The log format: text for a terminal, or one JSON object per line for a log pipeline
//! (`SSPR_LOG_FORMAT=json`). Either way every line logged while a request is served carries its
//! span: `request_id`, `method`, `route` (the route template) and `tenant` (as the path names
//! it), set in `api::request_span` and `telemetry::http`.

use tracing_subscriber::EnvFilter;

/// `SSPR_LOG_FORMAT` / `--log-format`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum LogFormat {
    #[default]
    Text,
    Json,
}

impl std::str::FromStr for LogFormat {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, String> {
        match text.trim().to_ascii_lowercase().as_str() {
            "text" => Ok(LogFormat::Text),
            "json" => Ok(LogFormat::Json),
            other => Err(format!(
                "SSPR_LOG_FORMAT (--log-format) is `text` or `json`, not `{other}`"
            )),
        }
    }
}

/// Installs the process's log subscriber on standard error; `RUST_LOG` overrides `default`.
pub fn init(default: &str, format: LogFormat) {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(default));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    match format {
        // The spans from the request's outermost in: a log query finds a request's fields in
        // `spans[0]` whichever span logged the line.
        LogFormat::Json => builder
            .json()
            .with_current_span(false)
            .with_span_list(true)
            .init(),
        LogFormat::Text => builder.init(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_format_is_text_or_json_and_anything_else_names_the_variable() {
        assert_eq!("json".parse::<LogFormat>(), Ok(LogFormat::Json));
        assert_eq!(" Text ".parse::<LogFormat>(), Ok(LogFormat::Text));
        let error = "xml".parse::<LogFormat>().expect_err("refused");
        assert!(
            error.contains("SSPR_LOG_FORMAT") && error.contains("xml"),
            "{error}"
        );
    }
}
