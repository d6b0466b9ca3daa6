//! The spec's problems and warnings as translated sentences.

use crate::i18n::{gettext, gettext_f};
use crate::spec::validate::NAME_MAX_CHARS;
use crate::spec::{SpecProblem, SpecWarning};

pub(super) fn problem_text(problem: &SpecProblem) -> String {
    use SpecProblem::*;
    match problem {
        NameEmpty => gettext("Enter a name for the virtual machine."),
        NameTooLong { chars } => gettext_f(
            // Translators: {chars} and {max} are numbers of characters.
            "The name is {chars} characters long; at most {max} are allowed.",
            &[("chars", &chars.to_string()), ("max", &NAME_MAX_CHARS.to_string())],
        ),
        NameSurroundingSpace => gettext("The name must not begin or end with a space."),
        NameSlash => gettext("The name must not contain “/”."),
        NameControlCharacter => {
            gettext("The name must not contain control characters such as tabs or line breaks.")
        }
        NameTaken(name) => gettext_f(
            // Translators: {name} is the name of a virtual machine.
            "A virtual machine called “{name}” already exists on this connection.",
            &[("name", name)],
        ),
        IsoNotChosen => gettext("Choose an installation image."),
        MediaVolumeNotChosen => {
            gettext("Choose the storage pool and volume of the installation media.")
        }
        UploadNameTaken { pool, volume } => gettext_f(
            // Translators: {pool} is a storage pool on the remote host, {volume} the name the chosen image file would get there.
            "The storage pool “{pool}” on the host already has a volume called “{volume}”: choose it among the ISO volumes, or rename the image file.",
            &[("pool", pool), ("volume", volume)],
        ),
        MediaVolumeMissing { pool, volume } => gettext_f(
            // Translators: {pool} is a storage pool, {volume} a volume in it.
            "The storage pool “{pool}” has no volume called “{volume}”.",
            &[("pool", pool), ("volume", volume)],
        ),
        ImportNotChosen => gettext("Choose the disk image to import."),
        FileMissing { path, .. } => gettext_f(
            // Translators: {path} is a file name.
            "The file “{path}” does not exist.",
            &[("path", path)],
        ),
        NotAFile { path, .. } => gettext_f(
            // Translators: {path} is a folder name.
            "“{path}” is a folder, not a file.",
            &[("path", path)],
        ),
        MemoryZero => gettext("The memory must be more than 0 MiB."),
        MemoryOverTotal { requested, total } => gettext_f(
            // Translators: {requested} and {total} are amounts in MiB.
            "{requested} MiB of memory is more than the host has in total ({total} MiB).",
            &[
                ("requested", &requested.to_string()),
                ("total", &total.to_string()),
            ],
        ),
        VcpusZero => gettext("The machine needs at least one virtual CPU."),
        VcpusOverHost { requested, cpus } => gettext_f(
            // Translators: {requested} and {cpus} are numbers of processors.
            "{requested} virtual CPUs are more than the host’s {cpus}.",
            &[("requested", &requested.to_string()), ("cpus", &cpus.to_string())],
        ),
        PoolNotChosen => gettext("Choose a storage pool for the new disk."),
        DiskSizeZero => gettext("The disk must be at least 1 GiB."),
        DiskOverPool {
            pool,
            size_gib,
            free_gib,
        } => gettext_f(
            // Translators: {size} and {free} are sizes in GiB; {pool} a storage pool name.
            "A {size} GiB disk does not fit in the storage pool “{pool}”, which has {free} GiB free.",
            &[
                ("size", &size_gib.to_string()),
                ("pool", pool),
                ("free", &free_gib.to_string()),
            ],
        ),
        DiskNotChosen => gettext("Choose the existing disk image."),
        NetworkNotChosen => gettext("Choose a network for the machine."),
        BridgeMissing(name) => gettext_f(
            // Translators: {name} is a network bridge such as br0.
            "The host has no bridge called “{name}”.",
            &[("name", name)],
        ),
        VirtualNetworkMissing(name) => gettext_f(
            // Translators: {name} is a libvirt virtual network.
            "This connection has no virtual network called “{name}”.",
            &[("name", name)],
        ),
        UefiWithoutOvmf => gettext(
            "UEFI firmware was chosen, but OVMF (the UEFI firmware for virtual machines) is not installed on the host.",
        ),
    }
}

pub(super) fn warning_text(warning: &SpecWarning) -> String {
    match warning {
        SpecWarning::MemoryOverFree { requested, free } => gettext_f(
            // Translators: {requested} and {free} are amounts in MiB.
            "{requested} MiB of memory is more than the host has free now ({free} MiB); the host may swap or refuse to start the machine.",
            &[("requested", &requested.to_string()), ("free", &free.to_string())],
        ),
    }
}
