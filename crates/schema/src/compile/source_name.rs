//! The names errors give files, as the official compiler's: the file as found on disk, not
//! its display name in the request. A requested file is named relative to the working
//! directory (absolute when outside it), a file found through `-I DIR` is `DIR/path` with
//! `DIR` as given, and a relative import sits next to its importer.

use std::path::{Path, PathBuf};

use super::load::{lexical_normalize, normalize};

/// Where a loaded file was found.
#[derive(Debug, Clone)]
pub(crate) enum SourceName {
    /// Inside the working directory, relative to it.
    Relative(String),
    /// Outside the working directory (or below an absolute one): absolute.
    Absolute(PathBuf),
    /// In an import directory: the directory as given, the path inside it.
    Include(String, String),
    /// A bundled or in-memory file: its canonical name.
    Bundled(String),
}

impl SourceName {
    /// A requested file at `abs`: relative when inside the working directory `cwd`.
    pub(super) fn requested(abs: &Path, cwd: &Path) -> SourceName {
        match abs.strip_prefix(cwd) {
            Ok(rel) if !rel.as_os_str().is_empty() => {
                SourceName::Relative(rel.to_string_lossy().into_owned())
            }
            _ => SourceName::Absolute(abs.to_path_buf()),
        }
    }

    /// The name errors use.
    pub(super) fn render(&self) -> String {
        match self {
            SourceName::Relative(rel) => rel.clone(),
            SourceName::Absolute(abs) => abs.to_string_lossy().into_owned(),
            SourceName::Include(dir, rel) => {
                format!("{}/{rel}", dir.trim_end_matches('/'))
            }
            SourceName::Bundled(name) => name.clone(),
        }
    }

    /// The file `name` imported relatively from this one (found at `full`, absolute).
    /// Like the official compiler, a file stays in the directory it was found through;
    /// leaving the working directory makes the name absolute.
    pub(super) fn sibling(&self, name: &str, full: &Path) -> SourceName {
        let beside = |rel: &str| {
            let dir = rel.rfind('/').map_or("", |i| &rel[..=i]);
            normalize(&format!("{dir}{name}"))
        };
        match self {
            SourceName::Relative(rel) => {
                let rel = beside(rel);
                if rel.starts_with("..") {
                    SourceName::Absolute(lexical_normalize(full))
                } else {
                    SourceName::Relative(rel)
                }
            }
            SourceName::Absolute(_) => SourceName::Absolute(lexical_normalize(full)),
            SourceName::Include(dir, rel) => {
                let rel = beside(rel);
                if rel.starts_with("..") {
                    SourceName::Absolute(lexical_normalize(full))
                } else {
                    SourceName::Include(dir.clone(), rel)
                }
            }
            SourceName::Bundled(rel) => SourceName::Bundled(beside(rel)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_as_the_official_compiler() {
        let cwd = Path::new("/w/sub");
        let a = SourceName::requested(Path::new("/w/sub/a.capnp"), cwd);
        assert_eq!(a.render(), "a.capnp");
        let b = a.sibling("x/b.capnp", Path::new("/w/sub/x/b.capnp"));
        assert_eq!(b.render(), "x/b.capnp");
        let up = SourceName::requested(Path::new("/w/a.capnp"), cwd);
        assert_eq!(up.render(), "/w/a.capnp");
        // Below an absolute name, names stay absolute even inside the working directory.
        let back = up.sibling("sub/b.capnp", Path::new("/w/sub/b.capnp"));
        assert_eq!(back.render(), "/w/sub/b.capnp");
        let inc = SourceName::Include("../inc/".into(), "c.capnp".into());
        assert_eq!(inc.render(), "../inc/c.capnp");
        let d = inc.sibling("x/d.capnp", Path::new("/w/inc/x/d.capnp"));
        assert_eq!(d.render(), "../inc/x/d.capnp");
    }
}
