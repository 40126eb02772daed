//! What is worth keeping from a photo's metadata before all of it is thrown away: where it was
//! taken (EXIF GPS with its N/S/E/W references, or XMP `exif:GPSLatitude`/`GPSLongitude`) and
//! when. Everything else (owner, serial numbers, thumbnails) is never read.

use exif::{In, Tag, Value};

use crate::LatLon;

/// Position and capture time read from EXIF (preferred) and XMP.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct Found {
    pub gps: Option<LatLon>,
    /// Local capture time as written by the camera, `YYYY-MM-DDTHH:MM:SS`, with its UTC offset
    /// (`+02:00`) when the camera recorded one.
    pub taken_at: Option<String>,
}

/// The EXIF block as a TIFF structure: some writers keep JPEG's "Exif\0\0" prefix in PNG and
/// WebP EXIF chunks, which neither the orientation nor the GPS reader expects.
pub fn without_exif_prefix(mut blob: Vec<u8>) -> Vec<u8> {
    if blob.starts_with(b"Exif\0\0") {
        blob.drain(..6);
    }
    blob
}

/// Reads from the raw EXIF (TIFF) block and the XMP packet, either of which may be absent.
pub fn read(exif_blob: Option<Vec<u8>>, xmp: Option<&[u8]>) -> Found {
    let exif = exif_blob.and_then(|blob| exif::Reader::new().read_raw(blob).ok());
    let xmp = xmp.and_then(|bytes| std::str::from_utf8(bytes).ok());
    let gps = exif.as_ref().and_then(exif_gps).or_else(|| xmp.and_then(xmp_gps));
    let taken_at = exif.as_ref().and_then(exif_taken_at).or_else(|| xmp.and_then(xmp_taken_at));
    Found { gps, taken_at }
}

fn exif_gps(exif: &exif::Exif) -> Option<LatLon> {
    let coordinate = |value_tag: Tag, ref_tag: Tag, negative: u8| -> Option<f64> {
        let Value::Rational(parts) = &exif.get_field(value_tag, In::PRIMARY)?.value else { return None };
        let mut degrees = 0.0;
        for (part, scale) in parts.iter().zip([1.0, 60.0, 3600.0]) {
            if part.denom == 0 {
                return None;
            }
            degrees += part.to_f64() / scale;
        }
        let Value::Ascii(reference) = &exif.get_field(ref_tag, In::PRIMARY)?.value else { return None };
        let letter = reference.first().and_then(|r| r.first()).copied()?.to_ascii_uppercase();
        Some(if letter == negative { -degrees } else { degrees })
    };
    let lat = coordinate(Tag::GPSLatitude, Tag::GPSLatitudeRef, b'S')?;
    let lon = coordinate(Tag::GPSLongitude, Tag::GPSLongitudeRef, b'W')?;
    plausible(lat, lon)
}

/// Cameras without a fix write 0/0; anything off the globe is corrupt.
fn plausible(lat: f64, lon: f64) -> Option<LatLon> {
    if lat == 0.0 && lon == 0.0 {
        return None;
    }
    LatLon::new(lat, lon).ok()
}

fn exif_taken_at(exif: &exif::Exif) -> Option<String> {
    let ascii = |tag: Tag| match &exif.get_field(tag, In::PRIMARY)?.value {
        Value::Ascii(values) => values.first().and_then(|v| std::str::from_utf8(v).ok()).map(str::trim),
        _ => None,
    };
    let (time, offset) = match ascii(Tag::DateTimeOriginal) {
        Some(time) => (time, ascii(Tag::OffsetTimeOriginal)),
        None => (ascii(Tag::DateTimeDigitized)?, ascii(Tag::OffsetTimeDigitized)),
    };
    // "YYYY:MM:DD HH:MM:SS"
    let b = time.as_bytes();
    let shape_ok = b.len() == 19
        && b.iter().enumerate().all(|(i, c)| match i {
            4 | 7 => *c == b':',
            10 => *c == b' ',
            13 | 16 => *c == b':',
            _ => c.is_ascii_digit(),
        });
    if !shape_ok || time.starts_with("0000") {
        return None;
    }
    let iso = format!("{}-{}-{}T{}", &time[0..4], &time[5..7], &time[8..10], &time[11..19]);
    Some(match offset.filter(|o| valid_offset(o)) {
        Some(offset) => format!("{iso}{offset}"),
        None => iso,
    })
}

fn valid_offset(offset: &str) -> bool {
    let b = offset.as_bytes();
    b.len() == 6
        && (b[0] == b'+' || b[0] == b'-')
        && b[3] == b':'
        && [1, 2, 4, 5].iter().all(|&i| b[i].is_ascii_digit())
}

