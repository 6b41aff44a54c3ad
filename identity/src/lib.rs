//! The one canonical spelling of each way a data subject is identified.
//!
//! Matching a request to a known subject, the request filters, duplicate detection
//! and the migration that re-normalizes stored identities all call these functions,
//! so that every spelling of the same mailbox or number is one identity:
//!
//! - **E-mail**: Unicode NFC over the whole address; the local part lower-cased (the
//!   local part is case-sensitive by RFC 5321, but no mailbox provider distinguishes
//!   case, and Auskunft has always matched whole addresses case-insensitively: kept
//!   on purpose); the domain in its ASCII (punycode) form by UTS #46 with the STD3
//!   rules, so `Bücher.example`, `bu\u{308}cher.example` and `xn--bcher-kva.example`
//!   are one domain. ASCII was chosen over Unicode because it is the form mail
//!   servers and DNS use; the value as given is kept next to it for display.
//! - **Phone**: E.164 (`+492219876543`) as read by libphonenumber (the `phonenumber`
//!   port) with the organization's default region for numbers given without a
//!   country code; a trunk prefix written after the country code (`+49 (0)221 …`)
//!   is dropped; numbers that are not valid in their numbering plan are refused.
//! - **Postal address, customer number, other**: NFC, whitespace runs collapsed.
//!
//! No I/O, no database: the `migration` crate depends on this crate as well as the
//! domain core, so that stored identities are re-normalized by the same code.

use std::fmt;
use std::str::FromStr;

use phonenumber::country;
use phonenumber::metadata::DATABASE;
use unicode_normalization::UnicodeNormalization;

/// Why a value is not an identity of its kind (a message for the person who typed it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Invalid(pub String);

impl fmt::Display for Invalid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Invalid {}

fn invalid(message: impl Into<String>) -> Invalid {
    Invalid(message.into())
}

/// The kinds of identity, by the names they are stored under.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// `EMAIL`.
    Email,
    /// `PHONE`.
    Phone,
    /// `POSTAL_ADDRESS` (several lines).
    PostalAddress,
    /// `CUSTOMER_NUMBER`.
    CustomerNumber,
    /// `OTHER`.
    Other,
}

impl FromStr for Kind {
    type Err = Invalid;
    fn from_str(s: &str) -> Result<Self, Invalid> {
        Ok(match s {
            "EMAIL" => Kind::Email,
            "PHONE" => Kind::Phone,
            "POSTAL_ADDRESS" => Kind::PostalAddress,
            "CUSTOMER_NUMBER" => Kind::CustomerNumber,
            "OTHER" => Kind::Other,
            other => return Err(invalid(format!("unknown identity kind {other:?}"))),
        })
    }
}

/// The region whose numbering plan reads phone numbers given without a country code
/// (an ISO 3166-1 alpha-2 code known to libphonenumber, e.g. `DE`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct PhoneRegion(country::Id);

/// The default region of phone numbers.
pub const DEFAULT_PHONE_REGION: &str = "DE";

impl PhoneRegion {
    /// The region code, e.g. `DE`.
    pub fn as_str(&self) -> &str {
        self.0.as_ref()
    }
}

impl Default for PhoneRegion {
    fn default() -> Self {
        Self(country::Id::DE)
    }
}

impl fmt::Display for PhoneRegion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for PhoneRegion {
    type Err = Invalid;
    fn from_str(s: &str) -> Result<Self, Invalid> {
        let code = s.trim().to_ascii_uppercase();
        country::Id::from_str(&code)
            .ok()
            .filter(|id| DATABASE.by_id(id.as_ref()).is_some())
            .map(PhoneRegion)
            .ok_or_else(|| {
                invalid("must be a region with a phone numbering plan, as an ISO 3166-1 alpha-2 code like DE")
            })
    }
}

/// Unicode NFC.
pub fn nfc(value: &str) -> String {
    value.nfc().collect()
}

/// The canonical spelling of a value of `kind` (see the crate documentation).
pub fn canonical(kind: Kind, value: &str, region: PhoneRegion) -> Result<String, Invalid> {
    match kind {
        Kind::Email => email(value),
        Kind::Phone => phone(value, region),
        Kind::PostalAddress => Ok(multiline_text(value)),
        Kind::CustomerNumber | Kind::Other => Ok(text(value)),
    }
}

/// Longest e-mail address accepted (RFC 5321 path limit).
pub const MAX_EMAIL_LEN: usize = 254;

/// Longest local part (before the `@`) of an e-mail address (RFC 5321, 4.5.3.1.1).
pub const MAX_LOCAL_PART_LEN: usize = 64;

