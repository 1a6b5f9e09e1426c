//! Builds the web front-end (`assets/`, Vite) into `assets/dist` when it is missing or older
//! than its sources, so `cargo build` on a fresh clone produces a binary with the UI embedded.
//! Without npm the build fails with a message saying what to install: a binary never ships
//! silently without its UI. `ATRIUM_KEEP_WEB_BUILD=1` keeps an existing `assets/dist` as it is
//! (for back-end work while the front-end sources are mid-edit).

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::SystemTime;

const SOURCES: [&str; 10] = [
    "src",
    "public",
    "index.html",
    "api-docs.html",
    "package.json",
    "package-lock.json",
    "vite.config.ts",
    "tsconfig.json",
    "tsconfig.app.json",
    "tsconfig.node.json",
];

fn newest(path: &Path) -> Option<SystemTime> {
    let meta = std::fs::metadata(path).ok()?;
    let mut t = meta.modified().ok()?;
    if meta.is_dir() {
        for entry in std::fs::read_dir(path).ok()?.flatten() {
            if let Some(m) = newest(&entry.path()) {
                t = t.max(m);
            }
        }
    }
    Some(t)
}

fn run(cmd: &mut Command, what: &str) -> Result<(), String> {
    let status = cmd.status().map_err(|e| {
        format!(
            "cannot run {what}: {e}. The web front-end needs Node.js 20+ and npm: install them \
             (e.g. `apt-get install nodejs npm`), or build assets/dist elsewhere and copy it in"
        )
    })?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("{what} failed with {status}"))
    }
}

fn main() -> Result<(), String> {
    let assets = PathBuf::from("assets");
    for s in SOURCES {
        println!("cargo::rerun-if-changed=assets/{s}");
    }
    println!("cargo::rerun-if-changed=assets/dist/index.html");
    let built = newest(&assets.join("dist/index.html"));
    let sources = SOURCES.iter().filter_map(|s| newest(&assets.join(s))).max();
    let fresh = matches!((built, sources), (Some(b), Some(s)) if b >= s);
    // Back-end work while the front-end is mid-edit: keep the last built UI.
    println!("cargo::rerun-if-env-changed=ATRIUM_KEEP_WEB_BUILD");
    let keep = std::env::var_os("ATRIUM_KEEP_WEB_BUILD").is_some() && built.is_some();
    if fresh || keep {
        return Ok(());
    }
    let lock = newest(&assets.join("package-lock.json"));
    let installed = newest(&assets.join("node_modules/.package-lock.json"));
    let need_install = match (installed, lock) {
        (Some(i), Some(l)) => i < l,
        _ => true,
    };
    if need_install {
        run(
            Command::new("npm")
                .args(["ci", "--no-audit", "--no-fund"])
                .current_dir(&assets),
            "npm ci",
        )?;
    }
    run(
        Command::new("npm")
            .args(["run", "build"])
            .current_dir(&assets),
        "npm run build (assets/)",
    )?;
    if !assets.join("dist/index.html").is_file() {
        return Err("npm run build did not produce assets/dist/index.html".into());
    }
    Ok(())
}
