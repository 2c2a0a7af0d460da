//! Deleting abandoned drafts: a company's own draft (no broker invited it) untouched
//! since a cut-off. Anyone can create drafts, so without this they would pile up for ever;
//! a broker's invitation stays until the broker's client answers it.

use std::sync::Arc;

use chrono::{DateTime, Utc};

use super::{
    decode_record, key, record_key, AssessmentRecord, Status, Store, StoreError, EDIT, ID, RECORD,
    REPORT,
};

/// Whether a record is an abandoned draft under this cut-off.
pub fn is_stale_draft(record: &AssessmentRecord, untouched_since: DateTime<Utc>) -> bool {
    record.status == Status::Draft
        && record.invitation.is_none()
        && record.updated_at < untouched_since
}

impl Store {
    /// Deletes every draft that no broker invited and that nobody changed since
    /// `untouched_since`, with its index entries, durably. Returns how many went.
    ///
    /// A draft changed or submitted while the sweep runs is kept: its record is removed
    /// only if it is still the exact value that was judged (compare and swap). The record
    /// goes first, so a crash in between leaves index entries that find nothing, as after
    /// an interrupted insert.
    ///
    /// The scan reads every record, so it runs on a blocking thread, never on the async
    /// runtime's.
    #[tracing::instrument(skip(self))]
    pub async fn delete_stale_drafts(
        self: Arc<Self>,
        untouched_since: DateTime<Utc>,
    ) -> Result<usize, StoreError> {
        let store = self.clone();
        let deleted =
            tokio::task::spawn_blocking(move || store.delete_stale_drafts_now(untouched_since))
                .await
                .map_err(|e| StoreError::Storage(e.to_string()))??;
        if deleted > 0 {
            self.durable().await?;
        }
        Ok(deleted)
    }

    /// The scan and deletions of [`Store::delete_stale_drafts`], without waiting for the
    /// disk.
    fn delete_stale_drafts_now(&self, untouched_since: DateTime<Utc>) -> Result<usize, StoreError> {
        let mut deleted = 0;
        for item in self.tree.scan_prefix([RECORD]) {
            let (k, v) = item?;
            let record = decode_record(&v)?;
            if !is_stale_draft(&record, untouched_since) {
                continue;
            }
            // Through `write`: refused below the reserve or after a failure.
            let swapped =
                self.write(|| Ok(self.tree.compare_and_swap(&k, Some(&v), None::<&[u8]>)?))?;
            if swapped.is_err() {
                continue;
            }
            let rk = record_key(&record);
            for index in [
                key(ID, record.id.as_bytes()),
                key(EDIT, &record.edit_digest()?.0),
                key(REPORT, &record.report_digest()?.0),
            ] {
                // Only entries that still point at this record.
                self.write(|| {
                    let _ = self
                        .tree
                        .compare_and_swap(index, Some(&rk[..]), None::<&[u8]>)?;
                    Ok(())
                })?;
            }
            deleted += 1;
        }
        Ok(deleted)
    }
}
