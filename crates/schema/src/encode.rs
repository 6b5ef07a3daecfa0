//! Encoding a [`SchemaSet`] as a standard `CodeGeneratorRequest` (`schema.capnp`).

use capnp::schema_capnp::{brand, code_generator_request, node, type_, value};

use crate::SchemaSet;
use crate::model::*;

/// Version reported in `capnpVersion` (the official compiler we mirror).
pub const CAPNP_VERSION: (u16, u8, u8) = (0, 9, 2);

/// Serializes the request (standard framing, unpacked).
pub fn request_bytes(set: &SchemaSet) -> Vec<u8> {
    let mut message = capnp::message::Builder::new_default();
    build_request(set, message.init_root());
    let mut out = Vec::new();
    // Writing to a Vec cannot fail.
    let _ = capnp::serialize::write_message(&mut out, &message);
    out
}

/// Fills a `CodeGeneratorRequest` builder.
pub fn build_request(set: &SchemaSet, mut req: code_generator_request::Builder<'_>) {
    {
        let mut v = req.reborrow().init_capnp_version();
        v.set_major(CAPNP_VERSION.0);
        v.set_minor(CAPNP_VERSION.1);
        v.set_micro(CAPNP_VERSION.2);
    }
    let nodes = set.nodes();
    {
        let mut list = req.reborrow().init_nodes(nodes.len() as u32);
        for (i, n) in nodes.iter().enumerate() {
            build_node(n, list.reborrow().get(i as u32));
        }
    }
    // Source info: one entry per node; generated param structs all share id 0 and only the
    // first one registered is kept (a quirk of the official compiler that we reproduce).
    let params: std::collections::HashSet<u64> = set.param_struct_ids().iter().copied().collect();
    let first_param = crate::source_order::shared_param_source(set);
    let mut infos: Vec<(u64, &Node)> = nodes
        .iter()
        .filter(|n| !params.contains(&n.id))
        .map(|n| (n.id, n))
        .collect();
    if let Some(p) = first_param {
        infos.push((0, p));
    }
    {
        let mut list = req.reborrow().init_source_info(infos.len() as u32);
        for (i, (id, n)) in infos.iter().enumerate() {
            let mut si = list.reborrow().get(i as u32);
            si.set_id(*id);
            if let Some(d) = &n.doc {
                si.set_doc_comment(d.as_str());
            }
            let has_members = matches!(
                n.kind,
                NodeKind::Struct(_) | NodeKind::Enum(_) | NodeKind::Interface(_)
            );
            // Structs without fields carry no member list; enums and interfaces always do.
            let always = matches!(n.kind, NodeKind::Enum(_) | NodeKind::Interface(_));
            if has_members && (always || !n.member_docs.is_empty()) {
                let mut ms = si.init_members(n.member_docs.len() as u32);
                for (j, d) in n.member_docs.iter().enumerate() {
                    if let Some(d) = d {
                        ms.reborrow().get(j as u32).set_doc_comment(d.as_str());
                    }
                }
            }
        }
    }
    let files = set.requested_files();
    let mut list = req.init_requested_files(files.len() as u32);
    for (i, f) in files.iter().enumerate() {
        let mut b = list.reborrow().get(i as u32);
        b.set_id(f.id);
        b.set_filename(f.filename.as_str());
        let mut im = b.init_imports(f.imports.len() as u32);
        for (j, (id, name)) in f.imports.iter().enumerate() {
            let mut e = im.reborrow().get(j as u32);
            e.set_id(*id);
            e.set_name(name.as_str());
        }
    }
}

