//! Edm primitive types and the lexical checks for their JSON representation
//! (OData JSON Format 4.0, section 7.1 "Primitive Value").

use serde_json::Value;

/// An `Edm.*` primitive type named in the CSDL.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Primitive {
    String,
    Boolean,
    Byte,
    SByte,
    Int16,
    Int32,
    Int64,
    Single,
    Double,
    Decimal,
    DateTimeOffset,
    Date,
    TimeOfDay,
    Duration,
    Guid,
    Binary,
    /// Media streams are not inlined in JSON bodies as values we can check.
    Stream,
    /// `Edm.Untyped`, `Edm.PrimitiveType`, geography/geometry types: any JSON is accepted.
    Any,
}

impl Primitive {
    /// `name` without the `Edm.` prefix.
    pub fn from_name(name: &str) -> Primitive {
        match name {
            "String" => Primitive::String,
            "Boolean" => Primitive::Boolean,
            "Byte" => Primitive::Byte,
            "SByte" => Primitive::SByte,
            "Int16" => Primitive::Int16,
            "Int32" => Primitive::Int32,
            "Int64" => Primitive::Int64,
            "Single" => Primitive::Single,
            "Double" => Primitive::Double,
            "Decimal" => Primitive::Decimal,
            "DateTimeOffset" => Primitive::DateTimeOffset,
            "Date" => Primitive::Date,
            "TimeOfDay" => Primitive::TimeOfDay,
            "Duration" => Primitive::Duration,
            "Guid" => Primitive::Guid,
            "Binary" => Primitive::Binary,
            "Stream" => Primitive::Stream,
            _ => Primitive::Any,
        }
    }

    /// Checks one non-null JSON value; `Err` carries the reason.
    pub fn check(self, value: &Value) -> Result<(), String> {
        match self {
            Primitive::Any | Primitive::Stream => Ok(()),
            Primitive::Boolean => expect(value.is_boolean(), "a boolean"),
            Primitive::Byte => integer_in(value, 0, 255),
            Primitive::SByte => integer_in(value, -128, 127),
            Primitive::Int16 => integer_in(value, i16::MIN.into(), i16::MAX.into()),
            Primitive::Int32 => integer_in(value, i32::MIN.into(), i32::MAX.into()),
            Primitive::Int64 => integer_in(value, i64::MIN, i64::MAX),
            // OData writes the IEEE 754 special values as strings.
            Primitive::Single | Primitive::Double | Primitive::Decimal => match value {
                Value::Number(_) => Ok(()),
                Value::String(s) if matches!(s.as_str(), "INF" | "-INF" | "NaN") => Ok(()),
                _ => Err("a number (or \"INF\", \"-INF\", \"NaN\")".to_owned()),
            },
            Primitive::String => expect(value.is_string(), "a string"),
            Primitive::DateTimeOffset => {
                lexical(value, is_date_time_offset, "an RFC 3339 date-time")
            }
            Primitive::Date => lexical(value, is_date, "a date YYYY-MM-DD"),
            Primitive::TimeOfDay => {
                lexical(value, is_time_of_day, "a time of day hh:mm[:ss[.fff]]")
            }
            Primitive::Duration => lexical(value, is_duration, "an ISO 8601 duration"),
            Primitive::Guid => lexical(value, is_guid, "a GUID"),
            Primitive::Binary => lexical(value, is_base64, "a base64 string"),
        }
        .map_err(|expected| format!("expected {expected}, got {}", describe(value)))
    }
}

fn expect(ok: bool, what: &str) -> Result<(), String> {
    if ok { Ok(()) } else { Err(what.to_owned()) }
}

fn integer_in(value: &Value, min: i64, max: i64) -> Result<(), String> {
    let ok = value.as_i64().is_some_and(|n| (min..=max).contains(&n));
    expect(ok, &format!("an integer in {min}..={max}"))
}

fn lexical(value: &Value, valid: fn(&str) -> bool, what: &str) -> Result<(), String> {
    expect(value.as_str().is_some_and(valid), what)
}

/// A short rendering of an offending value for messages.
pub fn describe(value: &Value) -> String {
    let kind = match value {
        Value::Null => return "null".to_owned(),
        Value::Bool(_) => "boolean",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => return "an array".to_owned(),
        Value::Object(_) => return "an object".to_owned(),
    };
    let mut text = value.to_string();
    if text.len() > 60 {
        let cut = (0..=57)
            .rev()
            .find(|i| text.is_char_boundary(*i))
            .unwrap_or(0);
        text.truncate(cut);
        text.push_str("...");
    }
    format!("{kind} {text}")
}

