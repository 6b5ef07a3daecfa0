//! Loading files: requested files, imports (relative, `-I`, standard directories,
//! bundled copies), file names as the official compiler gives them, and embedded files.

use super::*;

/// Why a requested file could not be loaded (reported as a diagnostic without a
/// position: `error: <file>: <reason>`).
#[derive(Debug, thiserror::Error)]
pub(crate) enum LoadError {
    /// Reading the file, or the working directory, failed.
    #[error("{file}: {source}")]
    Io {
        /// The file as requested.
        file: String,
        /// What the OS said.
        #[source]
        source: std::io::Error,
    },
    /// No in-memory source or bundled file has that name.
    #[error("{0}: no such file")]
    NoSuchSource(String),
}

impl LoadError {
    fn io(file: &str) -> impl FnOnce(std::io::Error) -> LoadError {
        move |source| LoadError::Io {
            file: file.to_string(),
            source,
        }
    }
}

impl Compilation {
    /// The directory relative names are resolved against (`base_dir`, else the process's).
    pub(super) fn work_dir(&self) -> PathBuf {
        let here = || std::env::current_dir().unwrap_or_default();
        let dir = match &self.opts.base_dir {
            Some(b) if b.is_absolute() => b.clone(),
            Some(b) => here().join(b),
            None => here(),
        };
        lexical_normalize(&dir)
    }

    pub(super) fn add_module(
        &mut self,
        name: String,
        path: Option<PathBuf>,
        source: SourceName,
        key: String,
        src: String,
    ) -> usize {
        let file = self.files.len();
        let shown = source.render();
        self.files.push((shown, src));
        let ast = {
            let src = &self.files[file].1;
            crate::parser::parse_file(src, file, &mut self.diags)
        };
        let ast = Rc::new(ast);
        let m = self.modules.len();
        let id = match ast.id {
            DeclId::Uid(v, sp) => {
                if v & (1 << 63) == 0 {
                    self.diags.error(
                        sp,
                        "Invalid ID.  Please generate a new one with 'capnpc -i'.",
                    );
                }
                v
            }
            _ => {
                let suggested = ids::child_id(
                    std::time::SystemTime::now()
                        .duration_since(std::time::UNIX_EPOCH)
                        .map(|d| d.as_nanos() as u64)
                        .unwrap_or(0),
                    &name,
                );
                self.diags.error(
                    Span::new(file, 0, 0),
                    format!("File does not declare an ID.  I've generated one for you.  Add this line to your file: @0x{suggested:x};"),
                );
                ids::child_id(0, &name)
            }
        };
        let root = self.new_node(
            id,
            None,
            m,
            Vec::new(),
            Kind::File,
            name.clone(),
            0,
            Span::new(file, 0, 0),
        );
        self.modules.push(Module {
            name,
            path,
            source,
            ast,
            root,
            file,
            imports: HashMap::new(),
        });
        self.by_path.insert(key, m);
        m
    }

    /// Loads a file named on the command line.
    pub fn add_requested(&mut self, file: &str) -> Result<usize, LoadError> {
        // Display name, as the official compiler computes it: the path made absolute and
        // normalized, then relative to the longest matching `--src-prefix`, else to the
        // working directory, else absolute without its leading `/`.
        let cwd = match &self.opts.base_dir {
            Some(b) if b.is_absolute() => b.clone(),
            other => {
                let here = std::env::current_dir().map_err(LoadError::io(file))?;
                match other {
                    Some(b) => here.join(b),
                    None => here,
                }
            }
        };
        let cwd = lexical_normalize(&cwd);
        let abs = lexical_normalize(&cwd.join(file));
        let mut best: Option<PathBuf> = None;
        let mut best_len = 0;
        for p in &self.opts.src_prefix {
            let prefix = lexical_normalize(&cwd.join(p));
            if let Ok(rest) = abs.strip_prefix(&prefix)
                && prefix.as_os_str().len() >= best_len
            {
                best_len = prefix.as_os_str().len();
                best = Some(rest.to_path_buf());
            }
        }
        let rel = match best {
            Some(r) => r,
            None => match abs.strip_prefix(&cwd) {
                Ok(r) => r.to_path_buf(),
                Err(_) => abs.strip_prefix("/").unwrap_or(&abs).to_path_buf(),
            },
        };
        let name = rel.to_string_lossy().into_owned();
        let path = abs;
        let key = std::fs::canonicalize(&path)
            .map(|p| p.to_string_lossy().into_owned())
            .map_err(LoadError::io(file))?;
        if let Some(&m) = self.by_path.get(&key) {
            return Ok(m);
        }
        let src = std::fs::read_to_string(&path).map_err(LoadError::io(file))?;
        let source = SourceName::requested(&path, &cwd);
        Ok(self.add_module(name, Some(path), source, key, src))
    }