fn build_node(n: &Node, mut b: node::Builder<'_>) {
    b.set_id(n.id);
    b.set_display_name(n.display_name.as_str());
    b.set_display_name_prefix_length(n.display_name_prefix_length);
    b.set_scope_id(n.scope_id);
    if !n.parameters.is_empty() {
        let mut ps = b.reborrow().init_parameters(n.parameters.len() as u32);
        for (i, p) in n.parameters.iter().enumerate() {
            ps.reborrow().get(i as u32).set_name(p.as_str());
        }
    }
    b.set_is_generic(n.is_generic);
    // Groups and generated param structs carry no nested-node list.
    let synthetic = matches!(&n.kind, NodeKind::Struct(s) if s.is_group)
        || (n.scope_id == 0 && matches!(n.kind, NodeKind::Struct(_)));
    if !synthetic {
        let mut nn = b.reborrow().init_nested_nodes(n.nested_nodes.len() as u32);
        for (i, (name, id)) in n.nested_nodes.iter().enumerate() {
            let mut e = nn.reborrow().get(i as u32);
            e.set_name(name.as_str());
            e.set_id(*id);
        }
    }
    if !n.annotations.is_empty() {
        build_annotations(
            &n.annotations,
            b.reborrow().init_annotations(n.annotations.len() as u32),
        );
    }
    match &n.kind {
        NodeKind::File => b.set_file(()),
        NodeKind::Struct(s) => {
            let mut sb = b.init_struct();
            sb.set_data_word_count(s.data_word_count);
            sb.set_pointer_count(s.pointer_count);
            sb.set_preferred_list_encoding(match s.preferred_list_encoding {
                0 => capnp::schema_capnp::ElementSize::Empty,
                1 => capnp::schema_capnp::ElementSize::Bit,
                2 => capnp::schema_capnp::ElementSize::Byte,
                3 => capnp::schema_capnp::ElementSize::TwoBytes,
                4 => capnp::schema_capnp::ElementSize::FourBytes,
                5 => capnp::schema_capnp::ElementSize::EightBytes,
                6 => capnp::schema_capnp::ElementSize::Pointer,
                _ => capnp::schema_capnp::ElementSize::InlineComposite,
            });
            sb.set_is_group(s.is_group);
            sb.set_discriminant_count(s.discriminant_count);
            sb.set_discriminant_offset(s.discriminant_offset);
            if !s.fields.is_empty() {
                let mut fl = sb.init_fields(s.fields.len() as u32);
                for (i, f) in s.fields.iter().enumerate() {
                    let mut fb = fl.reborrow().get(i as u32);
                    fb.set_name(f.name.as_str());
                    fb.set_code_order(f.code_order);
                    fb.set_discriminant_value(f.discriminant_value);
                    if !f.annotations.is_empty() {
                        build_annotations(
                            &f.annotations,
                            fb.reborrow().init_annotations(f.annotations.len() as u32),
                        );
                    }
                    match f.ordinal {
                        Some(o) => fb.reborrow().init_ordinal().set_explicit(o),
                        None => fb.reborrow().init_ordinal().set_implicit(()),
                    }
                    match &f.kind {
                        FieldKind::Slot {
                            offset,
                            ty,
                            default,
                            had_explicit_default,
                            ..
                        } => {
                            let mut sl = fb.init_slot();
                            sl.set_offset(*offset);
                            build_type(ty, sl.reborrow().init_type());
                            if !set_null_value(default, |v| sl.set_default_value(v)) {
                                build_value(default, sl.reborrow().init_default_value());
                            }
                            sl.set_had_explicit_default(*had_explicit_default);
                        }
                        FieldKind::Group { type_id } => fb.init_group().set_type_id(*type_id),
                    }
                }
            }
        }
        NodeKind::Enum(es) => {
            let mut el = b.init_enum().init_enumerants(es.len() as u32);
            for (i, e) in es.iter().enumerate() {
                let mut eb = el.reborrow().get(i as u32);
                eb.set_name(e.name.as_str());
                eb.set_code_order(e.code_order);
                if !e.annotations.is_empty() {
                    build_annotations(
                        &e.annotations,
                        eb.init_annotations(e.annotations.len() as u32),
                    );
                }
            }
        }
        NodeKind::Interface(iface) => {
            let mut ib = b.init_interface();
            {
                let mut ml = ib.reborrow().init_methods(iface.methods.len() as u32);
                for (i, m) in iface.methods.iter().enumerate() {
                    let mut mb = ml.reborrow().get(i as u32);
                    mb.set_name(m.name.as_str());
                    mb.set_code_order(m.code_order);
                    {
                        let mut ip = mb
                            .reborrow()
                            .init_implicit_parameters(m.implicit_parameters.len() as u32);
                        for (j, p) in m.implicit_parameters.iter().enumerate() {
                            ip.reborrow().get(j as u32).set_name(p.as_str());
                        }
                    }
                    mb.set_param_struct_type(m.param_struct_type);
                    if !m.param_brand.scopes.is_empty() {
                        build_brand(&m.param_brand, mb.reborrow().init_param_brand());
                    }
                    mb.set_result_struct_type(m.result_struct_type);
                    if !m.result_brand.scopes.is_empty() {
                        build_brand(&m.result_brand, mb.reborrow().init_result_brand());
                    }
                    if !m.annotations.is_empty() {
                        build_annotations(
                            &m.annotations,
                            mb.init_annotations(m.annotations.len() as u32),
                        );
                    }
                }
            }
            let mut sl = ib.init_superclasses(iface.superclasses.len() as u32);
            for (i, s) in iface.superclasses.iter().enumerate() {
                let mut sb = sl.reborrow().get(i as u32);
                sb.set_id(s.id);
                if !s.brand.scopes.is_empty() {
                    build_brand(&s.brand, sb.init_brand());
                }
            }
        }
        NodeKind::Const { ty, value, .. } => {
            let mut cb = b.init_const();
            build_type(ty, cb.reborrow().init_type());
            if !set_null_value(value, |v| cb.set_value(v)) {
                build_value(value, cb.init_value());
            }
        }
        NodeKind::Annotation { ty, targets } => {
            let mut ab = b.init_annotation();
            build_type(ty, ab.reborrow().init_type());
            ab.set_targets_file(targets.file);
            ab.set_targets_const(targets.const_);
            ab.set_targets_enum(targets.enum_);
            ab.set_targets_enumerant(targets.enumerant);
            ab.set_targets_struct(targets.struct_);
            ab.set_targets_field(targets.field);
            ab.set_targets_union(targets.union_);
            ab.set_targets_group(targets.group);
            ab.set_targets_interface(targets.interface);
            ab.set_targets_method(targets.method);
            ab.set_targets_param(targets.param);
            ab.set_targets_annotation(targets.annotation);
        }
    }
}

