//! The binary form of a roll-up bucket's entries (migration 0010): a sequence of groups, each
//! its field values (the figures' groups and filters) and then its entries as small integers.
//!
//! ```text
//! group  := field* length body        (a fixed number of fields per kind of bucket)
//! field  := length byte*              (UTF-8; '' for a missing value)
//! length := unsigned LEB128
//! body   := what the kind of bucket puts there: hours (one byte, 0–167 from the bucket's
//!           start), unsigned and zig-zag signed LEB128 numbers
//! ```
//!
//! A year of reports and orders is a few megabytes read in one pass, instead of millions of
//! numbers as text. Reading checks every length, so a damaged blob is an error, never a panic.

#[derive(Debug, thiserror::Error)]
#[error("malformed statistics roll-up: {0}")]
pub struct Malformed(pub &'static str);

/// Writes groups one after the other.
#[derive(Default)]
pub struct Writer {
    bytes: Vec<u8>,
}

impl Writer {
    /// Appends a group with `fields` and `body` (written by a `Body`).
    pub fn group(&mut self, fields: &[impl AsRef<str>], body: &Body) {
        for field in fields.iter().map(AsRef::as_ref) {
            put_unsigned(&mut self.bytes, field.len() as u64);
            self.bytes.extend_from_slice(field.as_bytes());
        }
        put_unsigned(&mut self.bytes, body.bytes.len() as u64);
        self.bytes.extend_from_slice(&body.bytes);
    }

    pub fn into_bytes(self) -> Vec<u8> {
        self.bytes
    }
}

/// A group's entries.
#[derive(Default)]
pub struct Body {
    bytes: Vec<u8>,
}

impl Body {
    pub fn hour(&mut self, hour: u8) {
        self.bytes.push(hour);
    }

    pub fn unsigned(&mut self, value: u64) {
        put_unsigned(&mut self.bytes, value);
    }

    pub fn signed(&mut self, value: i64) {
        put_unsigned(&mut self.bytes, ((value << 1) ^ (value >> 63)) as u64);
    }

    /// Appends `count` and then the entries of `other`.
    pub fn section(&mut self, count: u64, other: &Body) {
        self.unsigned(count);
        self.bytes.extend_from_slice(&other.bytes);
    }
}

fn put_unsigned(bytes: &mut Vec<u8>, mut value: u64) {
    while value >= 0x80 {
        bytes.push((value as u8) | 0x80);
        value >>= 7;
    }
    bytes.push(value as u8);
}

/// Reads what a `Writer` or a `Body` wrote.
pub struct Reader<'a> {
    bytes: &'a [u8],
}

impl<'a> Reader<'a> {
    pub fn new(bytes: &'a [u8]) -> Self {
        Reader { bytes }
    }

    pub fn is_empty(&self) -> bool {
        self.bytes.is_empty()
    }

    /// The next group's `N` fields and a reader of its body, or `None` at the end.
    pub fn group<const N: usize>(&mut self) -> Result<Option<([&'a str; N], Reader<'a>)>, Malformed> {
        if self.bytes.is_empty() {
            return Ok(None);
        }
        let mut fields = [""; N];
        for field in &mut fields {
            let bytes = self.take_counted()?;
            *field = std::str::from_utf8(bytes).map_err(|_| Malformed("a field is not UTF-8"))?;
        }
        Ok(Some((fields, Reader::new(self.take_counted()?))))
    }

    /// An hour in the bucket, 0–167.
    pub fn hour(&mut self) -> Result<u8, Malformed> {
        let (&hour, rest) = self.bytes.split_first().ok_or(Malformed("an entry ends early"))?;
        if i64::from(hour) >= super::buckets::BUCKET_HOURS {
            return Err(Malformed("an hour lies outside its bucket"));
        }
        self.bytes = rest;
        Ok(hour)
    }

    pub fn unsigned(&mut self) -> Result<u64, Malformed> {
        let mut value = 0u64;
        for (i, &byte) in self.bytes.iter().enumerate().take(10) {
            value |= u64::from(byte & 0x7f) << (7 * i);
            if byte & 0x80 == 0 {
                self.bytes = &self.bytes[i + 1..];
                return Ok(value);
            }
        }
        Err(Malformed("a number ends early or is too long"))
    }

    pub fn signed(&mut self) -> Result<i64, Malformed> {
        let value = self.unsigned()?;
        Ok((value >> 1) as i64 ^ -((value & 1) as i64))
    }

    fn take_counted(&mut self) -> Result<&'a [u8], Malformed> {
        let length = usize::try_from(self.unsigned()?).map_err(|_| Malformed("a length is too large"))?;
        if length > self.bytes.len() {
            return Err(Malformed("a length runs past the end"));
        }
        let (taken, rest) = self.bytes.split_at(length);
        self.bytes = rest;
        Ok(taken)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn groups_and_numbers_read_back_as_written() {
        let mut body = Body::default();
        body.hour(167);
        body.unsigned(u64::MAX);
        for value in [0, -1, 1, i64::MIN, i64::MAX, 25_966, -3] {
            body.signed(value);
        }
        let mut writer = Writer::default();
        writer.group(&["strassenschaden", "", "bauhof-nord"], &body);
        writer.group(&["ä", "b", "c"], &Body::default());
        let bytes = writer.into_bytes();

        let mut reader = Reader::new(&bytes);
        let (fields, mut entries) = reader.group::<3>().unwrap().unwrap();
        assert_eq!(fields, ["strassenschaden", "", "bauhof-nord"]);
        assert_eq!(entries.hour().unwrap(), 167);
        assert_eq!(entries.unsigned().unwrap(), u64::MAX);
        for value in [0, -1, 1, i64::MIN, i64::MAX, 25_966, -3] {
            assert_eq!(entries.signed().unwrap(), value);
        }
        assert!(entries.is_empty());
        let (fields, entries) = reader.group::<3>().unwrap().unwrap();
        assert_eq!(fields, ["ä", "b", "c"]);
        assert!(entries.is_empty());
        assert!(reader.group::<3>().unwrap().is_none());
    }

    #[test]
    fn damaged_bytes_are_an_error() {
        let mut body = Body::default();
        body.hour(3);
        body.signed(-300);
        let mut writer = Writer::default();
        writer.group(&["a", "b"], &body);
        let bytes = writer.into_bytes();
        for cut in 1..bytes.len() {
            let mut reader = Reader::new(&bytes[..cut]);
            assert!(reader.group::<2>().is_err(), "cut at {cut}");
        }
        let mut entries = Reader::new(&[168]);
        assert!(entries.hour().is_err(), "an hour past the bucket");
        assert!(Reader::new(&[0x80; 11]).unsigned().is_err(), "a number of eleven bytes");
        assert!(Reader::new(&[0xff; 3]).unsigned().is_err(), "a number without its last byte");
        assert!(Reader::new(&[]).hour().is_err());
        assert!(Reader::new(&[1, 0xff, 0]).group::<1>().is_err(), "a field that is not UTF-8");
    }
}
