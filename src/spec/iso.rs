//! The identification strings of an ISO 9660 image, from its primary volume descriptor
//! (the 2048-byte sector 16, at byte 32768).

use std::fs::File;
use std::io::{self, Read, Seek, SeekFrom};
use std::path::Path;

const SECTOR: usize = 2048;
const PVD_OFFSET: u64 = 16 * SECTOR as u64;

/// What an installer image says about itself. Fields are trimmed of their space padding.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct IsoIds {
    pub system_id: String,
    pub volume_id: String,
    pub publisher_id: String,
    pub application_id: String,
}

/// Reads the ids of the ISO image at `path`; `Ok(None)` when it is no ISO 9660 image.
pub fn read_iso_ids(path: &Path) -> io::Result<Option<IsoIds>> {
    let mut file = File::open(path)?;
    file.seek(SeekFrom::Start(PVD_OFFSET))?;
    let mut pvd = [0u8; SECTOR];
    match file.read_exact(&mut pvd) {
        Ok(()) => Ok(parse_pvd(&pvd)),
        Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => Ok(None),
        Err(e) => Err(e),
    }
}

/// The ids of a primary volume descriptor sector, or `None` when it is not one
/// (type 1, standard identifier `CD001`).
pub fn parse_pvd(pvd: &[u8; SECTOR]) -> Option<IsoIds> {
    if pvd[0] != 1 || &pvd[1..6] != b"CD001" {
        return None;
    }
    Some(IsoIds {
        system_id: field(&pvd[8..40]),
        volume_id: field(&pvd[40..72]),
        publisher_id: field(&pvd[318..446]),
        application_id: field(&pvd[574..702]),
    })
}

/// An a-/d-character field: ASCII padded with spaces (some tools pad with NULs).
fn field(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes)
        .trim_end_matches([' ', '\0'])
        .to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pvd_with(volume: &str, system: &str) -> [u8; SECTOR] {
        let mut pvd = [b' '; SECTOR];
        pvd[0] = 1;
        pvd[1..6].copy_from_slice(b"CD001");
        pvd[8..8 + system.len()].copy_from_slice(system.as_bytes());
        pvd[40..40 + volume.len()].copy_from_slice(volume.as_bytes());
        pvd
    }

    #[test]
    fn reads_the_padded_fields() {
        let ids = parse_pvd(&pvd_with("Debian 12.5.0 amd64 n", "LINUX")).unwrap();
        assert_eq!(ids.volume_id, "Debian 12.5.0 amd64 n");
        assert_eq!(ids.system_id, "LINUX");
        assert_eq!(ids.publisher_id, "");
    }

    #[test]
    fn other_sectors_are_no_pvd() {
        let mut pvd = pvd_with("X", "Y");
        pvd[0] = 2; // a supplementary descriptor
        assert_eq!(parse_pvd(&pvd), None);
        assert_eq!(parse_pvd(&[0; SECTOR]), None);
    }
}
