//! Whether NetworkManager manages a NIC. Bridging such a NIC behind NetworkManager's back
//! would be undone by it; doing it through NetworkManager (with a checkpoint) is not
//! implemented yet, so such NICs are refused with [`super::NetError::NetworkManager`].

use super::runner::find_program;
use super::Runner;

/// Whether NetworkManager manages `nic`. NetworkManager only works in the host's network
/// namespace; when `nmcli` is missing or NetworkManager is not running, nothing is
/// managed.
pub fn manages(runner: &Runner, nic: &str) -> bool {
    if runner.netns().is_some() || find_program("nmcli").is_none() {
        return false;
    }
    let args = ["-t", "-f", "DEVICE,STATE", "device"].map(str::to_owned);
    match runner.run("nmcli", &args, None, false) {
        Ok(out) => managed_in(&out, nic),
        Err(e) => {
            tracing::debug!("nmcli: {e}");
            false
        }
    }
}

/// Whether `nmcli -t -f DEVICE,STATE device` output lists `nic` as managed (any state but
/// `unmanaged`). Terse output escapes `:` in names as `\:`.
pub fn managed_in(output: &str, nic: &str) -> bool {
    output.lines().any(|line| {
        let Some((device, state)) = line.rsplit_once(':') else {
            return false;
        };
        device.replace("\\:", ":") == nic && state != "unmanaged"
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nmcli_terse_output_is_read() {
        let out =
            "eth0:connected\nvirbr0:connected (externally)\nlo:unmanaged\nens3:disconnected\n";
        assert!(managed_in(out, "eth0"));
        assert!(managed_in(out, "ens3"));
        assert!(!managed_in(out, "lo"));
        assert!(!managed_in(out, "eth1"));
    }
}
