//! The explanation a host appends to "Unrecognized remote plugin message": what usually goes
//! wrong, and what can be learned about the executable (mode, owner, architecture).
//!
//! The text follows go-plugin's command runner (`cmd_runner.go`, `notes_unix.go`) line for line,
//! so a report from a Rust host reads like one from a Go host.

use std::path::Path;

use crate::sys::users::FileOwner;
#[cfg(unix)]
use crate::sys::users::{current_ids, group_name, user_name};

const EOF_NOTE: &str = "Failed to read any lines from plugin's stdout\n";

const USUAL_CAUSES: &str = "This usually means
  the plugin was not compiled for this architecture,
  the plugin is missing dynamic-link libraries necessary to run,
  the plugin is not executable by this process due to file permissions, or
  the plugin failed to negotiate the initial go-plugin protocol handshake
";

/// The block that follows `Unrecognized remote plugin message: <line>\n`.
///
/// `stdout_eof` adds go-plugin's "Failed to read any lines" line (the plugin closed stdout
/// without printing). The notes about the executable are left out when `path` is `None` or
/// cannot be examined.
pub(crate) fn diagnostics(path: Option<&Path>, stdout_eof: bool) -> String {
    let mut text = String::new();
    if stdout_eof {
        text.push_str(EOF_NOTE);
    }
    text.push_str(USUAL_CAUSES);
    if let Some(path) = path {
        text.push_str(&notes_about(path));
    }
    text
}

/// go-plugin's "Additional notes about plugin" section, or nothing when `path` cannot be stat'ed.
fn notes_about(path: &Path) -> String {
    let Some(meta) = FileOwner::of(path) else {
        return String::new();
    };
    let mut notes = String::from("\nAdditional notes about plugin:\n");
    notes.push_str(&format!("  Path: {}\n", path.display()));
    notes.push_str(&format!("  Mode: {}\n", file_mode(meta.mode)));
    // Owners only on Unix, as go-plugin's notes on Windows.
    #[cfg(unix)]
    owners(&mut notes, meta);

    if let Some(arch) = executable_architecture(path) {
        notes.push_str(&format!("  {arch} (current architecture: {})\n", go_arch()));
    }
    notes
}

/// The file's owner and group, and this process's.
#[cfg(unix)]
fn owners(notes: &mut String, meta: FileOwner) {
    let (uid, gid) = current_ids();
    notes.push_str(&format!(
        "  Owner: {} [{}] (current: {} [{}])\n",
        meta.uid,
        user_name(meta.uid).as_deref().unwrap_or("?"),
        uid,
        user_name(uid).as_deref().unwrap_or("?"),
    ));
    notes.push_str(&format!(
        "  Group: {} [{}] (current: {} [{}])\n",
        meta.gid,
        group_name(meta.gid).as_deref().unwrap_or("?"),
        gid,
        group_name(gid).as_deref().unwrap_or("?"),
    ));
}

/// Go's `os.FileMode.String()` for a `st_mode` value: type letters (or `-`), then `rwxrwxrwx`.
pub(super) fn file_mode(st_mode: u32) -> String {
    const S_IFMT: u32 = 0o170_000;
    // Go's mode letters in the order it prints them, paired with whether they apply.
    let kind = st_mode & S_IFMT;
    let flags = [
        ('d', kind == 0o040_000),
        ('L', kind == 0o120_000),
        ('D', kind == 0o060_000 || kind == 0o020_000),
        ('p', kind == 0o010_000),
        ('S', kind == 0o140_000),
        ('u', st_mode & 0o4000 != 0),
        ('g', st_mode & 0o2000 != 0),
        ('c', kind == 0o020_000),
        ('t', st_mode & 0o1000 != 0),
    ];
    let mut out: String = flags.iter().filter(|(_, on)| *on).map(|(c, _)| c).collect();
    if out.is_empty() {
        out.push('-');
    }
    for (i, c) in "rwxrwxrwx".chars().enumerate() {
        out.push(if st_mode & (1 << (8 - i)) != 0 {
            c
        } else {
            '-'
        });
    }
    out
}

/// `ELF architecture: EM_X86_64`, `MachO architecture: CpuArm64` or `PE architecture: amd64`,
/// read from the executable's header as Go's `debug/elf`, `debug/macho` and `debug/pe` name them.
fn executable_architecture(path: &Path) -> Option<String> {
    use std::io::Read;
    let mut header = Vec::with_capacity(512);
    std::fs::File::open(path)
        .ok()?
        .take(4096)
        .read_to_end(&mut header)
        .ok()?;
    describe_header(&header)
}