/// A tiny cursor over ASCII text for the lexical checks below.
struct Cursor<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl<'a> Cursor<'a> {
    fn new(text: &'a str) -> Self {
        Cursor {
            bytes: text.as_bytes(),
            at: 0,
        }
    }

    fn done(&self) -> bool {
        self.at == self.bytes.len()
    }

    fn peek(&self) -> Option<u8> {
        self.bytes.get(self.at).copied()
    }

    /// Consumes `byte` if it is next.
    fn eat(&mut self, byte: u8) -> bool {
        let hit = self.peek() == Some(byte);
        if hit {
            self.at += 1;
        }
        hit
    }

    /// Exactly `n` decimal digits as a number.
    fn digits(&mut self, n: usize) -> Option<u32> {
        let chunk = self.bytes.get(self.at..self.at + n)?;
        if !chunk.iter().all(u8::is_ascii_digit) {
            return None;
        }
        self.at += n;
        Some(
            chunk
                .iter()
                .fold(0, |acc, d| acc * 10 + u32::from(d - b'0')),
        )
    }

    /// One or more decimal digits; returns how many.
    fn some_digits(&mut self) -> usize {
        let start = self.at;
        while self.peek().is_some_and(|b| b.is_ascii_digit()) {
            self.at += 1;
        }
        self.at - start
    }

    /// `YYYY-MM-DD` with a real calendar day.
    fn date(&mut self) -> bool {
        let Some(year) = self.digits(4) else {
            return false;
        };
        if !self.eat(b'-') {
            return false;
        }
        let Some(month) = self.digits(2) else {
            return false;
        };
        if !self.eat(b'-') {
            return false;
        }
        let Some(day) = self.digits(2) else {
            return false;
        };
        (1..=12).contains(&month) && day >= 1 && day <= days_in_month(year, month)
    }

    /// `hh:mm` then optional `:ss` and `.fraction`, `seconds_required` for RFC 3339.
    fn time(&mut self, seconds_required: bool) -> bool {
        let Some(hour) = self.digits(2) else {
            return false;
        };
        if !self.eat(b':') {
            return false;
        }
        let Some(minute) = self.digits(2) else {
            return false;
        };
        if hour > 23 || minute > 59 {
            return false;
        }
        if !self.eat(b':') {
            return !seconds_required;
        }
        // 60 admits a leap second, as RFC 3339 does.
        let Some(second) = self.digits(2) else {
            return false;
        };
        if second > 60 {
            return false;
        }
        !self.eat(b'.') || self.some_digits() > 0
    }

    /// `Z` or `±hh:mm`.
    fn offset(&mut self) -> bool {
        if self.eat(b'Z') || self.eat(b'z') {
            return true;
        }
        if !(self.eat(b'+') || self.eat(b'-')) {
            return false;
        }
        let Some(hour) = self.digits(2) else {
            return false;
        };
        if !self.eat(b':') {
            return false;
        }
        let Some(minute) = self.digits(2) else {
            return false;
        };
        hour <= 23 && minute <= 59
    }
}

