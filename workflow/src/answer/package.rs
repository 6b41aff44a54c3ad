//! The answer package: one ZIP holding the letter (HTML, text, PDF), the answer
//! document (`answer.json`), one CSV per portable category (`data/<key>.csv`) and
//! `manifest.json` with the SHA-256 of every other file. The package's digest is the
//! SHA-256 of the ZIP bytes as stored and downloaded, so anyone holding the file can
//! check it with `sha256sum`.

use std::io::{Cursor, Write};

use chrono::{DateTime, Datelike, Timelike, Utc};
use serde::Serialize;
use sha2::{Digest, Sha256};

use super::model::{Answer, Category};
use crate::core::csv::CsvWriter;
use crate::error::{Error, Result};

/// The `format` marker of a package manifest.
pub const MANIFEST_FORMAT: &str = "auskunft-answer-package";

/// One file of the package, as the manifest lists it.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct ManifestFile {
    /// Path inside the ZIP.
    pub path: String,
    /// SHA-256 of its bytes (hex).
    pub sha256: String,
    /// Size in bytes.
    pub size: u64,
    /// Media type.
    pub media_type: String,
}

/// `manifest.json`.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct Manifest {
    /// Always `auskunft-answer-package`.
    pub format: &'static str,
    /// Layout version (1).
    pub version: u32,
    /// The request answered.
    pub request_id: String,
    /// `de` or `en`.
    pub language: String,
    /// A test request's package: not to be sent.
    pub is_test: bool,
    /// When the package was built.
    pub created_at: DateTime<Utc>,
    /// Always `SHA-256`.
    pub digest_algorithm: &'static str,
    /// Every file but the manifest itself.
    pub files: Vec<ManifestFile>,
}

/// The rendered letters.
pub(crate) struct Letters {
    pub html: String,
    pub text: String,
    pub pdf: Vec<u8>,
}

/// A built package.
#[derive(Debug, Clone)]
pub struct Package {
    /// The ZIP.
    pub bytes: Vec<u8>,
    /// SHA-256 of the ZIP (hex).
    pub digest: String,
    /// The manifest it holds.
    pub manifest: Manifest,
}

/// SHA-256 in lower-case hex.
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// The CSV of one category: a header and one row per value (source, record,
/// field, value), cells neutralized against formula injection.
pub(crate) fn category_csv(category: &Category) -> Result<Vec<u8>> {
    let mut w = CsvWriter::for_spreadsheets();
    w.write_row(["category", "source", "record", "field", "value"])?;
    let key = category.key.clone().unwrap_or_default();
    for source in &category.sources {
        for record in &source.records {
            for value in &record.values {
                w.write_row([
                    key.as_str(),
                    source.source.as_str(),
                    record.key.as_deref().unwrap_or(""),
                    value.location.as_str(),
                    value.value.as_str(),
                ])?;
            }
        }
    }
    w.finish()
}

fn zip_failed(e: impl std::fmt::Display) -> Error {
    Error::Internal(format!("writing the answer package: {e}"))
}

/// Builds the ZIP of `answer` with its `letters`, stamped `created_at`.
pub(crate) fn build(
    answer: &Answer,
    letters: &Letters,
    created_at: DateTime<Utc>,
) -> Result<Package> {
    let json = serde_json::to_vec_pretty(answer).map_err(zip_failed)?;
    let mut files: Vec<(String, &'static str, Vec<u8>)> = vec![
        (
            "letter.html".into(),
            "text/html; charset=utf-8",
            letters.html.as_bytes().to_vec(),
        ),
        (
            "letter.txt".into(),
            "text/plain; charset=utf-8",
            letters.text.as_bytes().to_vec(),
        ),
        ("letter.pdf".into(), "application/pdf", letters.pdf.clone()),
        ("answer.json".into(), "application/json", json),
    ];
    for category in answer.categories.iter().filter(|c| c.portable) {
        let path = category
            .csv_file
            .clone()
            .unwrap_or_else(|| super::assemble::csv_file_name(category.key.as_deref()));
        files.push((path, "text/csv; charset=utf-8", category_csv(category)?));
    }
    let manifest = Manifest {
        format: MANIFEST_FORMAT,
        version: 1,
        request_id: answer.request.id.clone(),
        language: answer.language.as_str().to_owned(),
        is_test: answer.is_test,
        created_at,
        digest_algorithm: "SHA-256",
        files: files
            .iter()
            .map(|(path, media_type, bytes)| ManifestFile {
                path: path.clone(),
                sha256: sha256_hex(bytes),
                size: bytes.len() as u64,
                media_type: (*media_type).to_owned(),
            })
            .collect(),
    };
    let manifest_json = serde_json::to_vec_pretty(&manifest).map_err(zip_failed)?;

    let stamp = zip::DateTime::from_date_and_time(
        created_at.year().clamp(1980, 2107) as u16,
        created_at.month() as u8,
        created_at.day() as u8,
        created_at.hour() as u8,
        created_at.minute() as u8,
        created_at.second() as u8,
    )
    .map_err(zip_failed)?;
    let options = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated)
        .last_modified_time(stamp)
        .unix_permissions(0o644);
    let mut zip = zip::ZipWriter::new(Cursor::new(Vec::new()));
    for (path, _, bytes) in files
        .iter()
        .map(|(p, m, b)| (p.as_str(), *m, b.as_slice()))
        .chain(std::iter::once((
            "manifest.json",
            "application/json",
            manifest_json.as_slice(),
        )))
    {
        zip.start_file(path, options).map_err(zip_failed)?;
        zip.write_all(bytes).map_err(zip_failed)?;
    }
    let bytes = zip.finish().map_err(zip_failed)?.into_inner();
    Ok(Package {
        digest: sha256_hex(&bytes),
        bytes,
        manifest,
    })
}