/// The canonical spelling of an e-mail address: NFC, local part lower-cased, domain
/// as ASCII (punycode) by UTS #46.
pub fn email(value: &str) -> Result<String, Invalid> {
    let shape = || invalid("must be an e-mail address like name@example.com");
    // Bounds the value as given too (decomposed spellings are longer).
    if value.trim().chars().count() > MAX_EMAIL_LEN + 64 {
        return Err(too_long());
    }
    let value = nfc(value.trim());
    if value.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(shape());
    }
    let (local, domain) = value.split_once('@').ok_or_else(shape)?;
    if local.is_empty() || domain.contains('@') {
        return Err(shape());
    }
    let ascii = idna::domain_to_ascii_strict(domain)
        .map_err(|_| invalid("the domain is not a valid domain name"))?;
    if !ascii.contains('.') || ascii.starts_with('.') || ascii.ends_with('.') {
        return Err(shape());
    }
    // Lower-casing may leave a string that is not NFC (rarely): normalize again.
    let local = nfc(&local.to_lowercase());
    if local.len() > MAX_LOCAL_PART_LEN {
        return Err(invalid(format!(
            "the part before the @ must be at most {MAX_LOCAL_PART_LEN} bytes (RFC 5321)"
        )));
    }
    let canonical = format!("{local}@{ascii}");
    if canonical.len() > MAX_EMAIL_LEN {
        return Err(too_long());
    }
    Ok(canonical)
}

fn too_long() -> Invalid {
    invalid(format!(
        "must be at most {MAX_EMAIL_LEN} bytes (in NFC, with the domain in its ASCII form)"
    ))
}

/// Compiled regular expressions of libphonenumber's metadata kept at once. The
/// `phonenumber` crate keeps 100 in an LRU cache, but reading one number of a country
/// code many regions share (+1: the 25 regions of the North American plan) goes
/// through more than that, so every such number recompiled dozens of expressions
/// (about 0.3 ms a number, most of the leak scan's time). The metadata of every
/// region needs about 2,500; this many cover the country codes in use at once.
const PHONE_REGEX_CACHE: usize = 1_000;

/// libphonenumber's metadata, with room for [`PHONE_REGEX_CACHE`] compiled
/// expressions (the crate's cache is replaced once, through its public handle).
fn phone_metadata() -> &'static phonenumber::metadata::Database {
    static ROOMY: std::sync::Once = std::sync::Once::new();
    ROOMY.call_once(|| {
        // A poisoned lock leaves the crate's own cache in place: slower, still right.
        if let Ok(mut cache) = DATABASE.cache().lock() {
            *cache = regex_cache::RegexCache::new(PHONE_REGEX_CACHE);
        }
    });
    &DATABASE
}

/// The canonical spelling of a phone number: E.164, read with `region` when it has
/// no country code. Refuses numbers that are not valid in their numbering plan.
pub fn phone(value: &str, region: PhoneRegion) -> Result<String, Invalid> {
    // NFKC turns full-width digits and the like into ASCII.
    let value: String = value.trim().nfkc().collect();
    let shape_ok = value.len() <= 50
        && value.chars().any(|c| c.is_ascii_digit())
        && value
            .chars()
            .enumerate()
            .all(|(i, c)| c.is_ascii_digit() || " -/().".contains(c) || (c == '+' && i == 0));
    if !shape_ok {
        return Err(invalid(
            "must be a phone number like +49 221 9876543 or 0221 9876543",
        ));
    }
    // With a `+` the number names its own country; reading it with the default
    // region's metadata would strip that region's prefixes from a foreign number.
    let read_with = if value.starts_with('+') {
        None
    } else {
        Some(region.0)
    };
    let not_valid = || {
        invalid(format!(
            "is not a valid phone number (numbers without a country code are read as {region} numbers)"
        ))
    };
    let database = phone_metadata();
    let number = phonenumber::parse_with(database, read_with, &value).map_err(|_| not_valid())?;
    if !phonenumber::is_valid_with(database, &number) {
        return Err(not_valid());
    }
    Ok(number.format().mode(phonenumber::Mode::E164).to_string())
}

/// The canonical spelling of a phone number stored by an earlier version, which
/// wrote `+` and the digits of a number given without a country code and without a
/// leading zero (so `221 9876543` became `+2219876543`). When the stored value is
/// not a valid number as written, its digits are read as a national number of
/// `region`, as intake reads them now. `None` when neither reading is valid.
pub fn phone_as_stored(stored: &str, region: PhoneRegion) -> Option<String> {
    phone(stored, region).ok().or_else(|| {
        stored
            .trim()
            .strip_prefix('+')
            .and_then(|digits| phone(digits, region).ok())
    })
}