fn build_annotations(
    anns: &[Annotation],
    mut list: capnp::struct_list::Builder<'_, capnp::schema_capnp::annotation::Owned>,
) {
    for (i, a) in anns.iter().enumerate() {
        let mut ab = list.reborrow().get(i as u32);
        ab.set_id(a.id);
        if !set_null_value(&a.value, |v| ab.set_value(v)) {
            build_value(&a.value, ab.reborrow().init_value());
        }
        // The official compiler always materializes the (possibly empty) brand here.
        let bb = ab.init_brand();
        if !a.brand.scopes.is_empty() {
            build_brand(&a.brand, bb);
        }
    }
}

fn build_brand(b: &Brand, bb: brand::Builder<'_>) {
    let mut sl = bb.init_scopes(b.scopes.len() as u32);
    for (i, s) in b.scopes.iter().enumerate() {
        let mut sb = sl.reborrow().get(i as u32);
        sb.set_scope_id(s.scope_id);
        match &s.kind {
            BrandScopeKind::Inherit => sb.set_inherit(()),
            BrandScopeKind::Bind(bs) => {
                let mut bl = sb.init_bind(bs.len() as u32);
                for (j, x) in bs.iter().enumerate() {
                    let mut bb = bl.reborrow().get(j as u32);
                    match x {
                        Binding::Unbound => bb.set_unbound(()),
                        Binding::Type(t) => build_type(t, bb.init_type()),
                    }
                }
            }
        }
    }
}

fn build_type(t: &Type, mut b: type_::Builder<'_>) {
    match t {
        Type::Void => b.set_void(()),
        Type::Bool => b.set_bool(()),
        Type::Int8 => b.set_int8(()),
        Type::Int16 => b.set_int16(()),
        Type::Int32 => b.set_int32(()),
        Type::Int64 => b.set_int64(()),
        Type::Uint8 => b.set_uint8(()),
        Type::Uint16 => b.set_uint16(()),
        Type::Uint32 => b.set_uint32(()),
        Type::Uint64 => b.set_uint64(()),
        Type::Float32 => b.set_float32(()),
        Type::Float64 => b.set_float64(()),
        Type::Text => b.set_text(()),
        Type::Data => b.set_data(()),
        Type::List(e) => build_type(e, b.init_list().init_element_type()),
        Type::Enum { type_id, brand } => {
            let mut x = b.init_enum();
            x.set_type_id(*type_id);
            if !brand.scopes.is_empty() {
                build_brand(brand, x.init_brand());
            }
        }
        Type::Struct { type_id, brand } => {
            let mut x = b.init_struct();
            x.set_type_id(*type_id);
            if !brand.scopes.is_empty() {
                build_brand(brand, x.init_brand());
            }
        }
        Type::Interface { type_id, brand } => {
            let mut x = b.init_interface();
            x.set_type_id(*type_id);
            if !brand.scopes.is_empty() {
                build_brand(brand, x.init_brand());
            }
        }
        Type::AnyPointer(a) => {
            let ap = b.init_any_pointer();
            match a {
                AnyPointer::AnyKind => ap.init_unconstrained().set_any_kind(()),
                AnyPointer::Struct => ap.init_unconstrained().set_struct(()),
                AnyPointer::List => ap.init_unconstrained().set_list(()),
                AnyPointer::Capability => ap.init_unconstrained().set_capability(()),
                AnyPointer::Parameter { scope_id, index } => {
                    let mut p = ap.init_parameter();
                    p.set_scope_id(*scope_id);
                    p.set_parameter_index(*index);
                }
                AnyPointer::ImplicitMethodParameter { index } => ap
                    .init_implicit_method_parameter()
                    .set_parameter_index(*index),
            }
        }
    }
}

