//! A point on the earth in WGS 84 degrees, range-checked when it is made.
//!
//! Coordinates arrive from chat messages and forms; once a `LatLon` exists it is finite and
//! within range, so nothing further in has to check again.

use serde::{Deserialize, Serialize};

/// Latitude and longitude in degrees (WGS 84).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "RawLatLon")]
pub struct LatLon {
    lat: f64,
    lon: f64,
}

#[derive(Debug, thiserror::Error, PartialEq)]
pub enum LatLonError {
    #[error("latitude {0} is not between -90 and 90")]
    Latitude(f64),
    #[error("longitude {0} is not between -180 and 180")]
    Longitude(f64),
}

impl LatLon {
    pub fn new(lat: f64, lon: f64) -> Result<Self, LatLonError> {
        if !(lat.is_finite() && (-90.0..=90.0).contains(&lat)) {
            return Err(LatLonError::Latitude(lat));
        }
        if !(lon.is_finite() && (-180.0..=180.0).contains(&lon)) {
            return Err(LatLonError::Longitude(lon));
        }
        Ok(Self { lat, lon })
    }

    pub fn lat(&self) -> f64 {
        self.lat
    }

    pub fn lon(&self) -> f64 {
        self.lon
    }

    /// Great-circle distance in metres (haversine on the mean earth radius).
    pub fn distance_m(&self, other: LatLon) -> f64 {
        let (p1, p2) = (self.lat.to_radians(), other.lat.to_radians());
        let (dp, dl) = (p2 - p1, (other.lon - self.lon).to_radians());
        let a = (dp / 2.0).sin().powi(2) + p1.cos() * p2.cos() * (dl / 2.0).sin().powi(2);
        2.0 * 6_371_008.8 * a.sqrt().min(1.0).asin()
    }
}

#[derive(Deserialize)]
struct RawLatLon {
    lat: f64,
    lon: f64,
}

impl TryFrom<RawLatLon> for LatLon {
    type Error = LatLonError;

    fn try_from(raw: RawLatLon) -> Result<Self, Self::Error> {
        LatLon::new(raw.lat, raw.lon)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_points_in_range_including_the_edges() {
        assert!(LatLon::new(52.52, 13.405).is_ok());
        assert!(LatLon::new(-90.0, 180.0).is_ok());
        assert!(LatLon::new(90.0, -180.0).is_ok());
    }

    #[test]
    fn refuses_out_of_range_and_non_finite_values() {
        assert_eq!(LatLon::new(90.5, 0.0), Err(LatLonError::Latitude(90.5)));
        assert_eq!(LatLon::new(0.0, -181.0), Err(LatLonError::Longitude(-181.0)));
        assert!(LatLon::new(f64::NAN, 0.0).is_err());
        assert!(LatLon::new(0.0, f64::INFINITY).is_err());
    }

    #[test]
    fn deserialising_checks_the_range_too() {
        let ok: LatLon = serde_json::from_str(r#"{"lat":51.0,"lon":7.0}"#).unwrap();
        assert_eq!((ok.lat(), ok.lon()), (51.0, 7.0));
        assert!(serde_json::from_str::<LatLon>(r#"{"lat":91.0,"lon":7.0}"#).is_err());
    }
}