/// The text of an XMP property, written either as an attribute (`exif:GPSLatitude="…"`) or as
/// an element (`<exif:GPSLatitude>…</exif:GPSLatitude>`).
fn xmp_property<'a>(xmp: &'a str, name: &str) -> Option<&'a str> {
    let mut rest = xmp;
    while let Some(found) = rest.find(name) {
        let after = &rest[found + name.len()..];
        let opening_element = found > 0 && rest.as_bytes()[found - 1] == b'<';
        if let Some(value) = after.strip_prefix("=\"").and_then(|v| v.split('"').next()) {
            return Some(value.trim());
        }
        if let Some(value) = after.strip_prefix("='").and_then(|v| v.split('\'').next()) {
            return Some(value.trim());
        }
        if opening_element {
            if let Some(value) = after.strip_prefix('>').and_then(|v| v.split('<').next()) {
                return Some(value.trim());
            }
        }
        rest = after;
    }
    None
}

/// XMP writes GPS as `DDD,MM,SSk` or `DDD,MM.mmk` (k one of N, S, E, W); some tools write
/// plain decimal degrees.
fn xmp_coordinate(value: &str, positive: char, negative: char) -> Option<f64> {
    let value = value.trim();
    let last = value.chars().last()?.to_ascii_uppercase();
    let (number, sign) = if last == positive {
        (&value[..value.len() - 1], 1.0)
    } else if last == negative {
        (&value[..value.len() - 1], -1.0)
    } else {
        (value, 1.0)
    };
    let parts: Vec<f64> = number.split(',').map(|p| p.trim().parse::<f64>()).collect::<Result<_, _>>().ok()?;
    if parts.is_empty() || parts.len() > 3 || parts.iter().any(|p| !p.is_finite()) {
        return None;
    }
    let degrees: f64 = parts.iter().zip([1.0, 60.0, 3600.0]).map(|(p, scale)| p / scale).sum();
    Some(sign * degrees)
}

fn xmp_gps(xmp: &str) -> Option<LatLon> {
    let lat = xmp_coordinate(xmp_property(xmp, "exif:GPSLatitude")?, 'N', 'S')?;
    let lon = xmp_coordinate(xmp_property(xmp, "exif:GPSLongitude")?, 'E', 'W')?;
    plausible(lat, lon)
}

fn xmp_taken_at(xmp: &str) -> Option<String> {
    let value = ["exif:DateTimeOriginal", "photoshop:DateCreated", "xmp:CreateDate"]
        .iter()
        .find_map(|name| xmp_property(xmp, name))?;
    // ISO 8601: at least "YYYY-MM-DDTHH:MM"; kept as written, capped in length.
    let b = value.as_bytes();
    let shape_ok = b.len() >= 16
        && b.len() <= 32
        && b[..4].iter().all(u8::is_ascii_digit)
        && b[4] == b'-'
        && b[7] == b'-'
        && b[10] == b'T'
        && value.chars().all(|c| c.is_ascii_digit() || "-:T+Z.".contains(c));
    shape_ok.then(|| value.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn xmp_coordinates_in_every_written_form() {
        assert_eq!(xmp_coordinate("51,30.8160N", 'N', 'S'), Some(51.0 + 30.816 / 60.0));
        assert_eq!(xmp_coordinate("7,27,55.08W", 'E', 'W'), Some(-(7.0 + 27.0 / 60.0 + 55.08 / 3600.0)));
        assert_eq!(xmp_coordinate("51.5136", 'N', 'S'), Some(51.5136));
        assert_eq!(xmp_coordinate("abcN", 'N', 'S'), None);
        assert_eq!(xmp_coordinate("", 'N', 'S'), None);
        assert_eq!(xmp_coordinate("1,2,3,4N", 'N', 'S'), None);
    }

    #[test]
    fn xmp_properties_as_attributes_and_elements_but_not_their_ref_siblings() {
        let attributes = r#"<rdf:Description exif:GPSLatitudeRef="N" exif:GPSLatitude="51,30.8160N" exif:GPSLongitude="7,27.918E"/>"#;
        let gps = xmp_gps(attributes).unwrap();
        assert!((gps.lat() - 51.5136).abs() < 1e-9 && (gps.lon() - 7.4653).abs() < 1e-9);
        let elements =
            "<exif:GPSLatitude>51,30.8160N</exif:GPSLatitude><exif:GPSLongitude>7,27.918E</exif:GPSLongitude>";
        assert_eq!(xmp_gps(elements), Some(gps));
        assert_eq!(xmp_gps(r#"exif:GPSLatitude="91,0N" exif:GPSLongitude="7,0E""#), None);
        assert_eq!(xmp_gps(r#"exif:GPSLatitude="0,0N" exif:GPSLongitude="0,0E""#), None);
    }

    #[test]
    fn xmp_capture_time_is_kept_only_when_it_looks_like_a_time() {
        assert_eq!(
            xmp_taken_at(r#"xmp:CreateDate="2026-05-17T14:03:22+02:00""#).as_deref(),
            Some("2026-05-17T14:03:22+02:00")
        );
        assert_eq!(xmp_taken_at(r#"xmp:CreateDate="Tuesday""#), None);
    }

    #[test]
    fn missing_or_broken_metadata_gives_nothing() {
        assert_eq!(read(None, None), Found::default());
        assert_eq!(read(Some(b"not a tiff".to_vec()), Some(b"\xff\xfe")), Found::default());
    }
}
