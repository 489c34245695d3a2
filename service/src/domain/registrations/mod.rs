//! Per-user authentication-method registration (Graph's `userRegistrationDetails`, graph-api.md
//! §4.2) as the service shows it: one record per enabled user, the fields a caller may choose, the
//! filters and how they split between Graph and the service, the summary counts and the licence
//! the report needs. Pure: no I/O, no Graph wire types.

pub mod filter;
pub mod summary;

pub use sspr_api::registrations::{Field, FieldValue, Projected, Registration};

#[cfg(test)]
pub(crate) fn sample() -> Registration {
    Registration {
        id: "0b1c".into(),
        user_principal_name: "Ada@contoso.com".into(),
        user_display_name: "Ada, \"the first\"".into(),
        user_type: "member".into(),
        is_admin: true,
        is_sspr_registered: true,
        is_sspr_enabled: false,
        is_sspr_capable: false,
        is_mfa_registered: true,
        is_mfa_capable: true,
        is_passwordless_capable: false,
        methods_registered: vec!["email".into(), "mobilePhone".into()],
        last_updated_date_time: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bad_field_lists_say_what_is_wrong() {
        let unknown = Field::parse_list("id,password").expect_err("unknown");
        assert!(
            unknown.contains("'password'") && unknown.contains("userPrincipalName"),
            "{unknown}"
        );
        assert!(
            Field::parse_list("id,,isAdmin")
                .expect_err("empty")
                .contains("empty")
        );
        assert!(
            Field::parse_list("id,ID")
                .expect_err("twice")
                .contains("twice")
        );
    }
}
