//! How the errors of the aggregates behind the staff pages and the API become HTTP answers.

use crate::http::AppError;

impl From<crate::orders::OrderError> for AppError {
    fn from(error: crate::orders::OrderError) -> Self {
        use crate::orders::OrderError as E;
        match error {
            E::NotFound(_) => AppError::NotFound(error.to_string()),
            E::Forbidden(reason) => AppError::Forbidden(reason.to_string()),
            E::Conflict(reason) => AppError::Conflict(reason),
            E::Invalid(reason) => AppError::BadRequest(reason),
            other => AppError::Unavailable(other.to_string()),
        }
    }
}

impl From<crate::pipeline::updates::ChangeError> for AppError {
    fn from(error: crate::pipeline::updates::ChangeError) -> Self {
        match error {
            crate::pipeline::updates::ChangeError::Refused(refused) => refused.into(),
            other => AppError::Unavailable(other.to_string()),
        }
    }
}

impl From<crate::staff::StaffError> for AppError {
    fn from(error: crate::staff::StaffError) -> Self {
        AppError::Unavailable(error.to_string())
    }
}