fn days_in_month(year: u32, month: u32) -> u32 {
    match month {
        2 if year.is_multiple_of(4) && (!year.is_multiple_of(100) || year.is_multiple_of(400)) => {
            29
        }
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// RFC 3339 `date-time`, e.g. `2024-04-26T12:44:42.0858664Z`.
pub fn is_date_time_offset(text: &str) -> bool {
    let mut c = Cursor::new(text);
    c.date() && (c.eat(b'T') || c.eat(b't')) && c.time(true) && c.offset() && c.done()
}

/// `Edm.Date`: `YYYY-MM-DD`.
pub fn is_date(text: &str) -> bool {
    let mut c = Cursor::new(text);
    c.date() && c.done()
}

/// `Edm.TimeOfDay`: `hh:mm[:ss[.fffffff]]`.
pub fn is_time_of_day(text: &str) -> bool {
    let mut c = Cursor::new(text);
    c.time(false) && c.done()
}

/// ISO 8601 duration `[-]PnYnMnWnDTnHnMn.nS`, at least one component, and at
/// least one after a `T`. OData itself only emits days to seconds; the wider
/// ISO form is accepted because Graph documents some values that way.
pub fn is_duration(text: &str) -> bool {
    let mut c = Cursor::new(text);
    c.eat(b'-');
    if !c.eat(b'P') {
        return false;
    }
    let date_units: &[u8] = b"YMWD";
    let time_units: &[u8] = b"HMS";
    let mut components = 0;
    let mut units = date_units;
    let mut in_time = false;
    while !c.done() {
        if !in_time && c.eat(b'T') {
            in_time = true;
            units = time_units;
            if c.done() {
                return false;
            }
            continue;
        }
        if c.some_digits() == 0 {
            return false;
        }
        // Only seconds may carry a fraction.
        let fraction = c.eat(b'.') || c.eat(b',');
        if fraction && c.some_digits() == 0 {
            return false;
        }
        // Units must appear in order, each at most once.
        let Some(unit) = c.peek() else { return false };
        let Some(index) = units.iter().position(|u| *u == unit) else {
            return false;
        };
        if fraction && !(in_time && unit == b'S') {
            return false;
        }
        c.at += 1;
        units = &units[index + 1..];
        components += 1;
    }
    components > 0 && !(in_time && c.bytes.last() == Some(&b'T'))
}

/// `8-4-4-4-12` hex digits.
pub fn is_guid(text: &str) -> bool {
    let groups: Vec<&str> = text.split('-').collect();
    let lengths = [8, 4, 4, 4, 12];
    groups.len() == lengths.len()
        && groups
            .iter()
            .zip(lengths)
            .all(|(g, n)| g.len() == n && g.bytes().all(|b| b.is_ascii_hexdigit()))
}

/// Base64 in either the standard or the URL-safe alphabet (OData specifies
/// base64url, Graph in practice writes standard base64), padding optional.
pub fn is_base64(text: &str) -> bool {
    let body = text.trim_end_matches('=');
    let padding = text.len() - body.len();
    let alphabet_ok = body
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'/' | b'-' | b'_'));
    let length_ok = if padding == 0 {
        body.len() % 4 != 1
    } else {
        padding <= 2 && text.len().is_multiple_of(4)
    };
    alphabet_ok && length_ok
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn date_time_offsets() {
        for ok in [
            "2024-04-26T12:44:42.0858664Z",
            "2026-07-01T10:12:33Z",
            "2024-02-29T00:00:00+05:30",
            "1601-01-01T00:00:00z",
        ] {
            assert!(is_date_time_offset(ok), "{ok}");
        }
        for bad in [
            "2024-04-26",
            "2024-04-26 12:44:42Z",
            "2024-04-26T12:44Z",
            "2023-02-29T00:00:00Z",
            "2024-13-01T00:00:00Z",
            "2024-04-26T24:00:00Z",
            "2024-04-26T12:44:42",
            "2024-04-26T12:44:42.Z",
            "2024-04-26T12:44:42Z ",
        ] {
            assert!(!is_date_time_offset(bad), "{bad}");
        }
    }

    #[test]
    fn dates_and_times() {
        assert!(is_date("2024-12-31"));
        assert!(!is_date("2024-12-32"));
        assert!(!is_date("24-12-31"));
        assert!(is_time_of_day("08:00"));
        assert!(is_time_of_day("23:59:59.9999999"));
        assert!(!is_time_of_day("8:00"));
        assert!(!is_time_of_day("08:00Z"));
    }

    #[test]
    fn durations() {
        for ok in ["PT1H", "P90D", "-P1DT2H3M4.5S", "P1Y2M", "PT0S", "P2W"] {
            assert!(is_duration(ok), "{ok}");
        }
        for bad in [
            "P", "PT", "P1DT", "1H", "PT1.5H", "P1H", "PT1S1M", "P1D1D", "PT1HX",
        ] {
            assert!(!is_duration(bad), "{bad}");
        }
    }

    #[test]
    fn guids_and_base64() {
        assert!(is_guid("dad4ae4a-730c-4e52-826c-0d9094971f04"));
        assert!(!is_guid("all_users"));
        assert!(!is_guid("dad4ae4a730c4e52826c0d9094971f04"));
        assert!(is_base64("aGVsbG8="));
        assert!(is_base64("aGVsbG8"));
        assert!(is_base64("-_8"));
        assert!(is_base64(""));
        assert!(!is_base64("a"));
        assert!(!is_base64("aGVs bG8="));
    }

    #[test]
    fn numbers() {
        assert!(Primitive::Int32.check(&json!(2_147_483_647)).is_ok());
        assert!(Primitive::Int32.check(&json!(2_147_483_648_i64)).is_err());
        assert!(Primitive::Int32.check(&json!(1.0)).is_err());
        assert!(Primitive::Byte.check(&json!(-1)).is_err());
        assert!(Primitive::Int64.check(&json!(u64::MAX)).is_err());
        assert!(Primitive::Double.check(&json!(1)).is_ok());
        assert!(Primitive::Double.check(&json!("NaN")).is_ok());
        assert!(Primitive::Double.check(&json!("1.5")).is_err());
        let message = Primitive::Boolean.check(&json!("true")).unwrap_err();
        assert_eq!(message, "expected a boolean, got string \"true\"");
    }
}
