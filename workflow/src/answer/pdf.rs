//! The letter as PDF: the plain-text letter set in DejaVu Sans (embedded from the
//! `dejavu` crate, so no system font is needed at run time), A4, wrapped at word
//! boundaries, with page numbers. A line underlined with `===` or `---` (as the
//! text letters write headings) is set in bold without its underline.
//!
//! Fonts are subset to the glyphs the letter uses (with `allsorts`, which printpdf
//! uses itself), so a letter is tens of kilobytes, not the 1.4 MB of both faces.
//! Text stays extractable (printpdf writes a `/ToUnicode` map).

use std::collections::BTreeSet;
use std::sync::LazyLock;

use printpdf::{
    Mm, Op, ParsedFont, PdfDocument, PdfFontHandle, PdfPage, PdfSaveOptions, Point, Pt, TextItem,
};

use crate::error::{Error, Result};

const PAGE_WIDTH_MM: f32 = 210.0;
const PAGE_HEIGHT_MM: f32 = 297.0;
const MARGIN_LEFT_MM: f32 = 25.0;
const MARGIN_RIGHT_MM: f32 = 20.0;
const MARGIN_TOP_MM: f32 = 20.0;
const MARGIN_BOTTOM_MM: f32 = 22.0;
const FONT_SIZE: f32 = 10.0;
const HEADING_SIZE: f32 = 11.5;
const LINE_HEIGHT: f32 = 14.0;
const FOOTER_SIZE: f32 = 8.0;

/// One face of the embedded font: its bytes and the parsed metrics of all glyphs.
struct Face {
    bytes: &'static [u8],
    parsed: ParsedFont,
}

fn face(bytes: &'static [u8]) -> Face {
    let mut warnings = Vec::new();
    let parsed = ParsedFont::from_bytes(bytes, 0, &mut warnings)
        .expect("the DejaVu fonts shipped in the dejavu crate parse");
    Face { bytes, parsed }
}

static REGULAR: LazyLock<Face> = LazyLock::new(|| face(dejavu::sans::regular()));
static BOLD: LazyLock<Face> = LazyLock::new(|| face(dejavu::sans::bold()));

impl Face {
    /// The character as set: itself if the font has it, else `?`.
    fn settable(&self, c: char) -> char {
        if self.parsed.lookup_glyph_index(c as u32).is_some() {
            c
        } else {
            '?'
        }
    }

    /// Advance width of `c` at `size`, in points.
    fn width(&self, c: char, size: f32) -> f32 {
        let gid = self.parsed.lookup_glyph_index(c as u32).unwrap_or(0);
        let units = self.parsed.get_glyph_width(gid).unwrap_or(0) as f32;
        units / self.parsed.units_per_em.max(1) as f32 * size
    }

    fn text_width(&self, text: &str, size: f32) -> f32 {
        text.chars().map(|c| self.width(c, size)).sum()
    }

    /// A font program with only the glyphs of `chars` (and .notdef), parsed.
    fn subset(&self, chars: &BTreeSet<char>) -> Result<ParsedFont> {
        use allsorts::binary::read::ReadScope;
        use allsorts::font_data::FontData;
        use allsorts::subset::{CmapTarget, SubsetProfile, subset};
        let failed = |e: String| Error::Internal(format!("subsetting the letter font: {e}"));
        let glyphs: BTreeSet<u16> = std::iter::once(0)
            .chain(
                chars
                    .iter()
                    .filter_map(|c| self.parsed.lookup_glyph_index(*c as u32)),
            )
            .collect();
        let ids: Vec<u16> = glyphs.into_iter().collect();
        let data = ReadScope::new(self.bytes)
            .read::<FontData<'_>>()
            .map_err(|e| failed(e.to_string()))?;
        let provider = data.table_provider(0).map_err(|e| failed(e.to_string()))?;
        let bytes = subset(&provider, &ids, &SubsetProfile::Pdf, CmapTarget::Unicode)
            .map_err(|e| failed(e.to_string()))?;
        let mut warnings = Vec::new();
        ParsedFont::from_bytes(&bytes, 0, &mut warnings)
            .ok_or_else(|| failed(format!("the subset does not parse: {warnings:?}")))
    }
}

/// A line as laid out: its text, indentation in points, and whether it is bold.
#[derive(Debug, Clone, PartialEq)]
struct Line {
    text: String,
    indent: f32,
    bold: bool,
}

