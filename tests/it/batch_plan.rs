//! Issue 12 §4: which files a batch of `analyze`/`render` takes and where each output
//! goes (`offline::batch::plan`), and which `-o` is a directory
//! (`config::batch::BatchConfig`). The expected lists are typed in from the rules of the
//! README, on a tree made here.

use std::path::{Path, PathBuf};

use hopscope::cli::BatchArgs;
use hopscope::config::batch::{BatchConfig, ExportTarget, OutputTarget};
use hopscope::offline::batch::{is_audio, plan, BatchFile, AUDIO_EXTENSIONS};

use crate::support::TempDir;

/// in/ a.wav B.WAV notes.txt song.Flac .hidden.wav .git/x.wav
///     sub/ c.wav readme.md deeper/ d.aiff
fn tree() -> TempDir {
    let dir = TempDir::new("batch-plan");
    for f in [
        "in/a.wav",
        "in/B.WAV",
        "in/notes.txt",
        "in/song.Flac",
        "in/.hidden.wav",
        "in/.git/x.wav",
        "in/sub/c.wav",
        "in/sub/readme.md",
        "in/sub/deeper/d.aiff",
        "loose/e.wav",
        "loose/f.data",
    ] {
        let path = dir.join(f);
        std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
        std::fs::write(&path, b"not decoded here").expect("write");
    }
    dir
}

fn file(dir: &TempDir, input: &str, output: &str) -> BatchFile {
    BatchFile {
        input: dir.join(input),
        output: dir.join(output),
    }
}

#[test]
fn a_directory_gives_its_audio_files_mirrored_and_counts_the_rest() {
    let dir = tree();
    let out = dir.join("out");
    let p = plan(&[dir.join("in")], &out, false, "npy").expect("plan");
    // Sorted by name (byte order: upper case first); the subdirectories .git and sub,
    // the hidden file and notes.txt skipped.
    assert_eq!(
        p.files,
        vec![
            file(&dir, "in/B.WAV", "out/B.npy"),
            file(&dir, "in/a.wav", "out/a.npy"),
            file(&dir, "in/song.Flac", "out/song.npy"),
        ]
    );
    assert_eq!(p.skipped, 4, "notes.txt, .hidden.wav, .git/, sub/");
    assert!(p.unlisted.is_empty());

    let p = plan(&[dir.join("in")], &out, true, "png").expect("plan");
    assert_eq!(
        p.files,
        vec![
            file(&dir, "in/B.WAV", "out/B.png"),
            file(&dir, "in/a.wav", "out/a.png"),
            file(&dir, "in/song.Flac", "out/song.png"),
            file(&dir, "in/sub/c.wav", "out/sub/c.png"),
            file(&dir, "in/sub/deeper/d.aiff", "out/sub/deeper/d.png"),
        ]
    );
    assert_eq!(
        p.skipped, 4,
        "notes.txt, .hidden.wav, .git/ (not entered), readme.md"
    );
}

#[test]
fn files_given_keep_their_name_whatever_their_extension_and_mix_with_directories() {
    let dir = tree();
    let out = dir.join("o");
    let inputs = [
        dir.join("loose/f.data"),
        dir.join("in/sub"),
        dir.join("loose/e.wav"),
    ];
    let p = plan(&inputs, &out, false, "npy").expect("plan");
    assert_eq!(
        p.files,
        vec![
            file(&dir, "loose/f.data", "o/f.npy"),
            file(&dir, "in/sub/c.wav", "o/c.npy"),
            file(&dir, "loose/e.wav", "o/e.npy"),
        ]
    );
    assert_eq!(p.skipped, 2, "readme.md, deeper/");
}

#[test]
fn two_inputs_with_one_output_are_refused_before_any_work() {
    let dir = tree();
    let out = dir.join("out");
    // a.wav and a.flac beside each other, and the same name from a file and a directory.
    std::fs::write(dir.join("in/a.flac"), b"x").expect("write");
    let err = plan(&[dir.join("in")], &out, false, "npy").expect_err("a.wav and a.flac");
    let text = err.to_string();
    assert!(
        text.contains("a.flac") && text.contains("a.wav") && text.contains("a.npy"),
        "{text}"
    );
    assert_eq!(text.lines().count(), 1);
    let err = plan(
        &[dir.join("loose/e.wav"), dir.join("loose/e.wav")],
        &out,
        false,
        "npy",
    )
    .expect_err("the same file twice");
    assert!(err.to_string().contains("e.npy"), "{err}");
    assert!(!out.exists(), "nothing was created");
}

