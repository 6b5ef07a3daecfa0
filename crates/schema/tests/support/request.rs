//! Comparable form of a `CodeGeneratorRequest`, shared by the cross-check tests of
//! `cara-schema` and the real-world corpus test of `cara-cli` (included with `#[path]`):
//! each node, `sourceInfo` and requested file becomes readable text keyed by id and name,
//! with the canonical bytes of every pointer value and of the node itself.

use std::collections::BTreeMap;

use capnp::schema_capnp::{code_generator_request, node, value};

/// A builder whose first segment holds `words` (canonical form must fit in one segment).
fn builder(words: u64) -> capnp::message::Builder<capnp::message::HeapAllocator> {
    let words = u32::try_from(words + 8).unwrap_or(u32::MAX);
    capnp::message::Builder::new(capnp::message::HeapAllocator::new().first_segment_words(words))
}

fn canonical_hex(p: capnp::any_pointer::Reader<'_>) -> String {
    if p.is_null() {
        return "null".into();
    }
    let Ok(size) = p.target_size() else {
        return "<invalid>".into();
    };
    let mut b = builder(size.word_count);
    if b.set_root_canonical(p).is_err() {
        return "<invalid>".into();
    }
    let segs = b.get_segments_for_output();
    segs[0].iter().map(|x| format!("{x:02x}")).collect()
}

fn canonical_struct_hex(n: node::Reader<'_>) -> String {
    let Ok(size) = n.total_size() else {
        return "<invalid>".into();
    };
    let mut b = builder(size.word_count);
    if b.set_root_canonical(n).is_err() {
        return "<invalid>".into();
    }
    let segs = b.get_segments_for_output();
    segs[0].iter().map(|x| format!("{x:02x}")).collect()
}

fn value_ptr(v: value::Reader<'_>) -> Option<String> {
    match v.which().ok()? {
        value::Which::List(p) | value::Which::Struct(p) | value::Which::AnyPointer(p) => {
            Some(canonical_hex(p))
        }
        _ => None,
    }
}

fn pointer_values(n: node::Reader<'_>) -> Vec<String> {
    let mut out = Vec::new();
    let anns = |list: capnp::Result<
        capnp::struct_list::Reader<'_, capnp::schema_capnp::annotation::Owned>,
    >,
                at: &str,
                out: &mut Vec<String>| {
        if let Ok(list) = list {
            for (i, a) in list.iter().enumerate() {
                if let Some(h) = a.get_value().ok().and_then(value_ptr) {
                    out.push(format!("{at} annotation[{i}] = {h}"));
                }
            }
        }
    };
    anns(n.get_annotations(), "node", &mut out);
    match n.which() {
        Ok(node::Which::Struct(s)) => {
            if let Ok(fields) = s.get_fields() {
                for f in fields.iter() {
                    let name = f
                        .get_name()
                        .ok()
                        .and_then(|t| t.to_str().ok())
                        .unwrap_or("?")
                        .to_string();
                    anns(f.get_annotations(), &format!("field {name}"), &mut out);
                    if let Ok(capnp::schema_capnp::field::Which::Slot(sl)) = f.which()
                        && let Some(h) = sl.get_default_value().ok().and_then(value_ptr)
                    {
                        out.push(format!("field {name} default = {h}"));
                    }
                }
            }
        }
        Ok(node::Which::Enum(e)) => {
            if let Ok(es) = e.get_enumerants() {
                for (i, x) in es.iter().enumerate() {
                    anns(x.get_annotations(), &format!("enumerant[{i}]"), &mut out);
                }
            }
        }
        Ok(node::Which::Interface(i)) => {
            if let Ok(ms) = i.get_methods() {
                for (j, m) in ms.iter().enumerate() {
                    anns(m.get_annotations(), &format!("method[{j}]"), &mut out);
                }
            }
        }
        Ok(node::Which::Const(c)) => {
            if let Some(h) = c.get_value().ok().and_then(value_ptr) {
                out.push(format!("const value = {h}"));
            }
        }
        _ => {}
    }
    out
}

/// Normalized, comparable form: entity name → pretty text.
pub fn normalize(bytes: &[u8]) -> BTreeMap<String, String> {
    let reader = capnp::serialize::read_message_from_flat_slice(
        &mut &bytes[..],
        capnp::message::ReaderOptions {
            traversal_limit_in_words: None,
            nesting_limit: 128,
        },
    )
    .expect("decode request");
    let req: code_generator_request::Reader<'_> = reader.get_root().expect("root");
    let mut out = BTreeMap::new();
    for n in req.get_nodes().expect("nodes").iter() {
        let name = n
            .get_display_name()
            .ok()
            .and_then(|t| t.to_str().ok())
            .unwrap_or("?")
            .to_string();
        let mut text = format!("{:#?}", capnp::dynamic_value::Reader::from(n));
        for p in pointer_values(n) {
            text.push('\n');
            text.push_str(&p);
        }
        // Byte-level check: the node's canonical encoding (independent of list order and of
        // how each message was laid out) must be identical too.
        text.push_str("\ncanonical node bytes = ");
        text.push_str(&canonical_struct_hex(n));
        out.insert(format!("node {:#x} {name}", n.get_id()), text);
    }
    for s in req.get_source_info().expect("source info").iter() {
        out.insert(
            format!("sourceInfo {:#x}", s.get_id()),
            format!("{:#?}", capnp::dynamic_value::Reader::from(s)),
        );
    }
    for f in req.get_requested_files().expect("files").iter() {
        out.insert(
            format!("requestedFile {:#x}", f.get_id()),
            format!("{:#?}", capnp::dynamic_value::Reader::from(f)),
        );
    }
    out.insert(
        "capnpVersion".into(),
        format!(
            "{:?}",
            capnp::dynamic_value::Reader::from(req.get_capnp_version().expect("version"))
        ),
    );
    out
}

/// The first differing line of two texts, with the lines before it.
pub fn first_diff(a: &str, b: &str) -> String {
    let la: Vec<&str> = a.lines().collect();
    let lb: Vec<&str> = b.lines().collect();
    for i in 0..la.len().max(lb.len()) {
        let x = la.get(i).copied().unwrap_or("<end>");
        let y = lb.get(i).copied().unwrap_or("<end>");
        if x != y {
            let ctx_start = i.saturating_sub(3);
            let context = la[ctx_start..i.min(la.len())].join("\n");
            return format!("after:\n{context}\n  official: {x}\n  cara:     {y}");
        }
    }
    String::new()
}
