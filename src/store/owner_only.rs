//! Files only their owner may read. The data directory holds every profile and the report
//! tokens, so it is 0700 and everything in it is 0600 (directories 0700); a directory left
//! looser by an earlier version, or by hand, is tightened, with a log line. A file that
//! must be whole or absent (a backup) is written beside its target as a new file (0600,
//! `O_EXCL`, `O_NOFOLLOW`), synced, and renamed over the target, so the old one stays
//! intact until the new one is complete; a symbolic link as target is refused.
//!
//! Knows nothing of sled or of what the files hold.

use std::fs::{self, File, OpenOptions};
use std::io::{self, BufWriter, Write};
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

/// The mode of the data directory and of every directory in it.
pub const DIR_MODE: u32 = 0o700;
/// The mode of every file in the data directory, and of backups.
pub const FILE_MODE: u32 = 0o600;
/// The permission bits that let anyone but the owner in.
const GROUP_OTHER: u32 = 0o077;
/// How deep [`tighten`] looks below the data directory (sled's layout is two levels deep).
const MAX_DEPTH: usize = 8;

/// Creates the data directory (0700) when it does not exist, then takes the group's and
/// others' permissions off it and off everything in it; returns how many entries changed.
/// The directory itself may be a symbolic link (to a volume, say); nothing inside it is
/// followed.
pub fn prepare_dir(dir: &Path) -> io::Result<usize> {
    fs::DirBuilder::new()
        .recursive(true)
        .mode(DIR_MODE)
        .create(dir)?;
    let mode = fs::metadata(dir)?.permissions().mode();
    let mut changed = 0;
    if mode & GROUP_OTHER != 0 {
        fs::set_permissions(
            dir,
            fs::Permissions::from_mode(mode & !GROUP_OTHER & 0o7777),
        )?;
        tracing::warn!(
            dir = %dir.display(),
            was = %format!("{:o}", mode & 0o777),
            "the data directory was open to other users; tightened to owner-only"
        );
        changed += 1;
    }
    let inside = tighten(dir)?;
    if inside > 0 {
        tracing::warn!(
            dir = %dir.display(),
            entries = inside,
            "files in the data directory were open to other users; tightened to owner-only"
        );
    }
    Ok(changed + inside)
}

/// Takes the group's and others' permissions off everything below `dir` (not `dir`
/// itself), without following symbolic links; returns how many entries changed.
pub fn tighten(dir: &Path) -> io::Result<usize> {
    let mut changed = 0;
    let mut pending: Vec<(PathBuf, usize)> = vec![(dir.to_path_buf(), 0)];
    while let Some((d, depth)) = pending.pop() {
        for entry in fs::read_dir(&d)? {
            let entry = entry?;
            let path = entry.path();
            let meta = fs::symlink_metadata(&path)?;
            if meta.file_type().is_symlink() {
                continue;
            }
            let mode = meta.permissions().mode();
            if mode & GROUP_OTHER != 0 {
                fs::set_permissions(&path, fs::Permissions::from_mode(tightened(mode)))?;
                changed += 1;
            }
            if meta.is_dir() && depth < MAX_DEPTH {
                pending.push((path, depth + 1));
            }
        }
    }
    Ok(changed)
}

/// `mode` without the group's and others' bits.
fn tightened(mode: u32) -> u32 {
    mode & 0o7777 & !GROUP_OTHER
}

/// Why a file could not be replaced.
#[derive(Debug, thiserror::Error)]
pub enum ReplaceError<E> {
    #[error("{0} is a symbolic link; refusing to write through it (name the file itself)")]
    Symlink(PathBuf),
    #[error("{0} exists and is not a regular file")]
    NotAFile(PathBuf),
    #[error("{path}: {source}")]
    Io { path: PathBuf, source: io::Error },
    /// The caller's writer failed; the target is untouched.
    #[error(transparent)]
    Write(E),
}

/// Checks that `target` may be replaced: absent, or a regular file (not a symbolic link).
pub fn check_target<E>(target: &Path) -> Result<(), ReplaceError<E>> {
    match fs::symlink_metadata(target) {
        Ok(m) if m.file_type().is_symlink() => Err(ReplaceError::Symlink(target.to_path_buf())),
        Ok(m) if !m.is_file() => Err(ReplaceError::NotAFile(target.to_path_buf())),
        Ok(_) => Ok(()),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
        Err(source) => Err(ReplaceError::Io {
            path: target.to_path_buf(),
            source,
        }),
    }
}

