//! Process CPU time and memory from `/proc`, the machine's description, and percentiles.

use std::time::Duration;

/// `/proc` reports CPU times in USER_HZ ticks, fixed at 100 per second on Linux.
const TICKS_PER_SECOND: u64 = 100;

/// User + system CPU time of a process (`self` or a pid), and of its waited-for children when
/// `with_children`.
pub fn cpu_time(pid: &str, with_children: bool) -> Option<Duration> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name may hold spaces; fields are counted after its closing parenthesis.
    let rest = &stat[stat.rfind(')')? + 2..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    // Field 14 (utime) is index 11 after the name and state; then stime, cutime, cstime.
    let n = |i: usize| {
        fields
            .get(i)
            .and_then(|f| f.parse::<u64>().ok())
            .unwrap_or(0)
    };
    let mut ticks = n(11) + n(12);
    if with_children {
        ticks += n(13) + n(14);
    }
    Some(Duration::from_millis(ticks * 1000 / TICKS_PER_SECOND))
}

/// This process's CPU time.
pub fn self_cpu() -> Duration {
    cpu_time("self", false).unwrap_or_default()
}

/// CPU time of every process named `postgres` (the server's backends, plus what the postmaster
/// collected from backends that exited). The whole server: other users' work counts too.
pub fn postgres_cpu() -> Duration {
    let mut total = Duration::ZERO;
    let Ok(dir) = std::fs::read_dir("/proc") else {
        return total;
    };
    for entry in dir.flatten() {
        let name = entry.file_name();
        let Some(pid) = name
            .to_str()
            .filter(|s| s.chars().all(|c| c.is_ascii_digit()))
        else {
            continue;
        };
        let comm = std::fs::read_to_string(format!("/proc/{pid}/comm")).unwrap_or_default();
        if comm.trim() == "postgres" {
            total += cpu_time(pid, true).unwrap_or_default();
        }
    }
    total
}

/// A `/proc/self/status` field in KiB (`VmHWM`, `VmRSS`).
pub fn status_kib(field: &str) -> Option<u64> {
    std::fs::read_to_string("/proc/self/status")
        .ok()?
        .lines()
        .find_map(|l| l.strip_prefix(field)?.strip_prefix(':'))
        .and_then(|v| v.split_whitespace().next()?.parse().ok())
}

/// A `/proc/<pid>/status` field in KiB, for another process.
pub fn status_kib_of(pid: u32, field: &str) -> Option<u64> {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()?
        .lines()
        .find_map(|l| l.strip_prefix(field)?.strip_prefix(':'))
        .and_then(|v| v.split_whitespace().next()?.parse().ok())
}

/// Resets this process's peak resident set (`VmHWM`) to its current size, so a later reading
/// is the peak of what came after. Returns whether the kernel allowed it.
pub fn reset_peak_memory() -> bool {
    std::fs::write("/proc/self/clear_refs", "5").is_ok()
}

/// Mebibytes, one decimal.
pub fn mib(kib: u64) -> String {
    format!("{:.1} MiB", kib as f64 / 1024.0)
}

/// The 1-, 5- and 15-minute load averages.
pub fn loadavg() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|s| s.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|_| "?".into())
}

/// The machine, the compiler and the time, for the report.
pub fn machine() -> Vec<(&'static str, String)> {
    let cpus = std::thread::available_parallelism().map_or(0, |n| n.get());
    let model = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("model name")?.split(':').nth(1))
                .map(|m| m.trim().to_owned())
        })
        .unwrap_or_else(|| "?".into());
    let mem = std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("MemTotal:"))
                .and_then(|v| v.split_whitespace().next()?.parse::<u64>().ok())
        })
        .map_or_else(
            || "?".into(),
            |kib| format!("{:.1} GiB", kib as f64 / 1048576.0),
        );
    let rustc = std::process::Command::new("rustc")
        .arg("--version")
        .output()
        .ok()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
        .unwrap_or_else(|| "?".into());
    vec![
        (
            "date (UTC)",
            chrono::Utc::now().format("%Y-%m-%d %H:%M").to_string(),
        ),
        ("CPUs (nproc)", format!("{cpus} × {model}")),
        ("memory", mem),
        ("rustc", rustc),
        (
            "profile",
            if cfg!(debug_assertions) {
                "debug (not for numbers!)"
            } else {
                "release"
            }
            .into(),
        ),
        ("load average at start", loadavg()),
    ]
}

/// Prints the machine block.
pub fn print_machine() {
    super::heading("machine");
    for (k, v) in machine() {
        super::line(k, v);
    }
}

/// The `p`-th percentile (0–100) of sorted samples, nearest rank.
pub fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

/// Milliseconds with two decimals.
pub fn ms(d: Duration) -> String {
    format!("{:.2} ms", d.as_secs_f64() * 1000.0)
}

/// The whole machine's CPU time from `/proc/stat`, all CPUs together: (busy, total). Busy is
/// user, nice, system, irq, softirq and steal; total adds idle and iowait.
pub fn machine_cpu() -> (Duration, Duration) {
    let Some(fields) = std::fs::read_to_string("/proc/stat").ok().and_then(|s| {
        s.lines().next().map(|l| {
            l.split_whitespace()
                .skip(1)
                .map(|f| f.parse::<u64>().unwrap_or(0))
                .collect::<Vec<_>>()
        })
    }) else {
        return (Duration::ZERO, Duration::ZERO);
    };
    let n = |i: usize| fields.get(i).copied().unwrap_or(0);
    // user nice system idle iowait irq softirq steal (guest time is inside user already).
    let busy = n(0) + n(1) + n(2) + n(5) + n(6) + n(7);
    let total = busy + n(3) + n(4);
    let d = |ticks: u64| Duration::from_millis(ticks * 1000 / TICKS_PER_SECOND);
    (d(busy), d(total))
}

/// CPU time of each of these processes now (those that have exited are left out).
pub fn cpu_of(pids: &[i32]) -> std::collections::BTreeMap<i32, Duration> {
    pids.iter()
        .filter_map(|&pid| Some((pid, cpu_time(&pid.to_string(), false)?)))
        .collect()
}