pub(super) fn describe_header(header: &[u8]) -> Option<String> {
    if let Some(machine) = elf_machine(header) {
        return Some(format!("ELF architecture: {}", elf_machine_name(machine)));
    }
    if let Some(cpu) = macho_cpu(header) {
        return Some(format!("MachO architecture: {}", macho_cpu_name(cpu)));
    }
    if let Some(machine) = pe_machine(header) {
        return Some(format!("PE architecture: {}", pe_machine_name(machine)));
    }
    None
}

fn u16_at(bytes: &[u8], at: usize, big_endian: bool) -> Option<u16> {
    let raw: [u8; 2] = bytes.get(at..at + 2)?.try_into().ok()?;
    Some(if big_endian {
        u16::from_be_bytes(raw)
    } else {
        u16::from_le_bytes(raw)
    })
}

fn u32_at(bytes: &[u8], at: usize, big_endian: bool) -> Option<u32> {
    let raw: [u8; 4] = bytes.get(at..at + 4)?.try_into().ok()?;
    Some(if big_endian {
        u32::from_be_bytes(raw)
    } else {
        u32::from_le_bytes(raw)
    })
}

/// `e_machine`, when the identification bytes are those Go's `elf.NewFile` accepts.
fn elf_machine(h: &[u8]) -> Option<u16> {
    if h.get(..4)? != b"\x7fELF" {
        return None;
    }
    let class_ok = matches!(h.get(4)?, 1 | 2);
    let big_endian = match h.get(5)? {
        1 => false,
        2 => true,
        _ => return None,
    };
    if !class_ok || *h.get(6)? != 1 {
        return None;
    }
    // e_version (after e_type, e_machine) must repeat the identification's version.
    if u32_at(h, 20, big_endian)? != 1 {
        return None;
    }
    u16_at(h, 18, big_endian)
}

/// Go's `elf.Machine` names for the machines a plugin is realistically built for.
fn elf_machine_name(machine: u16) -> String {
    let name = match machine {
        0 => "EM_NONE",
        2 => "EM_SPARC",
        3 => "EM_386",
        4 => "EM_68K",
        8 => "EM_MIPS",
        10 => "EM_MIPS_RS3_LE",
        20 => "EM_PPC",
        21 => "EM_PPC64",
        22 => "EM_S390",
        40 => "EM_ARM",
        42 => "EM_SH",
        43 => "EM_SPARCV9",
        50 => "EM_IA_64",
        62 => "EM_X86_64",
        183 => "EM_AARCH64",
        243 => "EM_RISCV",
        247 => "EM_BPF",
        258 => "EM_LOONGARCH",
        other => return other.to_string(),
    };
    name.to_string()
}

/// The CPU type of a thin Mach-O file (Go's `macho.Open` rejects universal binaries).
fn macho_cpu(h: &[u8]) -> Option<u32> {
    let big_endian = match h.get(..4)? {
        [0xfe, 0xed, 0xfa, 0xce | 0xcf] => true,
        [0xce | 0xcf, 0xfa, 0xed, 0xfe] => false,
        _ => return None,
    };
    u32_at(h, 4, big_endian)
}

fn macho_cpu_name(cpu: u32) -> String {
    let name = match cpu {
        7 => "Cpu386",
        0x0100_0007 => "CpuAmd64",
        12 => "CpuArm",
        0x0100_000c => "CpuArm64",
        18 => "CpuPpc",
        0x0100_0012 => "CpuPpc64",
        other => return other.to_string(),
    };
    name.to_string()
}

/// The COFF machine of a PE image with an MZ stub.
fn pe_machine(h: &[u8]) -> Option<u16> {
    if h.get(..2)? != b"MZ" {
        return None;
    }
    let offset = usize::try_from(u32_at(h, 0x3c, false)?).ok()?;
    if h.get(offset..offset.checked_add(4)?)? != b"PE\0\0" {
        return None;
    }
    u16_at(h, offset + 4, false)
}

/// go-plugin maps the PE machine to a Go architecture name itself (`peTypes`).
fn pe_machine_name(machine: u16) -> &'static str {
    match machine {
        0x14c => "386",
        0x1c0 => "arm",
        0x6264 => "loong64",
        0x8664 => "amd64",
        0xaa64 => "arm64",
        _ => "unknown",
    }
}

