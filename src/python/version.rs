//! Python versions and version requests (`3.12`, `3.11.7`), as uv's `python_version.rs`.

use std::fmt;
use std::str::FromStr;

use serde::{Serialize, Serializer};

/// A CPython-style version; `patch` is unknown when only the minor version could be read from
/// disk (a `lib/python3.X` directory).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct PythonVersion {
    pub major: u8,
    pub minor: u8,
    pub patch: Option<u16>,
}

impl PythonVersion {
    pub fn new(major: u8, minor: u8, patch: Option<u16>) -> Self {
        Self {
            major,
            minor,
            patch,
        }
    }

    /// `X.Y`
    pub fn minor_str(&self) -> String {
        format!("{}.{}", self.major, self.minor)
    }

    /// True when `self` is at least `major.minor`.
    pub fn at_least(&self, major: u8, minor: u8) -> bool {
        (self.major, self.minor) >= (major, minor)
    }

    /// Does this version satisfy a request such as `3`, `3.11` or `3.11.7`?
    pub fn matches(&self, request: &PythonVersion, request_parts: usize) -> bool {
        match request_parts {
            1 => self.major == request.major,
            2 => self.major == request.major && self.minor == request.minor,
            _ => {
                self.major == request.major
                    && self.minor == request.minor
                    && self.patch == request.patch
            }
        }
    }
}

impl fmt::Display for PythonVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.patch {
            Some(p) => write!(f, "{}.{}.{}", self.major, self.minor, p),
            None => write!(f, "{}.{}", self.major, self.minor),
        }
    }
}

impl Serialize for PythonVersion {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.to_string())
    }
}

#[derive(Debug, thiserror::Error, PartialEq)]
#[error("not a Python version: {0:?}")]
pub struct VersionParseError(pub String);

impl FromStr for PythonVersion {
    type Err = VersionParseError;

    /// Accepts `3`, `3.11`, `3.11.7`, and tolerates suffixes such as `3.13.0rc1` or `3.13t`
    /// on the last part (the numeric prefix is used).
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let err = || VersionParseError(s.to_string());
        let mut parts = s.trim().split('.');
        let num = |p: Option<&str>| -> Option<u16> {
            let p = p?;
            let digits: String = p.chars().take_while(char::is_ascii_digit).collect();
            digits.parse().ok()
        };
        let major = num(parts.next()).ok_or_else(err)?;
        let minor = match parts.next() {
            Some(p) => num(Some(p)).ok_or_else(err)?,
            None => 0,
        };
        let patch = num(parts.next());
        Ok(PythonVersion {
            major: u8::try_from(major).map_err(|_| err())?,
            minor: u8::try_from(minor).map_err(|_| err())?,
            patch,
        })
    }
}

/// A version request as typed (`3.12`): the parsed version and how many parts were given.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct VersionRequest {
    pub version: PythonVersion,
    pub parts: usize,
}

impl VersionRequest {
    /// `None` when `s` is not purely a dotted version (so it is a path or a name).
    pub fn parse(s: &str) -> Option<VersionRequest> {
        let s = s.trim();
        if s.is_empty()
            || !s
                .split('.')
                .all(|p| !p.is_empty() && p.chars().all(|c| c.is_ascii_digit()))
        {
            return None;
        }
        let parts = s.split('.').count();
        if parts > 3 {
            return None;
        }
        Some(VersionRequest {
            version: s.parse().ok()?,
            parts,
        })
    }

    pub fn matches(&self, v: &PythonVersion) -> bool {
        v.matches(&self.version, self.parts)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_displays() {
        let v: PythonVersion = "3.11.7".parse().unwrap();
        assert_eq!(v, PythonVersion::new(3, 11, Some(7)));
        assert_eq!(v.to_string(), "3.11.7");
        assert_eq!("3.13.0rc1".parse::<PythonVersion>().unwrap().patch, Some(0));
        assert_eq!("3.13t".parse::<PythonVersion>().unwrap().minor, 13);
        assert_eq!("2.7".parse::<PythonVersion>().unwrap().to_string(), "2.7");
        assert!("x".parse::<PythonVersion>().is_err());
    }

    #[test]
    fn requests() {
        let r = VersionRequest::parse("3.11").unwrap();
        assert!(r.matches(&PythonVersion::new(3, 11, Some(7))));
        assert!(!r.matches(&PythonVersion::new(3, 12, Some(1))));
        assert!(VersionRequest::parse("/usr/bin/python3").is_none());
        assert!(VersionRequest::parse("myenv").is_none());
        assert!(VersionRequest::parse("3")
            .unwrap()
            .matches(&PythonVersion::new(3, 6, None)));
        assert!(v_at_least());
    }

    fn v_at_least() -> bool {
        PythonVersion::new(3, 8, None).at_least(3, 8)
            && !PythonVersion::new(3, 7, None).at_least(3, 8)
    }
}
