//! Whether the store still accepts writes, and why not.
//!
//! First a reserve ([`Reserve`]): writes are refused while the data directory's file
//! system has less free space than the reserve, so that our own writes never fill the disk.
//! That matters because sled 0.34 also writes while reading (it splits and consolidates
//! nodes on the way to a key): on a disk full to the last block some reads fail too. Below
//! the reserve every read works, and writes resume by themselves once there is room.
//!
//! Then a latch ([`Health`]), for when the disk fills anyway (another program took the
//! reserve) or fails. sled stops taking writes after its first I/O error (its "global
//! error"), and after a failed flush the kernel may have dropped dirty pages, so a later
//! successful `fdatasync` would prove nothing. Either way the store is failed until the
//! process restarts and sled recovers from its log: the latch is set by the first write or
//! flush that fails and never cleared.
//!
//! Every write checks both first, so a refused write changes nothing; `/healthz` reports
//! them.

use std::io::ErrorKind;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::OnceLock;

use super::StoreError;

/// Why the store refuses writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// The file system is full (`ENOSPC`) or the quota is used up (`EDQUOT`).
    DiskFull,
    /// Another I/O error.
    Io,
    /// The store failed otherwise (sled reported a bug or corruption while flushing, or the
    /// flusher thread stopped).
    Failed,
}

impl Fault {
    /// The fault an I/O error means.
    pub fn of_io(e: &std::io::Error) -> Fault {
        match e.kind() {
            ErrorKind::StorageFull | ErrorKind::QuotaExceeded => Fault::DiskFull,
            _ => Fault::Io,
        }
    }

    /// The fault a sled error means: sled keeps the kind of the I/O error it hit.
    pub fn of_sled(e: &sled::Error) -> Fault {
        match e {
            sled::Error::Io(io) => Fault::of_io(io),
            _ => Fault::Failed,
        }
    }

    /// A few words for logs and `/healthz`.
    pub fn as_str(self) -> &'static str {
        match self {
            Fault::DiskFull => "disk full",
            Fault::Io => "I/O error",
            Fault::Failed => "store failed",
        }
    }
}

impl std::fmt::Display for Fault {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

const MIB: u64 = 1024 * 1024;

/// Free space kept on the data directory's file system: below it, writes are refused.
#[derive(Debug)]
pub(super) struct Reserve {
    dir: PathBuf,
    bytes: u64,
    /// Whether the last look found too little room (to log the changes only).
    short: AtomicBool,
}

impl Reserve {
    /// Keeps `bytes` free on the file system of `dir` (0: no reserve).
    pub(super) fn new(dir: PathBuf, bytes: u64) -> Reserve {
        Reserve {
            dir,
            bytes,
            short: AtomicBool::new(false),
        }
    }

    pub(super) fn dir(&self) -> &std::path::Path {
        &self.dir
    }

    /// Refuses when the file system has less room than the reserve. A file system that
    /// cannot be measured is not called full: the latch still catches a real failure.
    pub(super) fn check(&self) -> Result<(), StoreError> {
        if self.bytes == 0 {
            return Ok(());
        }
        let Ok(free) = fs2::available_space(&self.dir) else {
            return Ok(());
        };
        let short = free < self.bytes;
        if short != self.short.swap(short, Ordering::Relaxed) {
            if short {
                tracing::error!(
                    free_mib = free / MIB,
                    reserve_mib = self.bytes / MIB,
                    "the data directory's disk is almost full; refusing writes until there is room"
                );
            } else {
                tracing::warn!(
                    free_mib = free / MIB,
                    "room on the data directory's disk again; taking writes"
                );
            }
        }
        if !short {
            return Ok(());
        }
        Err(StoreError::Unavailable {
            fault: Fault::DiskFull,
            detail: format!(
                "{:.1} MiB free on the data directory's file system, less than the reserve of {} MiB",
                free as f64 / MIB as f64,
                self.bytes / MIB
            ),
        })
    }
}

/// The first failure, kept until the process ends.
#[derive(Debug)]
struct Failure {
    fault: Fault,
    detail: String,
}

/// The latch: empty while the store accepts writes.
#[derive(Debug, Default)]
pub(super) struct Health(OnceLock<Failure>);

impl Health {
    /// The fault that stopped writes, if one did.
    pub(super) fn fault(&self) -> Option<Fault> {
        self.0.get().map(|f| f.fault)
    }

