// `include_schemas!()` in a crate without a build script says what to add.
mod schemas {
    cara::include_schemas!();
}

fn main() {}