/// This process's architecture under Go's name for it (`runtime.GOARCH`).
pub(super) fn go_arch() -> &'static str {
    let little = cfg!(target_endian = "little");
    match std::env::consts::ARCH {
        "x86_64" => "amd64",
        "x86" => "386",
        "aarch64" => "arm64",
        "arm" => "arm",
        "riscv64" => "riscv64",
        "loongarch64" => "loong64",
        "s390x" => "s390x",
        "powerpc64" if little => "ppc64le",
        "powerpc64" => "ppc64",
        "mips" if little => "mipsle",
        "mips" => "mips",
        "mips64" if little => "mips64le",
        "mips64" => "mips64",
        "wasm32" => "wasm",
        other => other,
    }
}

#[cfg(all(test, unix))]
mod tests {
    use std::os::unix::fs::{MetadataExt, PermissionsExt};

    use super::*;

    /// go-plugin's `unrecognizedRemotePluginMessage` with an empty notes section.
    const GO_USUAL_CAUSES: &str = "This usually means\n  the plugin was not compiled for this architecture,\n  the plugin is missing dynamic-link libraries necessary to run,\n  the plugin is not executable by this process due to file permissions, or\n  the plugin failed to negotiate the initial go-plugin protocol handshake\n";

    fn elf_header(machine: u16) -> Vec<u8> {
        let mut h = vec![0u8; 64];
        h[..4].copy_from_slice(b"\x7fELF");
        h[4] = 2; // 64-bit
        h[5] = 1; // little endian
        h[6] = 1; // EV_CURRENT
        h[16..18].copy_from_slice(&2u16.to_le_bytes()); // ET_EXEC
        h[18..20].copy_from_slice(&machine.to_le_bytes());
        h[20..24].copy_from_slice(&1u32.to_le_bytes());
        h
    }

    #[test]
    fn without_a_path_only_the_usual_causes() {
        assert_eq!(diagnostics(None, false), GO_USUAL_CAUSES);
    }

    #[test]
    fn eof_adds_the_failed_to_read_line_first() {
        assert_eq!(
            diagnostics(None, true),
            format!("Failed to read any lines from plugin's stdout\n{GO_USUAL_CAUSES}")
        );
    }

    #[test]
    fn a_path_that_cannot_be_stated_adds_no_notes() {
        let text = diagnostics(Some(Path::new("/nonexistent/plugin-xyz")), false);
        assert_eq!(text, GO_USUAL_CAUSES);
    }

    #[test]
    fn notes_describe_the_executable() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("plugin");
        std::fs::write(&path, elf_header(62)).unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
        let meta = std::fs::metadata(&path).unwrap();
        let (uid, gid) = current_ids();