#[test]
fn audio_is_told_by_extension_in_any_case() {
    assert_eq!(AUDIO_EXTENSIONS.len(), 15);
    for ext in AUDIO_EXTENSIONS {
        assert!(is_audio(Path::new(&format!("x.{ext}"))), "{ext}");
        assert!(
            is_audio(Path::new(&format!("x.{}", ext.to_uppercase()))),
            "{ext}"
        );
    }
    for name in ["x.txt", "x", "wav", "x.wav.bak", "x.npy", "x.png"] {
        assert!(!is_audio(Path::new(name)), "{name}");
    }
}

fn batch(
    inputs: &[PathBuf],
    output: &Path,
    export: Option<Option<PathBuf>>,
) -> Result<BatchConfig, String> {
    let args = BatchArgs {
        recursive: false,
        quiet: false,
    };
    BatchConfig::new(inputs, output, &args, export.as_ref(), "npy").map_err(|e| e.to_string())
}

#[test]
fn dash_o_is_a_directory_when_it_ends_in_a_slash_or_is_one() {
    let dir = tree();
    let a = dir.join("in/a.wav");
    // The one-file form, as ever.
    let one = batch(std::slice::from_ref(&a), &dir.join("x.npy"), None).expect("one file");
    assert_eq!(one.output, OutputTarget::File(dir.join("x.npy")));
    assert_eq!(one.export, ExportTarget::None);
    let e = batch(std::slice::from_ref(&a), &dir.join("x.txt"), None).expect_err("ext");
    assert!(e.contains("must end in .npy"), "{e}");
    // A path ending in '/', existing or not, and an existing directory.
    let slash = PathBuf::from(format!("{}/", dir.join("new").display()));
    let d = batch(std::slice::from_ref(&a), &slash, Some(None)).expect("dir/");
    assert_eq!(d.output, OutputTarget::Dir(slash.clone()));
    assert_eq!(d.export, ExportTarget::Beside);
    let d = batch(std::slice::from_ref(&a), &dir.join("loose"), None).expect("existing dir");
    assert_eq!(d.output, OutputTarget::Dir(dir.join("loose")));
    // An existing directory named like an output stays a file target (and fails to be
    // written, as before).
    std::fs::create_dir(dir.join("isadir.npy")).expect("mkdir");
    let f = batch(std::slice::from_ref(&a), &dir.join("isadir.npy"), None).expect("file");
    assert_eq!(f.output, OutputTarget::File(dir.join("isadir.npy")));
    // Several inputs, or a directory, need a directory.
    for inputs in [vec![a.clone(), a.clone()], vec![dir.join("in")]] {
        let e = batch(&inputs, &dir.join("x.npy"), None).expect_err("a file for many");
        assert!(e.contains("-o DIR/"), "{e}");
    }
    // '-' only alone, and only to a file; an export path only for one file.
    let dash = PathBuf::from("-");
    let e = batch(&[dash.clone(), a.clone()], &slash, None).expect_err("- and more");
    assert!(e.contains("only be the one input"), "{e}");
    let e = batch(std::slice::from_ref(&dash), &slash, None).expect_err("- to a dir");
    assert!(e.contains("no file name"), "{e}");
    let e = batch(
        std::slice::from_ref(&a),
        &slash,
        Some(Some(dir.join("p.json"))),
    )
    .expect_err("path");
    assert!(e.contains("--export without a path"), "{e}");
    let p = batch(&[a], &dir.join("x.npy"), Some(Some(dir.join("p.json")))).expect("path");
    assert_eq!(p.export, ExportTarget::Path(dir.join("p.json")));
    assert_eq!(
        ExportTarget::Beside.for_output(&dir.join("o/a/b.npy")),
        Some(dir.join("o/a/b.json"))
    );
}
