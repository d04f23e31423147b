//! Import and export of annotated files (the formats the CLI reads and writes), and the
//! browser's download and upload plumbing.

use nuner::data::{detect_format, read_examples, write_conll, write_jsonl, ConllOptions, Example, Format, Tag};
use wasm_bindgen::JsCast;

/// Formats a file can be imported as.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ImportKind {
    /// Annotated examples (JSONL spans, CoNLL, GLiNER).
    Annotated(Format),
    /// Plain text, one document per line.
    Lines,
}

/// Guesses how to read a file: JSON kinds from the content, CoNLL when every non-blank line ends
/// in a BIO tag, else plain text lines.
pub fn import_kind(bytes: &[u8], name: &str) -> ImportKind {
    match detect_format(bytes, name) {
        Format::Conll(_) => {
            let text = String::from_utf8_lossy(bytes);
            let mut lines = text.lines().filter(|l| !l.trim().is_empty() && !l.starts_with("-DOCSTART-")).peekable();
            let tagged = lines.peek().is_some()
                && lines.all(|l| l.split_whitespace().count() >= 2 && l.split_whitespace().last().is_some_and(|t| Tag::parse(t).is_ok()));
            if tagged { ImportKind::Annotated(Format::Conll(ConllOptions::default())) } else { ImportKind::Lines }
        }
        f => ImportKind::Annotated(f),
    }
}

/// Reads an imported file into examples. Errors name the file and line; nothing is partial.
pub fn import(bytes: &[u8], name: &str) -> Result<Vec<Example>, String> {
    match import_kind(bytes, name) {
        ImportKind::Lines => {
            let text = std::str::from_utf8(bytes).map_err(|e| format!("{name}: not UTF-8 text ({e})"))?;
            Ok(text.lines().filter(|l| !l.trim().is_empty()).map(|l| Example { text: l.to_string(), spans: Vec::new() }).collect())
        }
        ImportKind::Annotated(format) => read_examples(bytes, name, format, false).map(|o| o.examples).map_err(|e| e.to_string()),
    }
}

/// JSONL export (the canonical format `nuner finetune` reads).
pub fn export_jsonl(examples: &[Example]) -> String {
    write_jsonl(examples)
}

/// CoNLL (IOB2) export; fails for labels that do not align with whitespace-separated words.
pub fn export_conll(examples: &[Example]) -> Result<String, String> {
    write_conll(examples).map_err(|e| e.to_string())
}

/// Offers `contents` as a download named `name`.
pub fn download(name: &str, contents: &str, mime: &str) -> Result<(), String> {
    download_parts(name, js_sys::Array::of1(&wasm_bindgen::JsValue::from_str(contents)), mime)
}

/// Offers `bytes` as a file download named `name`.
pub fn download_bytes(name: &str, bytes: &[u8], mime: &str) -> Result<(), String> {
    download_parts(name, js_sys::Array::of1(&js_sys::Uint8Array::from(bytes)), mime)
}

fn download_parts(name: &str, parts: js_sys::Array, mime: &str) -> Result<(), String> {
    let options = web_sys::BlobPropertyBag::new();
    options.set_type(mime);
    let blob = web_sys::Blob::new_with_str_sequence_and_options(&parts, &options).map_err(|e| format!("{e:?}"))?;
    let url = web_sys::Url::create_object_url_with_blob(&blob).map_err(|e| format!("{e:?}"))?;
    let document = web_sys::window().and_then(|w| w.document()).ok_or("no document")?;
    let a: web_sys::HtmlAnchorElement = document.create_element("a").map_err(|e| format!("{e:?}"))?.unchecked_into();
    a.set_href(&url);
    a.set_download(name);
    a.click();
    let _ = web_sys::Url::revoke_object_url(&url);
    Ok(())
}

/// Bytes of a picked file.
pub async fn read_file(file: &web_sys::File) -> Result<Vec<u8>, String> {
    let buf = wasm_bindgen_futures::JsFuture::from(file.array_buffer()).await.map_err(|e| format!("{}: {e:?}", file.name()))?;
    Ok(js_sys::Uint8Array::new(&buf).to_vec())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn guesses_kinds() {
        assert_eq!(import_kind(b"EU\tB-ORG\nrejects\tO\n", "x.txt"), ImportKind::Annotated(Format::Conll(ConllOptions::default())));
        assert_eq!(import_kind(b"Just some text.\nAnother line here\n", "x.txt"), ImportKind::Lines);
        assert_eq!(import_kind(b"{\"text\": \"a\", \"spans\": []}\n", "x.jsonl"), ImportKind::Annotated(Format::Jsonl));
    }

    #[test]
    fn import_errors_name_file_and_line_and_lines_become_documents() {
        let err = import(b"{\"text\": \"ab\", \"spans\": []}\n{\"text\": \"ab\", \"spans\": [{\"start\": 0, \"end\": 9, \"label\": \"X\"}]}\n", "up.jsonl").unwrap_err();
        assert!(err.contains("up.jsonl:2"), "{err}");
        let docs = import("<img src=x onerror=alert(1)>\n\nsecond".as_bytes(), "notes.txt").unwrap();
        assert_eq!(docs.len(), 2);
        assert_eq!(docs[0].text, "<img src=x onerror=alert(1)>");
    }

    #[test]
    fn jsonl_export_reimports_identically() {
        let ex = vec![Example { text: "Anna 👋 Paris".into(), spans: vec![nuner::data::Span::new(7, 12, "city")] }];
        let out = export_jsonl(&ex);
        assert_eq!(import(out.as_bytes(), "x.jsonl").unwrap(), ex);
        assert_eq!(export_jsonl(&import(out.as_bytes(), "x.jsonl").unwrap()), out);
    }
}
