//! Naming rules checked per scope: duplicates, capitalization, underscores, and which
//! declarations may appear where.

use super::*;

impl Compilation {
    pub(super) fn check_names(&mut self, nested: &[Decl], parent: &DeclKind) {
        let mut names: HashMap<String, Span> = HashMap::new();
        self.check_names_into(nested, parent, &mut names);
    }

    pub(super) fn check_names_into(
        &mut self,
        nested: &[Decl],
        parent: &DeclKind,
        names: &mut HashMap<String, Span>,
    ) {
        for d in nested {
            let name = &d.name.text;
            if let Some(prev) = names.get(name).copied() {
                if name.is_empty() && matches!(d.kind, DeclKind::Union) {
                    self.diags.error(
                        d.name.span,
                        "An unnamed union is already defined in this scope.",
                    );
                    self.diags.error(prev, "Previously defined here.");
                } else {
                    self.diags.error(
                        d.name.span,
                        format!("'{name}' is already defined in this scope."),
                    );
                    self.diags
                        .error(prev, format!("'{name}' previously defined here."));
                }
            } else {
                names.insert(name.clone(), d.name.span);
            }
            let first = name.chars().next();
            match d.kind {
                // An alias is checked when it is compiled: its case follows what it names.
                DeclKind::Using(_) => {}
                DeclKind::Enum | DeclKind::Struct | DeclKind::Interface { .. } => {
                    if first.is_some_and(|c| !c.is_ascii_uppercase()) {
                        self.diags
                            .error(d.name.span, "Type names must begin with a capital letter.");
                    }
                }
                _ => {
                    if first.is_some_and(|c| !c.is_ascii_lowercase()) {
                        self.diags.error(
                            d.name.span,
                            "Non-type names must begin with a lower-case letter.",
                        );
                    }
                }
            }
            if name.contains('_') {
                self.diags.error(d.name.span, "Cap'n Proto declaration names should use camelCase and must not contain underscores. (Code generators may convert names to the appropriate style for the target language.)");
            }
            match &d.kind {
                DeclKind::Using(_)
                | DeclKind::Const { .. }
                | DeclKind::Enum
                | DeclKind::Struct
                | DeclKind::Interface { .. }
                | DeclKind::Annotation { .. } => {
                    if !matches!(
                        parent,
                        DeclKind::File | DeclKind::Struct | DeclKind::Interface { .. }
                    ) {
                        self.diags
                            .error(d.span, "This kind of declaration doesn't belong here.");
                    }
                }
                DeclKind::Enumerant => {
                    if !matches!(parent, DeclKind::Enum) {
                        self.diags
                            .error(d.span, "Enumerants can only appear in enums.");
                    }
                }
                DeclKind::Method { .. } => {
                    if !matches!(parent, DeclKind::Interface { .. }) {
                        self.diags
                            .error(d.span, "Methods can only appear in interfaces.");
                    }
                }
                DeclKind::Field { .. } | DeclKind::Union | DeclKind::Group => {
                    if !matches!(parent, DeclKind::Struct | DeclKind::Union | DeclKind::Group) {
                        self.diags
                            .error(d.span, "This declaration can only appear in structs.");
                    }
                    if d.name.text.is_empty() {
                        self.check_names_into(&d.nested, &d.kind, names);
                    } else {
                        self.check_names(&d.nested, &d.kind);
                    }
                }
                _ => {
                    self.diags
                        .error(d.span, "This kind of declaration doesn't belong here.");
                }
            }
        }
    }
}