fn is_underline(line: &str) -> bool {
    let t = line.trim();
    t.len() >= 3 && (t.chars().all(|c| c == '=') || t.chars().all(|c| c == '-'))
}

/// Breaks `text` into lines no wider than `width` points: at spaces, and inside
/// words longer than a line. Continuation lines keep the indentation of the first
/// (and of a `- ` list marker).
fn wrap(text: &str, width: f32) -> Vec<Line> {
    let lines: Vec<&str> = text.lines().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < lines.len() {
        let raw = lines[i].trim_end();
        let heading =
            !raw.trim().is_empty() && lines.get(i + 1).is_some_and(|next| is_underline(next));
        i += if heading { 2 } else { 1 };
        let (face, size) = if heading {
            (&*BOLD, HEADING_SIZE)
        } else {
            (&*REGULAR, FONT_SIZE)
        };
        let content: String = raw
            .replace('\t', "    ")
            .chars()
            .map(|c| face.settable(c))
            .collect();
        let leading = content.len() - content.trim_start().len();
        let body = content.trim_start();
        let marker = if body.starts_with("- ") { 2 } else { 0 };
        let indent = face.text_width(&content[..leading], size);
        let hanging = indent + face.text_width(&body[..marker], size);
        if body.is_empty() {
            out.push(Line {
                text: String::new(),
                indent: 0.0,
                bold: false,
            });
            continue;
        }
        let mut current = String::new();
        let mut first = true;
        let room = |first: bool| width - if first { indent } else { hanging };
        for word in body.split(' ') {
            let candidate = if current.is_empty() {
                word.to_owned()
            } else {
                format!("{current} {word}")
            };
            if face.text_width(&candidate, size) <= room(first) {
                current = candidate;
                continue;
            }
            if !current.is_empty() {
                out.push(Line {
                    text: std::mem::take(&mut current),
                    indent: if first { indent } else { hanging },
                    bold: heading,
                });
                first = false;
            }
            // A word longer than a line is broken where it must be.
            let mut piece = String::new();
            for c in word.chars() {
                piece.push(c);
                if face.text_width(&piece, size) > room(first) && piece.chars().count() > 1 {
                    piece.pop();
                    out.push(Line {
                        text: std::mem::take(&mut piece),
                        indent: if first { indent } else { hanging },
                        bold: heading,
                    });
                    first = false;
                    piece.push(c);
                }
            }
            current = piece;
        }
        out.push(Line {
            text: current,
            indent: if first { indent } else { hanging },
            bold: heading,
        });
    }
    out
}

fn text_op(font: &printpdf::FontId, size: f32, x: f32, y: f32, text: &str) -> Vec<Op> {
    vec![
        Op::StartTextSection,
        Op::SetFont {
            font: PdfFontHandle::External(font.clone()),
            size: Pt(size),
        },
        Op::SetTextCursor {
            pos: Point { x: Pt(x), y: Pt(y) },
        },
        Op::ShowText {
            items: vec![TextItem::Text(text.to_owned())],
        },
        Op::EndTextSection,
    ]
}