/// Writes a new file with `write` and renames it over `target` once it is complete and on
/// disk: a new file beside the target (0600, created exclusively, never through a link),
/// `fsync`ed, renamed, then the directory `fsync`ed. When anything fails the target is
/// as it was and the new file is removed. A symbolic link as `target` is refused.
pub fn replace_file<T, E>(
    target: &Path,
    write: impl FnOnce(&mut BufWriter<&File>) -> Result<T, E>,
) -> Result<T, ReplaceError<E>> {
    check_target(target)?;
    let io_err = |path: &Path| {
        let path = path.to_path_buf();
        move |source| ReplaceError::Io { path, source }
    };
    let dir = match target.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    let name = target
        .file_name()
        .ok_or_else(|| ReplaceError::NotAFile(target.to_path_buf()))?;
    let prefix = format!(".{}.", name.to_string_lossy());
    let nofollow = rustix::fs::OFlags::NOFOLLOW.bits() as i32;
    let tmp = tempfile::Builder::new()
        .prefix(&prefix)
        .suffix(".tmp")
        .make_in(dir, |path| {
            OpenOptions::new()
                .write(true)
                .create_new(true)
                .mode(FILE_MODE)
                .custom_flags(nofollow)
                .open(path)
        })
        .map_err(io_err(dir))?;
    let value = {
        let mut out = BufWriter::new(tmp.as_file());
        let value = write(&mut out).map_err(ReplaceError::Write)?;
        out.flush().map_err(io_err(tmp.path()))?;
        value
    };
    tmp.as_file().sync_all().map_err(io_err(tmp.path()))?;
    tmp.persist(target).map_err(|e| io_err(target)(e.error))?;
    sync_dir(dir).map_err(io_err(dir))?;
    Ok(value)
}

/// Makes a directory's entries (a rename, a new file) durable.
pub fn sync_dir(dir: &Path) -> io::Result<()> {
    File::open(dir)?.sync_all()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mode(p: &Path) -> u32 {
        fs::symlink_metadata(p).unwrap().permissions().mode() & 0o777
    }

    #[test]
    fn only_the_group_and_other_bits_are_taken_off() {
        assert_eq!(tightened(0o100644), 0o600);
        assert_eq!(tightened(0o40755), 0o700);
        assert_eq!(tightened(0o400), 0o400, "never loosened");
        assert_eq!(tightened(0o1777), 0o1700);
    }

    #[test]
    fn a_loose_directory_and_its_files_are_tightened_without_following_links() {
        let base = tempfile::tempdir().unwrap();
        let dir = base.path().join("data");
        fs::create_dir_all(dir.join("sled")).unwrap();
        fs::set_permissions(&dir, fs::Permissions::from_mode(0o755)).unwrap();
        fs::set_permissions(dir.join("sled"), fs::Permissions::from_mode(0o755)).unwrap();
        fs::write(dir.join("sled/db"), b"x").unwrap();
        fs::set_permissions(dir.join("sled/db"), fs::Permissions::from_mode(0o644)).unwrap();
        let outside = base.path().join("outside");
        fs::write(&outside, b"y").unwrap();
        fs::set_permissions(&outside, fs::Permissions::from_mode(0o644)).unwrap();
        std::os::unix::fs::symlink(&outside, dir.join("link")).unwrap();

        assert_eq!(prepare_dir(&dir).unwrap(), 3);
        assert_eq!(mode(&dir), 0o700);
        assert_eq!(mode(&dir.join("sled")), 0o700);
        assert_eq!(mode(&dir.join("sled/db")), 0o600);
        assert_eq!(mode(&outside), 0o644, "a link is not followed");
        assert_eq!(prepare_dir(&dir).unwrap(), 0, "nothing left to do");
    }

    #[test]
    fn a_new_data_directory_is_owner_only() {
        let base = tempfile::tempdir().unwrap();
        let dir = base.path().join("new");
        prepare_dir(&dir).unwrap();
        assert_eq!(mode(&dir), 0o700);
    }

    #[test]
    fn a_failed_write_leaves_the_target_and_no_new_file() {
        let base = tempfile::tempdir().unwrap();
        let target = base.path().join("b.jsonl");
        fs::write(&target, b"old").unwrap();
        let r: Result<(), ReplaceError<&str>> = replace_file(&target, |out| {
            out.write_all(b"half").unwrap();
            Err("stopped")
        });
        assert!(matches!(r, Err(ReplaceError::Write("stopped"))));
        assert_eq!(fs::read(&target).unwrap(), b"old");
        assert_eq!(fs::read_dir(base.path()).unwrap().count(), 1, "no leftover");
    }

    #[test]
    fn a_replaced_file_is_a_new_owner_only_file() {
        let base = tempfile::tempdir().unwrap();
        let target = base.path().join("b.jsonl");
        fs::write(&target, b"old").unwrap();
        fs::set_permissions(&target, fs::Permissions::from_mode(0o644)).unwrap();
        let kept = base.path().join("kept");
        fs::hard_link(&target, &kept).unwrap();
        replace_file::<_, io::Error>(&target, |out| out.write_all(b"new")).unwrap();
        assert_eq!(fs::read(&target).unwrap(), b"new");
        assert_eq!(mode(&target), 0o600);
        assert_eq!(
            fs::read(&kept).unwrap(),
            b"old",
            "the old file was never rewritten"
        );
    }

    #[test]
    fn a_symbolic_link_is_refused() {
        let base = tempfile::tempdir().unwrap();
        let real = base.path().join("real");
        fs::write(&real, b"keep").unwrap();
        let link = base.path().join("link");
        std::os::unix::fs::symlink(&real, &link).unwrap();
        let r = replace_file::<_, io::Error>(&link, |out| out.write_all(b"new"));
        assert!(matches!(r, Err(ReplaceError::Symlink(_))));
        assert_eq!(fs::read(&real).unwrap(), b"keep");
        assert!(fs::symlink_metadata(&link)
            .unwrap()
            .file_type()
            .is_symlink());
    }
}
