//! Builds the one C function stable Rust cannot write: libasound's variadic error
//! handler (src/audio/c/alsa_quiet.c, see `audio::quiet`).

fn main() {
    println!("cargo:rerun-if-changed=src/audio/c/alsa_quiet.c");
    if std::env::var("CARGO_CFG_TARGET_OS").as_deref() == Ok("linux") {
        cc::Build::new()
            .file("src/audio/c/alsa_quiet.c")
            .warnings(true)
            .compile("hopscope_alsa_quiet");
    }
}