#[cfg(test)]
mod tests {
    use super::super::{Language, sample};
    use super::*;

    fn letters() -> Letters {
        Letters {
            html: "<p>Brief</p>".into(),
            text: "Brief".into(),
            pdf: b"%PDF-1.7 test".to_vec(),
        }
    }

    #[test]
    fn the_manifest_lists_every_file_with_its_digest_and_the_package_digest_is_the_zip() {
        let answer = sample::answer(Language::De, false);
        let package = build(&answer, &letters(), answer.generated_at).unwrap();
        assert_eq!(package.digest, sha256_hex(&package.bytes));
        let mut zip = zip::ZipArchive::new(Cursor::new(package.bytes.clone())).unwrap();
        let mut names: Vec<String> = zip.file_names().map(|n| n.unwrap().into_owned()).collect();
        names.sort();
        let mut expected: Vec<String> = package
            .manifest
            .files
            .iter()
            .map(|f| f.path.clone())
            .chain(["manifest.json".to_owned()])
            .collect();
        expected.sort();
        assert_eq!(names, expected);
        for f in &package.manifest.files {
            let mut entry = zip.by_name(&f.path).unwrap();
            let mut bytes = Vec::new();
            std::io::Read::read_to_end(&mut entry, &mut bytes).unwrap();
            assert_eq!(sha256_hex(&bytes), f.sha256, "{}", f.path);
            assert_eq!(bytes.len() as u64, f.size);
        }
        let mut manifest = String::new();
        std::io::Read::read_to_string(&mut zip.by_name("manifest.json").unwrap(), &mut manifest)
            .unwrap();
        let manifest: serde_json::Value = serde_json::from_str(&manifest).unwrap();
        assert_eq!(manifest["format"], MANIFEST_FORMAT);
        assert_eq!(
            manifest["files"].as_array().unwrap().len(),
            package.manifest.files.len()
        );
        // The same inputs give the same bytes (no hidden clock in the ZIP).
        let again = build(&answer, &letters(), answer.generated_at).unwrap();
        assert_eq!(again.digest, package.digest);
    }

    #[test]
    fn only_categories_processed_on_consent_or_contract_get_a_csv() {
        let answer = sample::answer(Language::En, false);
        let package = build(&answer, &letters(), answer.generated_at).unwrap();
        let csvs: Vec<&str> = package
            .manifest
            .files
            .iter()
            .map(|f| f.path.as_str())
            .filter(|p| p.starts_with("data/"))
            .collect();
        // contact (contract), contact.email (contract via `contact`, consent): yes;
        // the score (legitimate interests) and uncategorized notes: no.
        assert_eq!(csvs, ["data/contact.csv", "data/contact.email.csv"]);
        let email = answer
            .categories
            .iter()
            .find(|c| c.key.as_deref() == Some("contact.email"))
            .unwrap();
        let csv = String::from_utf8(category_csv(email).unwrap()).unwrap();
        assert!(csv.starts_with("\u{feff}\"category\",\"source\""));
        assert!(csv.contains("\"contact.email\",\"Shop\",\"customers(id=42)\",\"customers.email\",\"erika@example.com\""));
    }
}
