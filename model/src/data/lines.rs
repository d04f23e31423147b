//! Numbered lines of a byte buffer: `\n` or `\r\n` endings, a leading UTF-8 BOM dropped, each
//! line decoded on its own so that one bad byte spoils one line, not the file.

const BOM: &[u8] = b"\xEF\xBB\xBF";

/// `(1-based line number, the line or why it is not UTF-8)`.
pub(crate) fn numbered(bytes: &[u8]) -> impl Iterator<Item = (usize, Result<&str, String>)> {
    let bytes = bytes.strip_prefix(BOM).unwrap_or(bytes);
    let body = bytes.strip_suffix(b"\n").unwrap_or(bytes);
    let empty = bytes.is_empty();
    body.split(|&b| b == b'\n').filter(move |_| !empty).enumerate().map(|(i, raw)| {
        let raw = raw.strip_suffix(b"\r").unwrap_or(raw);
        let line = std::str::from_utf8(raw)
            .map_err(|e| format!("not valid UTF-8 (at byte {} of the line)", e.valid_up_to() + 1));
        (i + 1, line)
    })
}

/// The bytes with a leading BOM removed.
pub(crate) fn strip_bom(bytes: &[u8]) -> &[u8] {
    bytes.strip_prefix(BOM).unwrap_or(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crlf_bom_and_bad_bytes() {
        let v: Vec<_> = numbered(b"\xEF\xBB\xBFa b\r\n\r\nc\xFFd\n").collect();
        assert_eq!(v.len(), 3);
        assert_eq!(v[0], (1, Ok("a b")));
        assert_eq!(v[1], (2, Ok("")));
        assert_eq!(v[2].0, 3);
        assert!(v[2].1.as_ref().unwrap_err().contains("byte 2"));
        assert_eq!(numbered(b"").count(), 0);
        assert_eq!(numbered(b"x").count(), 1);
        assert_eq!(numbered(b"\n").count(), 1);
    }
}
