# Sourced by scripts/check-targets and tests/windows/build.sh: Debian's Rust (installed when
# missing, as root), and the target directory for other targets cached per machine and rustc
# version, in $target_dir. Set need_mingw=1 before sourcing to install MinGW too.
# Debian's Rust, by path: rustup's toolchain comes first in PATH, and its clippy-driver must match
# the rustc that builds std (Debian's clippy is built with Debian's rustc). MinGW's gcc compiles
# aws-lc (the `tls` feature's C) for Windows with GNU tools. A fresh CI machine has none of them.
packages=()
[[ -x /usr/bin/rustc && -x /usr/bin/cargo ]] || packages+=(rustc-web cargo-web)
[[ -x /usr/bin/clippy-driver ]] || packages+=(rust-web-clippy)
[[ -d /usr/lib/rustlib/src/rust/library ]] || packages+=(rust-web-src)
[[ -d /usr/lib/rustlib/x86_64-unknown-linux-gnu/lib ]] || packages+=(libstd-rust-web-dev)
if [[ -n ${need_mingw:-} ]] && ! command -v x86_64-w64-mingw32-gcc >/dev/null; then
  packages+=(gcc-mingw-w64-x86-64)
fi
if ((${#packages[@]})); then
  echo "installing ${packages[*]} (Debian's Rust with its std sources, to build std for other" \
    "targets; MinGW for aws-lc on Windows): about 700 MB, a minute"
  sudo=()
  ((EUID == 0)) || sudo=(sudo)
  "${sudo[@]}" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq "${packages[@]}" >/dev/null
fi

rustc_version=$(/usr/bin/rustc -vV | sed -n 's/^release: //p')
target_dir=${GO_PLUGIN_CROSS_TARGET_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/go-plugin-rs/cross-$rustc_version/target}

