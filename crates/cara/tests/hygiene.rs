//! Generated code names everything by absolute path, so it compiles without the
//! prelude and beside hostile names: modules under `#[no_implicit_prelude]`, with
//! local `macro_rules!` shadowing the std macros (they reach into the generated
//! modules by textual scope) and types, modules and functions named like the ones
//! generated code uses (at the call site, where the macro's own items land).
//!
//! The second half checks the runtime-path option: the same schemas generated
//! against `::my_rt`, the `cara` crate under another name.

extern crate cara as my_rt;

#[no_implicit_prelude]
#[allow(dead_code, non_camel_case_types, unused_macros, clippy::all)]
mod hostile {
    // Named like the macros generated code calls: a bare `vec![]` in generated
    // code would pick these up (textual scope reaches into child modules).
    macro_rules! vec {
        ($($t:tt)*) => {
            ::core::compile_error!("generated code used a bare `vec!`")
        };
    }
    macro_rules! format {
        ($($t:tt)*) => {
            ::core::compile_error!("generated code used a bare `format!`")
        };
    }
    macro_rules! include_bytes {
        ($($t:tt)*) => {
            ::core::compile_error!("generated code used a bare `include_bytes!`")
        };
    }
    // Derives resolve in the macro namespace too.
    macro_rules! Debug {
        ($($t:tt)*) => {};
    }
    macro_rules! Clone {
        ($($t:tt)*) => {};
    }
    macro_rules! PartialEq {
        ($($t:tt)*) => {};
    }
    macro_rules! Default {
        ($($t:tt)*) => {};
    }
    macro_rules! panic {
        ($($t:tt)*) => {
            ::core::compile_error!("generated code used a bare `panic!`")
        };
    }

    struct Result;
    struct Option;
    struct Some;
    struct None;
    struct Ok;
    struct Err;
    struct Vec;
    struct String;
    struct Box;
    struct Default;
    struct Clone;
    struct Debug;
    struct PartialEq;
    struct Send;
    struct Sync;
    mod cara {}
    mod std {}
    mod core {}
    mod alloc {}
    fn drop() {}
    fn from() {}
    fn into() {}

    ::cara::schema!("../../schemas/tests/features.capnp");
    ::cara::schema!("../../schemas/calculator.capnp");
}

#[no_implicit_prelude]
#[allow(dead_code, clippy::all)]
mod renamed {
    mod cara {}

    ::my_rt::schema!("../../schemas/calculator.capnp", runtime = "::my_rt");
}

#[test]
fn hostile_scope_code_works() {
    use hostile::features_capnp::Field;
    let f = Field { field: "x".into() };
    let v = cara::Encode::encode(&f, cara::Caps::NONE).unwrap();
    assert_eq!(
        <Field as cara::Decode>::decode(v, cara::Caps::NONE).unwrap(),
        f
    );
}

#[test]
fn renamed_runtime_code_works() {
    use renamed::calculator_capnp::Op;
    let v = my_rt::Encode::encode(&Op::Add, my_rt::Caps::NONE).unwrap();
    assert_eq!(
        <Op as my_rt::Decode>::decode(v, my_rt::Caps::NONE).unwrap(),
        Op::Add
    );
    // The generated client is the runtime's, whatever it is called.
    let _: fn(my_rt::Remote) -> renamed::calculator_capnp::CalculatorClient =
        renamed::calculator_capnp::CalculatorClient::new;
}