    pub(super) fn load_path(
        &mut self,
        name: String,
        path: PathBuf,
        source: SourceName,
    ) -> Option<usize> {
        let key = std::fs::canonicalize(&path)
            .ok()?
            .to_string_lossy()
            .into_owned();
        if let Some(&m) = self.by_path.get(&key) {
            return Some(m);
        }
        let src = std::fs::read_to_string(&path).ok()?;
        Some(self.add_module(name, Some(path), source, key, src))
    }

    pub(super) fn import(&mut self, from: usize, name: &str) -> Option<usize> {
        if let Some(r) = self.modules[from].imports.get(name) {
            return *r;
        }
        let result = self.import_uncached(from, name);
        self.modules[from].imports.insert(name.to_string(), result);
        result
    }

    pub(super) fn import_uncached(&mut self, from: usize, name: &str) -> Option<usize> {
        if let Some(abs) = name.strip_prefix('/') {
            let canonical = normalize(abs);
            // (directory as given, where it is).
            let mut dirs: Vec<(String, PathBuf)> = self
                .opts
                .include
                .iter()
                .map(|d| (d.to_string_lossy().into_owned(), self.opts.resolve(d)))
                .collect();
            if !self.opts.no_standard_import {
                for d in ["/usr/local/include", "/usr/include"] {
                    dirs.push((d.to_string(), PathBuf::from(d)));
                }
            }
            for (given, d) in dirs {
                let p = d.join(&canonical);
                if p.is_file() {
                    let source = SourceName::Include(given, canonical.clone());
                    return self.load_path(canonical, p, source);
                }
            }
            if !self.opts.no_standard_import {
                return self.load_bundled(&canonical);
            }
            None
        } else {
            let m = &self.modules[from];
            let dir_name = match m.name.rfind('/') {
                Some(i) => &m.name[..=i],
                None => "",
            };
            let canonical = normalize(&format!("{dir_name}{name}"));
            match &m.path {
                Some(p) => {
                    let base = p.parent().unwrap_or(Path::new(""));
                    let full = base.join(name);
                    let absolute = self.work_dir().join(&full);
                    let source = m.source.sibling(name, &absolute);
                    self.load_path(canonical, full, source)
                }
                None => self.load_bundled(&canonical),
            }
        }
    }

    /// Adds an in-memory requested file.
    pub fn add_virtual_requested(&mut self, name: &str) -> Result<usize, LoadError> {
        self.load_bundled(name)
            .ok_or_else(|| LoadError::NoSuchSource(name.to_string()))
    }

    pub(super) fn load_bundled(&mut self, canonical: &str) -> Option<usize> {
        let src = match self.virtual_files.get(canonical) {
            Some(s) => s.clone(),
            None => bundled(canonical)?.to_string(),
        };
        let key = format!("<bundled>/{canonical}");
        if let Some(&m) = self.by_path.get(&key) {
            return Some(m);
        }
        let source = SourceName::Bundled(canonical.to_string());
        Some(self.add_module(canonical.to_string(), None, source, key, src))
    }

    pub(super) fn read_embed(&mut self, from: usize, name: &str) -> Option<Vec<u8>> {
        let m = &self.modules[from];
        if let Some(abs) = name.strip_prefix('/') {
            let mut dirs: Vec<PathBuf> = self
                .opts
                .include
                .iter()
                .map(|d| self.opts.resolve(d))
                .collect();
            if !self.opts.no_standard_import {
                dirs.push(PathBuf::from("/usr/local/include"));
                dirs.push(PathBuf::from("/usr/include"));
            }
            dirs.iter().find_map(|d| std::fs::read(d.join(abs)).ok())
        } else {
            let base = m.path.as_ref()?.parent()?.to_path_buf();
            std::fs::read(base.join(name)).ok()
        }
    }

    /// Id of the file an import string refers to (for the request's import table).
    pub fn import_for_table(&mut self, m: usize, name: &str) -> Option<u64> {
        let im = self.import(m, name)?;
        Some(self.nodes[self.modules[im].root].id)
    }
}

/// Bundled standard schema files, by canonical name.
pub(super) fn bundled(name: &str) -> Option<&'static str> {
    crate::stdlib::FILES
        .iter()
        .find(|(n, _)| *n == name)
        .map(|(_, s)| *s)
}

/// Resolves `.` and `..` components without touching the file system.
pub(super) fn lexical_normalize(p: &Path) -> PathBuf {
    use std::path::Component;
    let mut out = PathBuf::new();
    for c in p.components() {
        match c {
            Component::CurDir => {}
            Component::ParentDir => {
                out.pop();
            }
            other => out.push(other.as_os_str()),
        }
    }
    out
}

pub(super) fn normalize(path: &str) -> String {
    let mut parts: Vec<&str> = Vec::new();
    for p in path.split('/') {
        match p {
            "" | "." => {}
            ".." => {
                if parts.last().is_some_and(|l| *l != "..") {
                    parts.pop();
                } else {
                    parts.push("..");
                }
            }
            p => parts.push(p),
        }
    }
    parts.join("/")
}