        let text = diagnostics(Some(&path), false);
        let notes = text.strip_prefix(GO_USUAL_CAUSES).unwrap();
        let lines: Vec<&str> = notes.lines().collect();
        assert_eq!(lines[0], "");
        assert_eq!(lines[1], "Additional notes about plugin:");
        assert_eq!(lines[2], format!("  Path: {}", path.display()));
        assert_eq!(lines[3], "  Mode: -rwxr-xr-x");
        let name = |n: Option<String>| n.unwrap_or_else(|| "?".to_string());
        assert_eq!(
            lines[4],
            format!(
                "  Owner: {} [{}] (current: {uid} [{}])",
                meta.uid(),
                name(user_name(meta.uid())),
                name(user_name(uid))
            )
        );
        assert_eq!(
            lines[5],
            format!(
                "  Group: {} [{}] (current: {gid} [{}])",
                meta.gid(),
                name(group_name(meta.gid())),
                name(group_name(gid))
            )
        );
        assert_eq!(
            lines[6],
            format!(
                "  ELF architecture: EM_X86_64 (current architecture: {})",
                go_arch()
            )
        );
        assert_eq!(lines.len(), 7);
        assert!(notes.ends_with('\n'));
    }

    #[test]
    fn a_script_has_no_architecture_line() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("plugin.sh");
        std::fs::write(&path, "#!/bin/sh\necho hello\n").unwrap();
        let text = diagnostics(Some(&path), true);
        assert!(text.contains("  Mode: -rw"), "{text}");
        assert!(!text.contains("architecture: "), "{text}");
        assert!(text.ends_with("])\n"), "{text}");
    }

    #[test]
    fn the_test_binary_is_an_elf_for_this_machine() {
        let exe = std::env::current_exe().unwrap();
        let arch = executable_architecture(&exe).unwrap();
        if cfg!(all(target_os = "linux", target_arch = "x86_64")) {
            assert_eq!(arch, "ELF architecture: EM_X86_64");
            assert_eq!(go_arch(), "amd64");
        } else if cfg!(all(target_os = "linux", target_arch = "aarch64")) {
            assert_eq!(arch, "ELF architecture: EM_AARCH64");
            assert_eq!(go_arch(), "arm64");
        }
    }

    #[test]
    fn names_come_from_the_system_databases() {
        assert_eq!(user_name(0).as_deref(), Some("root"));
        assert!(group_name(0).is_some());
        assert_eq!(user_name(u32::MAX - 7), None);
    }

    #[test]
    fn file_modes_print_like_go() {
        assert_eq!(file_mode(0o100_755), "-rwxr-xr-x");
        assert_eq!(file_mode(0o100_644), "-rw-r--r--");
        assert_eq!(file_mode(0o100_000), "----------");
        assert_eq!(file_mode(0o040_755), "drwxr-xr-x");
        assert_eq!(file_mode(0o041_777), "dtrwxrwxrwx");
        assert_eq!(file_mode(0o104_755), "urwxr-xr-x");
        assert_eq!(file_mode(0o106_755), "ugrwxr-xr-x");
        assert_eq!(file_mode(0o120_777), "Lrwxrwxrwx");
        assert_eq!(file_mode(0o020_666), "Dcrw-rw-rw-");
        assert_eq!(file_mode(0o060_660), "Drw-rw----");
        assert_eq!(file_mode(0o010_644), "prw-r--r--");
        assert_eq!(file_mode(0o140_777), "Srwxrwxrwx");
    }

    #[test]
    fn elf_machines_use_go_names() {
        assert_eq!(
            describe_header(&elf_header(183)).as_deref(),
            Some("ELF architecture: EM_AARCH64")
        );
        assert_eq!(
            describe_header(&elf_header(3)).as_deref(),
            Some("ELF architecture: EM_386")
        );
        assert_eq!(
            describe_header(&elf_header(9999)).as_deref(),
            Some("ELF architecture: 9999")
        );
        let mut big = elf_header(0);
        big[5] = 2;
        big[18..20].copy_from_slice(&21u16.to_be_bytes());
        big[20..24].copy_from_slice(&1u32.to_be_bytes());
        assert_eq!(
            describe_header(&big).as_deref(),
            Some("ELF architecture: EM_PPC64")
        );
    }

    #[test]
    fn malformed_elf_headers_are_not_elf() {
        let mut bad_class = elf_header(62);
        bad_class[4] = 3;
        assert_eq!(describe_header(&bad_class), None);
        let mut bad_version = elf_header(62);
        bad_version[20] = 2;
        assert_eq!(describe_header(&bad_version), None);
        assert_eq!(describe_header(&elf_header(62)[..10]), None);
        assert_eq!(describe_header(b""), None);
    }

    #[test]
    fn macho_and_pe_headers() {
        let mut macho = vec![0xcf, 0xfa, 0xed, 0xfe];
        macho.extend_from_slice(&0x0100_000cu32.to_le_bytes());
        assert_eq!(
            describe_header(&macho).as_deref(),
            Some("MachO architecture: CpuArm64")
        );
        let universal = [0xca, 0xfe, 0xba, 0xbe, 0, 0, 0, 2];
        assert_eq!(describe_header(&universal), None);

        let mut pe = vec![0u8; 0x90];
        pe[..2].copy_from_slice(b"MZ");
        pe[0x3c..0x40].copy_from_slice(&0x80u32.to_le_bytes());
        pe[0x80..0x84].copy_from_slice(b"PE\0\0");
        pe[0x84..0x86].copy_from_slice(&0x8664u16.to_le_bytes());
        assert_eq!(
            describe_header(&pe).as_deref(),
            Some("PE architecture: amd64")
        );
        pe[0x84..0x86].copy_from_slice(&0x1234u16.to_le_bytes());
        assert_eq!(
            describe_header(&pe).as_deref(),
            Some("PE architecture: unknown")
        );
        // An MZ stub pointing past the end is not a PE image.
        pe[0x3c..0x40].copy_from_slice(&u32::MAX.to_le_bytes());
        assert_eq!(describe_header(&pe), None);
    }
}
