//! What every call of the service answers with: its value and the call's RequestId.

/// The answer of one call: what it returns and the RequestId it was given (a
/// lowercase UUID v4, fresh for every call; a failed call carries its RequestId on
/// its [`crate::Error`]). [`Response::to_json`] writes the service's JSON document.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Response<T> {
    pub request_id: String,
    pub value: T,
}

impl<T> Response<T> {
    pub(super) fn new(request_id: &str, value: T) -> Response<T> {
        Response {
            request_id: request_id.to_owned(),
            value,
        }
    }

    /// The value, without the RequestId.
    pub fn into_value(self) -> T {
        self.value
    }
}