/// One line of text: NFC, whitespace runs collapsed to one space, trimmed.
pub fn text(value: &str) -> String {
    nfc(value).split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Several lines (postal addresses): NFC, CRLF as LF, each line's whitespace runs
/// collapsed, trimmed.
pub fn multiline_text(value: &str) -> String {
    nfc(&value.replace("\r\n", "\n"))
        .trim()
        .lines()
        .map(|l| l.split_whitespace().collect::<Vec<_>>().join(" "))
        .collect::<Vec<_>>()
        .join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn de() -> PhoneRegion {
        PhoneRegion::default()
    }

    #[test]
    fn nfc_and_nfd_spellings_of_an_address_are_one() {
        let composed = "j\u{f6}rg.wei\u{df}@beispiel.example";
        let decomposed = "jo\u{308}rg.wei\u{df}@beispiel.example";
        assert_ne!(composed, decomposed);
        assert_eq!(email(composed).unwrap(), email(decomposed).unwrap());
        assert_eq!(email(composed).unwrap(), composed);
        assert_eq!(
            email(" J\u{d6}RG.Wei\u{df}@Beispiel.EXAMPLE ").unwrap(),
            composed
        );
    }

    #[test]
    fn unicode_and_punycode_domains_are_one() {
        let want = "info@xn--bcher-kva.example";
        for spelling in [
            "info@b\u{fc}cher.example",
            "info@bu\u{308}cher.example",
            "info@B\u{dc}CHER.example",
            "info@xn--bcher-kva.example",
            "INFO@XN--BCHER-KVA.EXAMPLE",
        ] {
            assert_eq!(email(spelling).unwrap(), want, "{spelling}");
        }
    }

    #[test]
    fn malformed_addresses_are_refused() {
        for bad in [
            "",
            "no-at",
            "a@b",
            "a@@b.de",
            "a b@c.de",
            "@x.de",
            "a@.de",
            "a@de.",
            "a@exa_mple.de",
            "a@-x.de",
            &format!("{}@example.com", "a".repeat(250)),
        ] {
            assert!(email(bad).is_err(), "{bad:?} must be refused");
        }
    }

    #[test]
    fn german_numbers_in_every_spelling_are_one() {
        let want = "+492219876543";
        for spelling in [
            "+49 (0)221 9876543",
            "+49 221 9876543",
            "+4902219876543",
            "0049 221 9876543",
            "0221 9876543",
            "0221/987 65 43",
            "(0221) 98765-43",
            "221 9876543",
            "\u{ff10}\u{ff12}\u{ff12}\u{ff11} 9876543",
        ] {
            assert_eq!(phone(spelling, de()).as_deref(), Ok(want), "{spelling}");
        }
    }

    #[test]
    fn a_national_number_without_leading_zero_is_not_a_country_code() {
        // Formerly read as +221 (Senegal).
        assert!(phone("221 9876543", de()).unwrap().starts_with("+49"));
        // A real Senegalese number stays one when written with its country code.
        assert_eq!(phone("+221 33 889 12 34", de()).unwrap(), "+221338891234");
    }

    #[test]
    fn numbers_outside_the_numbering_plan_are_refused() {
        for bad in [
            "12345",
            "12",
            "+49 30 abc",
            "49+30 1234567",
            "+49 1",
            "0000000",
            "",
        ] {
            assert!(phone(bad, de()).is_err(), "{bad:?} must be refused");
        }
    }

    #[test]
    fn the_default_region_reads_national_numbers() {
        let at: PhoneRegion = "at".parse().unwrap();
        assert_eq!(at.as_str(), "AT");
        assert_eq!(phone("01 5123456", at).unwrap(), "+4315123456");
        assert!("XX".parse::<PhoneRegion>().is_err());
        assert!("DEU".parse::<PhoneRegion>().is_err());
    }

    #[test]
    fn numbers_stored_by_the_old_intake_are_read_again() {
        assert_eq!(
            phone_as_stored("+4902219876543", de()).as_deref(),
            Some("+492219876543")
        );
        assert_eq!(
            phone_as_stored("+2219876543", de()).as_deref(),
            Some("+492219876543")
        );
        assert_eq!(phone_as_stored("+12345", de()), None);
    }

    #[test]
    fn text_kinds_are_nfc_with_collapsed_whitespace() {
        assert_eq!(text("  K-\u{0041}\u{030a}  12 "), "K-\u{c5} 12");
        assert_eq!(
            multiline_text(" Weg  1\r\n10115   Berlin "),
            "Weg 1\n10115 Berlin"
        );
        assert_eq!(
            canonical(Kind::CustomerNumber, "a  b", de()).unwrap(),
            "a b"
        );
    }

    #[test]
    fn local_parts_longer_than_rfc_5321_allows_are_refused() {
        let longest = format!("{}@example.org", "a".repeat(64));
        assert_eq!(email(&longest).as_deref(), Ok(longest.as_str()));
        assert!(email(&format!("{}@example.org", "a".repeat(65))).is_err());
    }
}