fn set_pointer(bytes: &[u8], mut target: capnp::any_pointer::Builder<'_>) {
    let mut words = capnp::Word::allocate_zeroed_vec(bytes.len().div_ceil(8));
    capnp::Word::words_to_bytes_mut(&mut words)[..bytes.len()].copy_from_slice(bytes);
    let segs: [&[u8]; 1] = [capnp::Word::words_to_bytes(&words)];
    let reader = capnp::message::Reader::new(
        capnp::message::SegmentArray::new(&segs),
        capnp::message::ReaderOptions::new(),
    );
    if let Ok(root) = reader.get_root::<capnp::any_pointer::Reader<'_>>() {
        let _ = target.set_as(root);
    } else {
        target.clear();
    }
}

/// Writes a null `Text`/`Data` value (which the generated setters cannot express) by copying
/// a hand-built `Value` struct; returns false for any other value.
fn set_null_value(v: &Value, set: impl FnOnce(value::Reader<'_>) -> capnp::Result<()>) -> bool {
    let disc: u16 = match v {
        Value::Text(None) => 12,
        Value::Data(None) => 13,
        _ => return false,
    };
    // Root struct pointer (offset 0, 2 data words, 1 pointer), then the struct itself with
    // the union discriminant in its first 16 bits and a null pointer.
    let mut words = capnp::Word::allocate_zeroed_vec(4);
    {
        let bytes = capnp::Word::words_to_bytes_mut(&mut words);
        bytes[0..8].copy_from_slice(&((2u64 << 32) | (1u64 << 48)).to_le_bytes());
        bytes[8..10].copy_from_slice(&disc.to_le_bytes());
    }
    let segs: [&[u8]; 1] = [capnp::Word::words_to_bytes(&words)];
    let reader = capnp::message::Reader::new(
        capnp::message::SegmentArray::new(&segs),
        capnp::message::ReaderOptions::new(),
    );
    match reader.get_root::<value::Reader<'_>>() {
        Ok(root) => set(root).is_ok(),
        Err(_) => false,
    }
}

fn build_value(v: &Value, mut b: value::Builder<'_>) {
    match v {
        Value::Void => b.set_void(()),
        Value::Bool(x) => b.set_bool(*x),
        Value::Int8(x) => b.set_int8(*x),
        Value::Int16(x) => b.set_int16(*x),
        Value::Int32(x) => b.set_int32(*x),
        Value::Int64(x) => b.set_int64(*x),
        Value::Uint8(x) => b.set_uint8(*x),
        Value::Uint16(x) => b.set_uint16(*x),
        Value::Uint32(x) => b.set_uint32(*x),
        Value::Uint64(x) => b.set_uint64(*x),
        Value::Float32(x) => b.set_float32(*x),
        Value::Float64(x) => b.set_float64(*x),
        // A null Text/Data cannot be expressed through the generated setters; an empty
        // value reads back the same way.
        Value::Text(t) => b.set_text(t.as_deref().unwrap_or("")),
        Value::Data(d) => b.set_data(d.as_deref().unwrap_or(&[])),
        Value::Enum(e) => b.set_enum(*e),
        Value::Interface => b.set_interface(()),
        Value::List(p) => {
            let ap = b.init_list();
            if let Some(bytes) = p {
                set_pointer(bytes, ap);
            }
        }
        Value::Struct(p) => {
            let ap = b.init_struct();
            if let Some(bytes) = p {
                set_pointer(bytes, ap);
            }
        }
        Value::AnyPointer(p) => {
            let ap = b.init_any_pointer();
            if let Some(bytes) = p {
                set_pointer(bytes, ap);
            }
        }
    }
}