/// The plain-text letter as an A4 PDF. `footer` is printed on every page before
/// the page number (e.g. the controller's name, or a test marker).
pub(crate) fn letter_pdf(text: &str, title: &str, footer: &str) -> Result<Vec<u8>> {
    let mm = |v: f32| Mm(v).into_pt().0;
    let width = mm(PAGE_WIDTH_MM - MARGIN_LEFT_MM - MARGIN_RIGHT_MM);
    let lines = wrap(text, width);
    let top = mm(PAGE_HEIGHT_MM - MARGIN_TOP_MM);
    let bottom = mm(MARGIN_BOTTOM_MM);
    let per_page = (((top - bottom) / LINE_HEIGHT).floor() as usize).max(1);
    let pages: Vec<&[Line]> = if lines.is_empty() {
        vec![&[][..]]
    } else {
        lines.chunks(per_page).collect()
    };
    let total = pages.len();
    let footers: Vec<String> = (1..=total)
        .map(|n| format!("{footer}    {n}/{total}"))
        .collect();

    let mut regular_chars: BTreeSet<char> = lines
        .iter()
        .filter(|l| !l.bold)
        .flat_map(|l| l.text.chars())
        .collect();
    regular_chars.extend(footers.iter().flat_map(|f| f.chars()));
    let regular_chars: BTreeSet<char> = regular_chars
        .into_iter()
        .map(|c| REGULAR.settable(c))
        .collect();
    let bold_chars: BTreeSet<char> = lines
        .iter()
        .filter(|l| l.bold)
        .flat_map(|l| l.text.chars())
        .collect();

    let mut doc = PdfDocument::new(title);
    let regular = doc.add_font(&REGULAR.subset(&regular_chars)?);
    let bold = doc.add_font(&BOLD.subset(&bold_chars)?);
    let left = mm(MARGIN_LEFT_MM);
    let mut out_pages = Vec::with_capacity(total);
    for (n, page) in pages.iter().enumerate() {
        let mut ops = Vec::new();
        for (i, line) in page.iter().enumerate() {
            if line.text.is_empty() {
                continue;
            }
            let y = top - LINE_HEIGHT * (i as f32 + 1.0);
            let (font, size) = if line.bold {
                (&bold, HEADING_SIZE)
            } else {
                (&regular, FONT_SIZE)
            };
            ops.extend(text_op(font, size, left + line.indent, y, &line.text));
        }
        let footer: String = footers[n].chars().map(|c| REGULAR.settable(c)).collect();
        ops.extend(text_op(
            &regular,
            FOOTER_SIZE,
            left,
            mm(MARGIN_BOTTOM_MM / 2.0),
            &footer,
        ));
        out_pages.push(PdfPage::new(Mm(PAGE_WIDTH_MM), Mm(PAGE_HEIGHT_MM), ops));
    }
    let mut warnings = Vec::new();
    let bytes = doc
        .with_pages(out_pages)
        .save(&PdfSaveOptions::default(), &mut warnings);
    if bytes.is_empty() {
        return Err(Error::Internal(format!(
            "the letter PDF is empty: {warnings:?}"
        )));
    }
    Ok(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_lines_wrap_with_hanging_indent_and_headings_lose_their_underline() {
        let text = "Title\n=====\n\n  - a b c d e f g h i j k l m n o p q r s t u v w x y z a b c d e f g h i j k l m n o p q r s t u v w x y z\nx";
        let lines = wrap(text, 200.0);
        assert_eq!(lines[0].text, "Title");
        assert!(lines[0].bold);
        assert!(lines.iter().all(|l| !l.text.contains("===")));
        let list: Vec<&Line> = lines.iter().filter(|l| !l.bold && l.indent > 0.0).collect();
        assert!(list.len() >= 2, "{lines:?}");
        assert!(list[1].indent > list[0].indent, "hanging indent: {lines:?}");
        for l in &lines {
            let face = if l.bold { &*BOLD } else { &*REGULAR };
            let size = if l.bold { HEADING_SIZE } else { FONT_SIZE };
            assert!(
                face.text_width(&l.text, size) + l.indent <= 200.0 + 0.01,
                "{l:?}"
            );
        }
        let long = wrap(&"x".repeat(500), 100.0);
        assert!(long.len() > 3);
        assert_eq!(long.iter().map(|l| l.text.len()).sum::<usize>(), 500);
    }

    #[test]
    fn a_letter_with_umlauts_is_a_small_pdf_with_extractable_text() {
        let text = "Auskunft nach Art. 15 DSGVO\n==========================\n\nGrüße aus Köln: Heidestraße 17, ÄÖÜ äöü ß €\n\u{1F600} not in the font\n";
        let pdf = letter_pdf(text, "Auskunft", "Beispiel GmbH").unwrap();
        assert!(pdf.starts_with(b"%PDF-"));
        assert!(pdf.len() < 120_000, "fonts are subset: {} bytes", pdf.len());
        let doc = lopdf::Document::load_mem(&pdf).unwrap();
        let pages: Vec<u32> = doc.get_pages().keys().copied().collect();
        let extracted = doc.extract_text(&pages).unwrap();
        for expected in ["Heidestraße 17", "ÄÖÜ äöü ß", "Auskunft nach Art. 15 DSGVO"] {
            assert!(
                extracted.contains(expected),
                "{expected:?} in {extracted:?}"
            );
        }
    }

    #[test]
    fn many_lines_make_many_pages() {
        let text = (0..200).map(|i| format!("Zeile {i}\n")).collect::<String>();
        let pdf = letter_pdf(&text, "t", "f").unwrap();
        let doc = lopdf::Document::load_mem(&pdf).unwrap();
        assert!(doc.get_pages().len() >= 4);
    }
}
