//! Group commit: one thread turns many "make my write durable" requests into one sled flush
//! plus one `fdatasync` of the database file.

use std::fs::File;
use std::sync::mpsc;
use std::thread;

use tokio::sync::oneshot;

use super::StoreError;

type Reply = oneshot::Sender<Result<(), String>>;

pub(super) struct Flusher {
    requests: mpsc::Sender<Reply>,
    db: sled::Db,
    db_file: std::sync::Arc<File>,
}

fn flush(db: &sled::Db, db_file: &File) -> Result<(), String> {
    db.flush().map_err(|e| e.to_string())?;
    db_file.sync_data().map_err(|e| e.to_string())
}

impl Flusher {
    pub(super) fn start(db: sled::Db, db_file: File) -> std::io::Result<Flusher> {
        let (requests, rx) = mpsc::channel::<Reply>();
        let db_file = std::sync::Arc::new(db_file);
        let (thread_db, thread_file) = (db.clone(), db_file.clone());
        thread::Builder::new()
            .name("shindan-flusher".into())
            .spawn(move || {
                // Ends when every sender is gone, that is when the store is dropped.
                while let Ok(first) = rx.recv() {
                    let mut group = vec![first];
                    group.extend(rx.try_iter());
                    let result = flush(&thread_db, &thread_file);
                    if let Err(e) = &result {
                        tracing::error!(error = %e, "flush failed");
                    }
                    for reply in group {
                        let _ = reply.send(result.clone());
                    }
                }
            })?;
        Ok(Flusher {
            requests,
            db,
            db_file,
        })
    }

    /// Resolves once a flush that started after this call has completed.
    pub(super) async fn wait(&self) -> Result<(), StoreError> {
        let (tx, rx) = oneshot::channel();
        self.requests
            .send(tx)
            .map_err(|_| StoreError::Storage("the flusher has stopped".into()))?;
        rx.await
            .map_err(|_| StoreError::Storage("the flusher has stopped".into()))?
            .map_err(StoreError::Storage)
    }

    pub(super) fn flush_now(&self) -> Result<(), StoreError> {
        flush(&self.db, &self.db_file).map_err(StoreError::Storage)
    }
}
