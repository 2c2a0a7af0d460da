//! A deadline for request bodies: a body that has not fully arrived within the configured
//! time of its request's head fails to read, and the extractors answer 408
//! `request_timeout` on a connection that is then closed. Without it, a client trickling
//! one byte a second holds a connection (and a file descriptor) for as long as it likes.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use actix_web::body::MessageBody;
use actix_web::dev::{Payload, ServiceRequest, ServiceResponse};
use actix_web::error::PayloadError;
use actix_web::middleware::Next;
use actix_web::web::{self, Bytes};
use actix_web::HttpMessage;
use futures_util::Stream;

use super::AppState;

/// What a body that missed its deadline fails with (recognised by [`is_deadline`]).
const MESSAGE: &str = "the request body did not arrive in time";

/// Whether a payload error is a missed body deadline.
pub fn is_deadline(e: &PayloadError) -> bool {
    matches!(e, PayloadError::Io(io) if io.kind() == std::io::ErrorKind::TimedOut)
}

/// A request's body stream that fails once its deadline has passed while it waits for
/// more data. Data already there is always delivered.
struct Deadline {
    inner: Payload,
    timer: Pin<Box<tokio::time::Sleep>>,
    finished: bool,
}

impl Stream for Deadline {
    type Item = Result<Bytes, PayloadError>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        if self.finished {
            return Poll::Ready(None);
        }
        match Pin::new(&mut self.inner).poll_next(cx) {
            Poll::Ready(None) => {
                self.finished = true;
                Poll::Ready(None)
            }
            Poll::Ready(item) => Poll::Ready(item),
            Poll::Pending => match self.timer.as_mut().poll(cx) {
                Poll::Ready(()) => {
                    self.finished = true;
                    Poll::Ready(Some(Err(PayloadError::Io(std::io::Error::new(
                        std::io::ErrorKind::TimedOut,
                        MESSAGE,
                    )))))
                }
                Poll::Pending => Poll::Pending,
            },
        }
    }
}

/// Middleware: gives every request's body the server's deadline, counted from now (just
/// after its head was read).
pub async fn body_deadline(
    mut req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let timeout = req
        .app_data::<web::Data<AppState>>()
        .map_or(Duration::from_secs(10), |s| s.body_timeout);
    let inner = req.take_payload();
    let stream: Pin<Box<dyn Stream<Item = Result<Bytes, PayloadError>>>> = Box::pin(Deadline {
        inner,
        timer: Box::pin(tokio::time::sleep(timeout)),
        finished: false,
    });
    req.set_payload(Payload::from(stream));
    next.call(req).await
}