    /// Refuses at once when the store has failed.
    pub(super) fn check(&self) -> Result<(), StoreError> {
        match self.0.get() {
            None => Ok(()),
            Some(f) => Err(StoreError::Unavailable {
                fault: f.fault,
                detail: format!("refusing writes until restart after: {}", f.detail),
            }),
        }
    }

    /// Marks the store failed by `e` (the first failure wins) and returns the refusal to
    /// answer with: after a failed flush nothing more may be acknowledged, whatever the
    /// error was.
    pub(super) fn fail(&self, e: &StoreError) -> StoreError {
        let fault = match e {
            StoreError::Unavailable { fault, .. } => *fault,
            _ => Fault::Failed,
        };
        let detail = match e {
            StoreError::Unavailable { detail, .. } => detail.clone(),
            _ => e.to_string(),
        };
        let failure = Failure {
            fault,
            detail: detail.clone(),
        };
        if self.0.set(failure).is_ok() {
            tracing::error!(%fault, error = %detail, "the store failed; refusing writes until restart");
        }
        match e {
            StoreError::Unavailable { .. } => e.clone(),
            _ => StoreError::Unavailable { fault, detail },
        }
    }

    /// Passes on the error of a write, marking the store failed when it is a storage fault
    /// (sled refuses every later write after one anyway). Other errors (a record that
    /// cannot be encoded, say) concern only their own request.
    pub(super) fn note(&self, e: StoreError) -> StoreError {
        match e {
            StoreError::Unavailable { .. } => self.fail(&e),
            e => e,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn io(kind: ErrorKind) -> std::io::Error {
        std::io::Error::new(kind, "test")
    }

    #[test]
    fn a_full_disk_or_quota_is_disk_full_and_other_io_errors_are_io() {
        assert_eq!(Fault::of_io(&io(ErrorKind::StorageFull)), Fault::DiskFull);
        assert_eq!(Fault::of_io(&io(ErrorKind::QuotaExceeded)), Fault::DiskFull);
        // The raw errno, as the kernel reports it (ENOSPC = 28, EIO = 5 on Linux).
        let enospc = std::io::Error::from_raw_os_error(28);
        assert_eq!(Fault::of_io(&enospc), Fault::DiskFull);
        assert_eq!(
            Fault::of_io(&std::io::Error::from_raw_os_error(5)),
            Fault::Io
        );
        assert_eq!(Fault::of_io(&io(ErrorKind::PermissionDenied)), Fault::Io);
    }

    #[test]
    fn sled_errors_keep_the_kind_of_their_io_error() {
        let enospc = sled::Error::Io(std::io::Error::from_raw_os_error(28));
        assert_eq!(Fault::of_sled(&enospc), Fault::DiskFull);
        // sled hands out clones of its global error, which keep only the kind.
        assert_eq!(Fault::of_sled(&enospc.clone()), Fault::DiskFull);
        let bug = sled::Error::ReportableBug("test".into());
        assert_eq!(Fault::of_sled(&bug), Fault::Failed);
    }

    #[test]
    fn the_latch_keeps_the_first_failure_and_refuses_from_then_on() {
        let health = Health::default();
        assert!(health.check().is_ok());
        assert_eq!(health.fault(), None);

        let full = StoreError::Unavailable {
            fault: Fault::DiskFull,
            detail: "No space left on device".into(),
        };
        assert!(matches!(
            health.note(full),
            StoreError::Unavailable {
                fault: Fault::DiskFull,
                ..
            }
        ));
        let later = StoreError::Unavailable {
            fault: Fault::Io,
            detail: "Input/output error".into(),
        };
        let _ = health.note(later);
        assert_eq!(health.fault(), Some(Fault::DiskFull));
        match health.check() {
            Err(StoreError::Unavailable { fault, detail }) => {
                assert_eq!(fault, Fault::DiskFull);
                assert!(detail.contains("No space left on device"), "{detail}");
            }
            other => panic!("a failed store accepted a write: {other:?}"),
        }
    }

    #[test]
    fn errors_that_are_not_storage_faults_leave_the_store_writable() {
        let health = Health::default();
        let e = health.note(StoreError::Corrupt("bad JSON".into()));
        assert!(matches!(e, StoreError::Corrupt(_)));
        assert!(health.check().is_ok());
    }

    #[test]
    fn any_failed_flush_fails_the_store_and_is_answered_as_unavailable() {
        let health = Health::default();
        let e = health.fail(&StoreError::Storage("sled reported a bug".into()));
        assert!(matches!(
            e,
            StoreError::Unavailable {
                fault: Fault::Failed,
                ..
            }
        ));
        assert_eq!(health.fault(), Some(Fault::Failed));
    }
}
