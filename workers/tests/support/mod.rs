//! Inputs the photo tests read (the repository's fixture photos, tests/fixtures/photos) or build
//! themselves.

/// A photo from the repository's tests/fixtures/photos (see SOURCES.md there).
pub fn fixture(name: &str) -> Vec<u8> {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/fixtures/photos").join(name);
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// A PNG whose header declares `width`×`height` but which carries almost no data.
pub fn bomb_png(width: u32, height: u32) -> Vec<u8> {
    fn chunk(out: &mut Vec<u8>, kind: &[u8; 4], data: &[u8]) {
        out.extend_from_slice(&(data.len() as u32).to_be_bytes());
        let start = out.len();
        out.extend_from_slice(kind);
        out.extend_from_slice(data);
        let crc = crc32(&out[start..]);
        out.extend_from_slice(&crc.to_be_bytes());
    }
    fn crc32(bytes: &[u8]) -> u32 {
        let mut crc = 0xFFFF_FFFFu32;
        for &byte in bytes {
            crc ^= u32::from(byte);
            for _ in 0..8 {
                crc = if crc & 1 == 1 { (crc >> 1) ^ 0xEDB8_8320 } else { crc >> 1 };
            }
        }
        !crc
    }
    let mut out = b"\x89PNG\r\n\x1a\n".to_vec();
    let mut ihdr = Vec::new();
    ihdr.extend_from_slice(&width.to_be_bytes());
    ihdr.extend_from_slice(&height.to_be_bytes());
    ihdr.extend_from_slice(&[8, 2, 0, 0, 0]); // 8-bit RGB
    chunk(&mut out, b"IHDR", &ihdr);
    chunk(&mut out, b"IDAT", &[0x78, 0x9C, 0x03, 0x00, 0x00, 0x00, 0x00, 0x01]);
    chunk(&mut out, b"IEND", &[]);
    out
}

/// The camera WebP fixture with its EXIF chunk declaring 4 GB (the shape of a crash the
/// fuzzer found: the WebP decoder allocates a chunk's declared size before reading it).
pub fn webp_with_huge_chunk() -> Vec<u8> {
    let mut webp = fixture("camera_o1_gps.webp");
    let exif = webp.windows(4).rposition(|w| w == b"EXIF").expect("the fixture has an EXIF chunk");
    webp[exif + 4..exif + 8].copy_from_slice(&0xFFFF_FF00u32.to_le_bytes());
    webp
}
