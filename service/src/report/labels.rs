//! The words and symbols a report shows for the wire's codes. A status is always shown as a
//! symbol and a word, never as a colour alone, so the page reads the same in greyscale, in
//! print and to a screen reader.

use sspr_api::policy::Source;
use sspr_api::readiness::CheckStatus;

/// The symbol of a status, drawn next to its word and inside heat-map cells.
pub fn status_symbol(status: CheckStatus) -> &'static str {
    match status {
        CheckStatus::Pass => "✓",
        CheckStatus::Warn => "!",
        CheckStatus::Fail => "✗",
        CheckStatus::Unknown => "?",
        CheckStatus::NotApplicable => "–",
    }
}

/// The status in words.
pub fn status_word(status: CheckStatus) -> &'static str {
    match status {
        CheckStatus::Pass => "pass",
        CheckStatus::Warn => "warn",
        CheckStatus::Fail => "fail",
        CheckStatus::Unknown => "unknown",
        CheckStatus::NotApplicable => "not applicable",
    }
}

/// Symbol and word together (`✗ fail`).
pub fn status_label(status: CheckStatus) -> String {
    format!("{} {}", status_symbol(status), status_word(status))
}

/// Where an evidence value came from, in words.
pub fn source_word(source: Source) -> &'static str {
    match source {
        Source::Graph => "Microsoft Graph",
        Source::Portal => "Entra portal back end",
        Source::Inferred => "inferred",
        Source::Unavailable => "unavailable",
    }
}

/// A reset method as its users know it; a name this list lacks is shown as it came.
pub fn method_for_users(method: &str) -> Option<&'static str> {
    Some(match method {
        "mobilePhone" => "a text message or call to your mobile phone",
        "officePhone" => "a call to your office phone",
        "email" => "a code sent to an email address other than your work one",
        "microsoftAuthenticator" => "the Microsoft Authenticator app",
        "mobileAppNotification" => "a notification in the Microsoft Authenticator app",
        "mobileAppCode" => "a code from the Microsoft Authenticator app",
        "securityQuestions" => "answers to your security questions",
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_status_has_its_own_symbol_and_word() {
        let symbols: std::collections::HashSet<_> =
            CheckStatus::ALL.iter().map(|s| status_symbol(*s)).collect();
        let words: std::collections::HashSet<_> =
            CheckStatus::ALL.iter().map(|s| status_word(*s)).collect();
        assert_eq!(symbols.len(), CheckStatus::ALL.len());
        assert_eq!(words.len(), CheckStatus::ALL.len());
        assert_eq!(status_label(CheckStatus::Fail), "✗ fail");
    }
}
